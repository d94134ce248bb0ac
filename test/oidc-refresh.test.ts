import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { generateSealedKeypair } from '../src/keys/keypair.js';
import type { OidcConfig } from '../src/oidc/providers.js';
import type { RefreshResult } from '../src/oidc/types.js';
import { start } from './support/start.js';
import { connectTestClient, createTestDatabase, startTestWorker, type TestDatabase, type TestWorker } from './support/env.js';

type Behaviour = 'ok' | 'fail' | 'hang' | 'lie' | 'leak' | 'missing' | 'flaky';

/** Local identity providers: one path each, whose behaviour a test switches between runs. */
class Providers {
  behaviour = new Map<string, Behaviour>();
  requests = new Map<string, Array<{ at: number; ifNoneMatch?: string }>>();
  jwks = new Map<string, { keys: Array<Record<string, unknown>> }>();
  private flakyLeft = new Map<string, number>();
  private server!: Server;
  private hanging: ServerResponse[] = [];
  base = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  set(name: string, behaviour: Behaviour, flakyFailures = 2): void {
    this.behaviour.set(name, behaviour);
    this.flakyLeft.set(name, flakyFailures);
  }

  uri(name: string): string {
    return `${this.base}/${name}/jwks.json`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const name = req.url!.split('/')[1]!;
    const log = this.requests.get(name) ?? [];
    log.push({ at: Date.now(), ifNoneMatch: req.headers['if-none-match'] });
    this.requests.set(name, log);
    let b = this.behaviour.get(name) ?? 'missing';
    if (b === 'flaky') b = (this.flakyLeft.set(name, this.flakyLeft.get(name)! - 1).get(name)! >= 0 ? 'fail' : 'ok');
    const jwks = this.jwks.get(name)!;
    const etag = `"${name}-${jwks?.keys.length}"`;
    switch (b) {
      case 'ok':
        if (req.headers['if-none-match'] === etag) res.writeHead(304, { etag }).end();
        else res.writeHead(200, { 'content-type': 'application/json', etag }).end(JSON.stringify(jwks));
        return;
      case 'fail':
        res.writeHead(503).end('upstream unavailable');
        return;
      case 'hang':
        this.hanging.push(res); // accept, never answer
        return;
      case 'lie':
        res.writeHead(200, { 'content-type': 'application/json' }).end('<html>Sign in to continue</html>');
        return;
      case 'leak':
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [{ ...jwks.keys[0], d: 'private-part' }] }));
        return;
      case 'missing':
        res.writeHead(404).end();
    }
  }
}

const NAMES = ['good', 'flaky', 'down', 'hangs', 'lies', 'leaks', 'gone'];
let client: Client;
let db: TestDatabase;
let worker: TestWorker;
const providers = new Providers();

async function refresh(params?: { provider?: string[] }): Promise<RefreshResult> {
  const { handle } = await start(client, { job: 'refresh-jwks', params: params?.provider ? { providers: params.provider } : {}, taskQueue: worker.taskQueue, trigger: 'test' });
  return (await handle.result()) as RefreshResult;
}

async function cached(): Promise<Record<string, { keys: number; etag: string | null; error: string | null; kid: string | null }>> {
  const { rows } = await db.pool.query(
    `SELECT name, jsonb_array_length(last_good_jwks->'keys') AS keys, last_good_jwks->'keys'->0->>'kid' AS kid, etag, last_error FROM oidc_provider`,
  );
  return Object.fromEntries(rows.map((r) => [r.name, { keys: r.keys, etag: r.etag, error: r.last_error, kid: r.kid }]));
}

beforeAll(async () => {
  await providers.start();
  for (const name of NAMES) {
    const { publicJwk } = await generateSealedKeypair('ES256', Buffer.alloc(32, 1));
    providers.jwks.set(name, { keys: [{ ...publicJwk, kid: `${name}-1` }] });
    providers.set(name, 'ok');
  }
  const oidc: OidcConfig = { providers: NAMES.map((name) => ({ name, jwksUri: providers.uri(name) })), timeoutMs: 500, attempts: 3, retryInitialMs: 200 };
  client = await connectTestClient();
  db = await createTestDatabase();
  worker = await startTestWorker(db, { oidc });
});
afterAll(async () => {
  await worker.stop();
  await providers.stop();
  await client.connection.close();
  await db.close();
});

