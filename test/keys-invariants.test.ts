import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, exportJWK, importPKCS8 } from 'jose';
import type { Client } from '@temporalio/client';
import { dbFromPool } from '../src/db/query.js';
import { openPrivateKey } from '../src/keys/crypto.js';
import { verifyWithJwks } from '../src/keys/keypair.js';
import { startJwksServer, type JwksServer } from '../src/keys/server.js';
import type { Jwks } from '../src/keys/store.js';
import type { KeyAlg, RetirementResult, RotationResult } from '../src/keys/types.js';
import { createLogger } from '../src/logger.js';
import { connectTestClient, createTestDatabase, startTestWorker, testLogger, until, type TestDatabase, type TestWorker, type TestWorkerOptions } from './support/env.js';
import { keyRows, rotate, rotateAndWait, signWithActive, testKeys } from './support/keys.js';

let client: Client;
beforeAll(async () => {
  client = await connectTestClient();
});
afterAll(async () => {
  await client.connection.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withEnv<T>(opts: TestWorkerOptions & { keys: ReturnType<typeof testKeys> }, fn: (db: TestDatabase, worker: TestWorker) => Promise<T>): Promise<T> {
  const db = await createTestDatabase();
  const worker = await startTestWorker(db, opts);
  try {
    return await fn(db, worker);
  } finally {
    await worker.stop();
    await db.close();
  }
}

describe('at every instant exactly one signing key', () => {
  it('readers polling throughout a rotation (including inside the activation transaction) always see one active key', async () => {
    const window = { inside: false, samplesInside: 0 };
    const keys = testKeys();
    await withEnv(
      {
        keys,
        faults: {
          // Hold the activation transaction open between demoting the old key and promoting the new one.
          duringActivate: async () => {
            window.inside = true;
            await sleep(400);
            window.inside = false;
          },
        },
      },
      async (db, worker) => {
        await rotateAndWait(client, worker.taskQueue);
        const seen = new Map<number, number>();
        let sampling = true;
        const sampler = (async () => {
          while (sampling) {
            const inside = window.inside;
            const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM signing_key WHERE state = 'active'`);
            seen.set(rows[0].n, (seen.get(rows[0].n) ?? 0) + 1);
            if (inside && window.inside) window.samplesInside += 1;
          }
        })();
        const result = await rotateAndWait(client, worker.taskQueue, { force: true });
        sampling = false;
        await sampler;
        expect(result.status).toBe('rotated');
        expect([...seen.keys()]).toEqual([1]);
        expect(seen.get(1)).toBeGreaterThan(20);
        // The sampler was looking while the transaction stood between the two updates.
        expect(window.samplesInside).toBeGreaterThan(0);
      },
    );
  });

  it('the database refuses a second active key or a second incoming key whoever writes them', async () => {
    const keys = testKeys();
    await withEnv({ keys }, async (db, worker) => {
      await rotateAndWait(client, worker.taskQueue);
      const insert = (state: string) =>
        db.pool.query(`INSERT INTO signing_key (kid, alg, state, public_jwk) VALUES ($1, 'ES256', $2, '{}')`, [`manual-${state}-${Math.random()}`, state]);
      await expect(insert('active')).rejects.toThrow(/signing_key_one_active/);
      await insert('pending');
      await expect(insert('published')).rejects.toThrow(/signing_key_one_next/);
      await expect(insert('current')).rejects.toThrow(/signing_key_state_check/);
    });
  });
});

/** A verifier as the JWKS server tells it to behave: fetch, keep for Cache-Control max-age, fetch again. */
class CachingVerifier {
  private jwks?: Jwks;
  private fetchedAt = 0;
  private maxAgeMs = 0;
  fetches = 0;
  constructor(private readonly url: string) {}

  async refresh(): Promise<void> {
    const res = await fetch(this.url);
    this.jwks = (await res.json()) as Jwks;
    this.maxAgeMs = Number(/max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '')?.[1] ?? 0) * 1000;
    this.fetchedAt = Date.now();
    this.fetches += 1;
  }

  async refreshIfStale(): Promise<void> {
    if (!this.jwks || Date.now() - this.fetchedAt >= this.maxAgeMs) await this.refresh();
  }

  /**
   * Verifies with the cached JWKS as of `at`, a moment after the last refresh check: "at `at`, holding this cache,
   * can it verify this token?" (on a busy machine checking many tokens takes a while; time must not run on).
   */
  async verify(token: string, at: Date): Promise<void> {
    await verifyWithJwks(token, this.jwks!, { currentDate: at });
  }
}

interface Traffic {
  byKid: Map<string, number>;
  failures: string[];
  stop(): Promise<void>;
}

/**
 * An application issuing a token with the current signing key every 50 ms; every verifier re-checks every
 * unexpired token on each tick.
 */
function startTraffic(db: TestDatabase, kek: Buffer, verifiers: CachingVerifier[], ttlSeconds: number): Traffic {
  const issued: Array<{ token: string; kid: string; expMs: number }> = [];
  const t: Traffic & { running: boolean; loop?: Promise<void> } = { byKid: new Map(), failures: [], running: true, stop: async () => undefined };
  t.loop = (async () => {
    while (t.running) {
      const { token, kid } = await signWithActive(db, kek, ttlSeconds);
      issued.push({ token, kid, expMs: decodeJwt(token).exp! * 1000 });
      t.byKid.set(kid, (t.byKid.get(kid) ?? 0) + 1);
      for (const verifier of verifiers) await verifier.refreshIfStale();
      const at = new Date();
      for (const tok of issued) {
        if (at.getTime() > tok.expMs - 100) continue; // expired (or about to): rejecting it is right
        for (const verifier of verifiers) {
          await verifier.verify(tok.token, at).catch((err: { code?: string }) => t.failures.push(`${tok.kid.slice(0, 8)}: ${err.code ?? String(err)}`));
        }
      }
      await sleep(50);
    }
  })();
  t.stop = async () => {
    t.running = false;
    await t.loop;
  };
  return t;
}

describe('a verifier that refreshes the JWKS at its cache lifetime', () => {
  let server: JwksServer | undefined;
  afterAll(async () => {
    await server?.close();
  });

  it('never sees a token whose key it lacks, across a rotation and the old key leaving the JWKS', async () => {
    const keys = testKeys({ jwksCacheSeconds: 2, maxTokenLifetimeSeconds: 2, retentionSeconds: 60 });
    await withEnv({ keys }, async (db, worker) => {
      server = await startJwksServer({ db: dbFromPool(db.pool), port: 0, cacheSeconds: keys.policy.jwksCacheSeconds, logger: testLogger });
      const first = await rotateAndWait(client, worker.taskQueue);
      // Verifiers whose refreshes are spread over the cache lifetime: whenever a key appears or leaves the JWKS,
      // one of them has just refreshed and another is about to, so a key published late or withdrawn early shows.
      const cacheMs = keys.policy.jwksCacheSeconds * 1000;
      const verifiers = [0, 1, 2, 3].map(() => new CachingVerifier(server!.url));
      for (const v of verifiers) {
        await v.refresh();
        await sleep(cacheMs / verifiers.length);
      }
      const traffic = startTraffic(db, keys.kek, verifiers, keys.policy.maxTokenLifetimeSeconds);
      try {
        const second = await rotateAndWait(client, worker.taskQueue, { force: true });
        // Run on until the old key has left the JWKS and the verifier has refreshed past that.
        await until(async () => (await db.pool.query(`SELECT 1 FROM signing_key WHERE kid = $1 AND state = 'inactive'`, [first.kid])).rowCount, 'the old key withdrawn', 30_000);
        await sleep(keys.policy.jwksCacheSeconds * 1000 + 500);
        await traffic.stop();
        expect(traffic.failures).toEqual([]);
        expect(traffic.byKid.get(first.kid!)).toBeGreaterThan(5);
        expect(traffic.byKid.get(second.kid!)).toBeGreaterThan(5);
        for (const v of verifiers) expect(v.fetches).toBeGreaterThanOrEqual(3);
      } finally {
        await traffic.stop();
        await server.close();
        server = undefined;
      }
    });
  });

  it('control: with a propagation wait shorter than the cache lifetime, the same verifier does fail', async () => {
    // The harness above must be able to see a violation: skip the wait while verifiers cache for 3 s.
    const keys = testKeys({ jwksCacheSeconds: 3, maxTokenLifetimeSeconds: 2 });
    await withEnv({ keys }, async (db, worker) => {
      server = await startJwksServer({ db: dbFromPool(db.pool), port: 0, cacheSeconds: 3, logger: testLogger });
      await rotateAndWait(client, worker.taskQueue);
      const verifier = new CachingVerifier(server.url);
      await verifier.refresh();
      const traffic = startTraffic(db, keys.kek, [verifier], 2);
      try {
        const second = await rotateAndWait(client, worker.taskQueue, { force: true, jwksCacheSeconds: 0 });
        await sleep(1000);
        await traffic.stop();
        expect(traffic.failures.length).toBeGreaterThan(0);
        expect(traffic.failures[0]).toBe(`${second.kid!.slice(0, 8)}: ERR_JWKS_NO_MATCHING_KEY`);
      } finally {
        await traffic.stop();
        await server.close();
        server = undefined;
      }
    });
  });
});

/** Every string in a workflow history, with payloads decoded (they are JSON bytes). */
function historyText(node: unknown, out: string[] = []): string[] {
  if (node instanceof Uint8Array) out.push(Buffer.from(node).toString('utf8'));
  else if (typeof node === 'string') out.push(node);
  else if (Array.isArray(node)) node.forEach((n) => historyText(n, out));
  else if (node && typeof node === 'object') Object.values(node).forEach((n) => historyText(n, out));
  return out;
}

describe('private key material', () => {
  it('never appears in workflow histories, logs, errors or audit records', async () => {
    const logLines: string[] = [];
    const logger = createLogger({ level: 'trace', destination: { write: (s: string) => void logLines.push(s) } });
    const keys = testKeys({ alg: 'RS256' });
    const secrets = new Set<string>([keys.kek.toString('base64'), keys.kek.toString('base64url'), keys.kek.toString('hex')]);
    let tamper = false;
    let db!: TestDatabase;
    const faults: TestWorkerOptions['faults'] = {
      // Capture each key's secrets as soon as it exists, to look for them everywhere afterwards.
      afterKeyStep: async ({ step, kid }) => {
        if (step !== 'generate') return;
        const { rows } = await db.pool.query(`SELECT alg, private_key_enc FROM signing_key WHERE kid = $1`, [kid]);
        const pem = openPrivateKey(rows[0].private_key_enc, keys.kek, kid);
        const jwk = await exportJWK(await importPKCS8(pem, rows[0].alg as KeyAlg, { extractable: true }));
        secrets.add(rows[0].private_key_enc);
        secrets.add(jwk.d!);
        for (const line of pem.split('\n').filter((l) => l && !l.startsWith('-----'))) secrets.add(line);
        // The failure path too: the next key gets another key's ciphertext and fails its test.
        if (tamper) await db.pool.query(`UPDATE signing_key SET private_key_enc = 'v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' WHERE kid = $1`, [kid]);
      },
    };
    db = await createTestDatabase();
    const worker = await startTestWorker(db, { keys, faults, logger });
    try {
      const first = await rotateAndWait(client, worker.taskQueue);
      const second = await rotateAndWait(client, worker.taskQueue, { force: true, alg: 'EdDSA' });
      await client.workflow.getHandle(second.retirementWorkflowId!).result();
      tamper = true;
      const { handle: failing } = await rotate(client, worker.taskQueue, { force: true, alg: 'ES256' });
      const failure = await failing.result().catch((err: Error) => err);
      expect(failure).toBeInstanceOf(Error);
      expect(secrets.size).toBeGreaterThan(3 + 3 * 2);

      // Three rotations and one retirement (visibility may lag a moment behind).
      const runs = await until(async () => {
        const found: Array<{ workflowId: string; runId: string }> = [];
        for await (const wf of client.workflow.list({ query: `TaskQueue = '${worker.taskQueue}'` })) found.push(wf);
        return found.length === 4 ? found : undefined;
      }, 'four workflows listed');
      const histories: string[] = [];
      for (const wf of runs) histories.push(historyText(await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory()).join('\n'));
      const { rows: audit } = await db.pool.query(`SELECT * FROM maintenance_run`);
      const places: Record<string, string> = {
        histories: histories.join('\n'),
        logs: logLines.join(''),
        error: `${(failure as Error).message}\n${((failure as Error).cause as Error | undefined)?.message}`,
        audit: JSON.stringify(audit),
      };
      // The decoding works (key ids and messages are there), so an absence below means something.
      expect(places.histories).toContain(first.kid);
      expect(places.logs).toContain(second.kid);
      expect(places.error).toMatch(/failed its test/);
      for (const [where, text] of Object.entries(places)) {
        expect(text, where).not.toMatch(/-----BEGIN|PRIVATE KEY|"d"\s*:/);
        for (const s of secrets) expect(text.includes(s), `${where} contains secret material`).toBe(false);
      }
      const retired = (await client.workflow.getHandle(second.retirementWorkflowId!).result()) as RetirementResult;
      expect((await keyRows(db)).find((r) => r.kid === retired.kid)?.has_private).toBe(false);
      expect((first as RotationResult).status).toBe('rotated');
    } finally {
      await worker.stop();
      await db.close();
    }
  });
});