it('fetches every provider, then keeps the last good copy of those that fail, hang or lie, and reports them', async () => {
  const first = await refresh();
  expect(first.failed).toEqual([]);
  expect(first.providers.map((p) => p.status)).toEqual(NAMES.map(() => 'updated'));
  const before = await cached();
  for (const name of NAMES) expect(before[name]).toEqual({ keys: 1, etag: `"${name}-1"`, error: null, kid: `${name}-1` });

  providers.set('flaky', 'flaky', 2);
  providers.set('down', 'fail');
  providers.set('hangs', 'hang');
  providers.set('lies', 'lie');
  providers.set('leaks', 'leak');
  providers.set('gone', 'missing');
  for (const name of NAMES) providers.requests.set(name, []);
  const second = await refresh();

  const byName = Object.fromEntries(second.providers.map((p) => [p.name, p]));
  expect(second.failed.sort()).toEqual(['down', 'gone', 'hangs', 'leaks', 'lies']);
  // Unchanged upstream: a conditional request, answered 304. Flaky: two 503s, then the 304.
  expect(byName.good).toMatchObject({ status: 'not-modified', keys: 1, lastGoodKept: true });
  expect(providers.requests.get('good')).toEqual([{ at: expect.any(Number), ifNoneMatch: '"good-1"' }]);
  expect(byName.flaky).toMatchObject({ status: 'not-modified', keys: 1 });
  expect(providers.requests.get('flaky')).toHaveLength(3);
  expect(byName.down!.error).toMatch(/HTTP 503 from http:\/\/127\.0\.0\.1:\d+\/down\/jwks\.json/);
  expect(byName.hangs!.error).toMatch(/no complete answer from .* within 500 ms/);
  expect(byName.lies!.error).toMatch(/not a valid JWKS: the body is not JSON/);
  expect(byName.leaks!.error).toMatch(/keys\[0\] carries private or symmetric key material \("d"\)/);
  expect(byName.gone!.error).toMatch(/HTTP 404/);
  for (const name of ['down', 'hangs', 'lies', 'leaks', 'gone']) expect(byName[name]).toMatchObject({ status: 'failed', lastGoodKept: true });

  // Retries with backoff for what may pass (3 attempts, 200 ms then 400 ms apart); none for a 404.
  for (const name of ['down', 'hangs', 'lies', 'leaks']) {
    const at = providers.requests.get(name)!.map((r) => r.at);
    expect(at, name).toHaveLength(3);
    expect(at[1]! - at[0]!, name).toBeGreaterThanOrEqual(200);
    expect(at[2]! - at[1]!, name).toBeGreaterThanOrEqual(400);
  }
  expect(providers.requests.get('gone')).toHaveLength(1);
  // One provider hanging does not hold the others back: all ran side by side. Told by when each provider was first
  // asked, not by a wall-clock bound a busy machine can break: one after another, each of the four that retry
  // would push the next one's first request back by at least its 600 ms of backoff.
  const firsts = [...providers.requests.values()].map((r) => r[0]!.at);
  expect(Math.max(...firsts) - Math.min(...firsts)).toBeLessThan(1_500);

  // The last good copies are intact; the failures are recorded per provider.
  const after = await cached();
  for (const name of NAMES) expect(after[name]!.kid).toBe(`${name}-1`);
  expect(after.down!.error).toMatch(/HTTP 503/);
  expect(after.good!.error).toBeNull();

  const { rows } = await db.pool.query(`SELECT job, status, error, children_deleted FROM maintenance_run WHERE job = 'refresh-jwks' ORDER BY started_at`);
  expect(rows.at(-1)).toMatchObject({ status: 'completed', error: 'failed providers: down, hangs, lies, leaks, gone', children_deleted: { failed: 5, notModified: 2, updated: 0 } });
});

it('takes new keys when a provider rotates, and can refresh a chosen provider only', async () => {
  providers.set('good', 'ok');
  const { publicJwk } = await generateSealedKeypair('EdDSA', Buffer.alloc(32, 2));
  providers.jwks.set('good', { keys: [...providers.jwks.get('good')!.keys, { ...publicJwk, kid: 'good-2' }] });
  providers.requests.set('down', []);
  const r = await refresh({ provider: ['good'] });
  expect(r.providers).toEqual([{ name: 'good', status: 'updated', keys: 2, error: null, lastGoodKept: false }]);
  expect(providers.requests.get('down')).toEqual([]);
  expect((await cached()).good).toMatchObject({ keys: 2, etag: '"good-2"' });
});

it('an unknown provider fails the run before any fetch, naming the configured ones', async () => {
  for (const name of NAMES) providers.requests.set(name, []);
  const err = await refresh({ provider: ['good', 'nobody'] }).catch((e: WorkflowFailedError) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect((err as WorkflowFailedError).cause?.message).toBe(`providers: unknown provider "nobody"; configured: ${NAMES.join(', ')}`);
  for (const name of NAMES) expect(providers.requests.get(name)).toEqual([]);
});
