import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Client } from '@temporalio/client';
import { freePort } from '../src/local/ports.js';
import { connectTestClient, createTestDatabase, seedBulk, startTestWorker, uniqueName, until, type TestDatabase, type TestWorker, workflowsOnQueue } from './support/env.js';
import { maint } from './support/cli.js';
import { dbFromOrm } from '../src/orm/index.js';
import { Catalogue } from '../src/catalogue/index.js';
import { parsePurgeParams } from '../src/purge/params.js';
import { backlogOf, resolveSteps } from '../activities/purge/resolve.js';
import { testKeys } from './support/keys.js';

let client: Client;
let db: TestDatabase;
let worker: TestWorker;
let env: Record<string, string>;

beforeAll(async () => {
  client = await connectTestClient();
  db = await createTestDatabase();
  // Operators' rotations use the fixed workflow id: this file is the only one that does, on its own queue.
  worker = await startTestWorker(db, { keys: testKeys({ jwksCacheSeconds: 5, maxTokenLifetimeSeconds: 600, alg: 'RS256' }) });
  env = { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: worker.taskQueue, DATABASE_URL: db.url };
});
afterAll(async () => {
  await worker.stop();
  await client.connection.close();
  await db.close();
});

const onQueue = () => workflowsOnQueue(client, worker.taskQueue);

describe('maint keys, report and the non-purge jobs', () => {
  it.each([
    [['keys', 'rotate', '--alg', 'HS256'], /--alg: "HS256" is not allowed; expected one of RS256, ES256, EdDSA/],
    [['run', 'scopes', '--batch-size', '5'], /--batch-size: not accepted by scopes; accepted by: purge-expired-tokens/],
    [['run', 'refresh-jwks', '--dry-run'], /--dry-run: not accepted by refresh-jwks; accepted by: purge-expired-tokens, .*, keypair-cleanup, scopes$/m],
    [['run', 'rotate-keys'], /job: unknown job "rotate-keys"; allowed: purge-expired-tokens, .*, keypair-cleanup, scopes, refresh-jwks$/m],
    [['keys', 'serve', '--cache-seconds', 'soon'], /--cache-seconds: "soon" is not allowed; expected an integer from 0 to 604800/],
  ])('rejects %j with a clear error and starts nothing', async (args, message) => {
    const before = await onQueue();
    const r = await maint(args, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(await onQueue()).toBe(before);
  });

  it('rotates with --wait, joins a running rotation, lists the keys and prints the JWKS', async () => {
    const first = await maint(['keys', 'rotate', '--wait'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/status\s+rotated/);
    expect(first.stdout).toMatch(/reason\s+there is no signing key yet/);
    const kid1 = /new signing key\s+(\S+) \(RS256\)/.exec(first.stdout)![1]!;

    // Three requests at once: one starts the rotation, the others join it (the joiner's --alg is not applied).
    const three = await Promise.all([
      maint(['keys', 'rotate', '--force', '--json'], env),
      maint(['keys', 'rotate', '--force', '--alg', 'ES256', '--json'], env),
      maint(['keys', 'rotate', '--force', '--wait', '--json'], env),
    ]);
    const answers = three.map((r) => JSON.parse(r.stdout));
    expect(answers.map((a) => a.workflowId)).toEqual(['maint-key-rotation', 'maint-key-rotation', 'maint-key-rotation']);
    expect(answers.filter((a) => !a.joined)).toHaveLength(1);
    expect(new Set(answers.map((a) => a.runId)).size).toBe(1);
    const waited = answers[2];
    expect(waited).toMatchObject({ status: 'rotated', previousKid: kid1 });
    // Whichever request started it, the key's algorithm is the starter's: RS256 unless the --alg ES256 one won.
    expect(waited.alg).toBe(answers[1].joined ? 'RS256' : 'ES256');

    const list = await maint(['keys', 'list'], env);
    expect(list.stdout).toMatch(new RegExp(`${waited.kid}\\s+${waited.alg}\\s+active`));
    expect(list.stdout).toMatch(new RegExp(`${kid1}\\s+RS256\\s+retired`));
    const rows = JSON.parse((await maint(['keys', 'list', '--json'], env)).stdout);
    expect(rows.map((r: { state: string }) => r.state)).toEqual(['active', 'retired']);

    const jwks = await maint(['keys', 'jwks'], env);
    const doc = JSON.parse(jwks.stdout);
    expect(doc.keys.map((k: { kid: string }) => k.kid)).toEqual([waited.kid, kid1]);
    expect(doc.keys.every((k: Record<string, unknown>) => (k.kty === 'RSA' || k.kty === 'EC') && !('d' in k))).toBe(true);
  });

  it('serves the JWKS read-only with Cache-Control and an ETag', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['bin/maint.mjs', 'keys', 'serve', '--port', String(port), '--cache-seconds', '120'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, MAINT_DATA_DIR: '/nonexistent-maint-data', LOG_LEVEL: 'silent', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    try {
      await until(async () => out.includes('serving'), 'the JWKS server', 30_000);
      const url = `http://127.0.0.1:${port}/.well-known/jwks.json`;
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=120');
      expect(res.headers.get('content-type')).toBe('application/jwk-set+json');
      const etag = res.headers.get('etag')!;
      expect((await res.json()).keys.length).toBeGreaterThan(0);
      expect((await fetch(url, { headers: { 'if-none-match': etag } })).status).toBe(304);
      const post = await fetch(url, { method: 'POST', body: '{}' });
      expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
      expect((await fetch(`http://127.0.0.1:${port}/admin`)).status).toBe(404);
    } finally {
      child.kill('SIGINT');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
    }
  });

  it('runs scopes, keypair-cleanup and refresh-jwks, and prints the health report as a table and as JSON', async () => {
    const scopes = await maint(['run', 'scopes', '--wait'], env);
    expect(scopes.code, scopes.stderr).toBe(0);
    expect(scopes.stdout).toMatch(/base\s+created/);
    expect(scopes.stdout).toMatch(/admin\s+created/);

    const cleanup = await maint(['run', 'keypair-cleanup', '--dry-run', '--wait'], env);
    expect(cleanup.code, cleanup.stderr).toBe(0);
    expect(cleanup.stdout).toMatch(/dry run: nothing changed/);
    expect(cleanup.stdout).toMatch(/kept \(retired\)\s+in the JWKS until/);

    const refresh = await maint(['run', 'refresh-jwks', '--wait'], env);
    expect(refresh.code, refresh.stderr).toBe(0);
    expect(refresh.stdout).toContain('no OIDC providers configured (OIDC_PROVIDERS)');

    const report = await maint(['report'], env);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toMatch(/^status: OK/);
    expect(report.stdout).toMatch(/signing\s+1\s+0\s+1\s+0\s+\S+\s+(RS256|ES256)\s/);
    expect(report.stdout).toMatch(/missing scopes\s+-/);
    const json = JSON.parse((await maint(['report', '--json'], env)).stdout);
    expect(json).toMatchObject({ status: 'ok', stats: { keys: { active: 1, retired: 1 }, scopes: { missing: [] } } });

    const runs = JSON.parse((await maint(['runs', '--json'], env)).stdout);
    expect(new Set(runs.map((r: { job: string }) => r.job))).toEqual(new Set(['key-rotation', 'scopes', 'keypair-cleanup', 'refresh-jwks', 'health-report']));
  });

  it('lists every job', async () => {
    const r = await maint(['jobs']);
    for (const job of ['purge-expired-tokens', 'keypair-cleanup', 'scopes', 'refresh-jwks']) expect(r.stdout).toMatch(new RegExp(`^${job}\\s`, 'm'));
  });

  it('runs a scheduled rotation under the one rotation id: it joins a running rotation and is joined by one', async () => {
    // What the weekly schedule's action starts (compiled from the catalogue; see schedules-config.test.ts). Last in
    // this file: it adds keys the earlier tests do not expect.
    const scheduled = (id: string) =>
      client.workflow.start('scheduledKeyRotation', { taskQueue: worker.taskQueue, workflowId: id, args: [{ params: { force: true, maxActiveKeys: 10 }, trigger: 'schedule:maint-key-rotation-weekly' }] });

    // An operator's rotation is running (it waits out the 5 s JWKS cache): the scheduled run joins it.
    const operator = JSON.parse((await maint(['keys', 'rotate', '--force', '--json'], env)).stdout);
    expect(operator).toMatchObject({ workflowId: 'maint-key-rotation', joined: false });
    const joining = await (await scheduled(uniqueName('scheduled-rotation'))).result();
    expect(joining).toEqual({ rotationWorkflowId: 'maint-key-rotation', joined: true, rotation: null });
    const operatorResult = await client.workflow.getHandle('maint-key-rotation', operator.runId).result();
    expect(operatorResult).toMatchObject({ status: 'rotated' });

    // Nothing running: the scheduled run starts the rotation under the rotation id, and `maint keys rotate` joins it.
    const run = await scheduled(uniqueName('scheduled-rotation'));
    const child = await until(async () => {
      const d = await client.workflow.getHandle('maint-key-rotation').describe();
      return d.runId !== operator.runId && d.status.name === 'RUNNING' ? d : undefined;
    }, 'the scheduled run to start the rotation', 20_000);
    const joiner = JSON.parse((await maint(['keys', 'rotate', '--json'], env)).stdout);
    expect(joiner).toEqual({ workflowId: 'maint-key-rotation', runId: child.runId, joined: true });
    // The rotation carries the search attributes every run has, with the schedule as its trigger.
    const attributes = Object.fromEntries(child.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value]));
    expect(attributes).toMatchObject({ MaintJob: 'key-rotation', MaintDryRun: false, MaintTrigger: 'schedule:maint-key-rotation-weekly' });
    const started = await run.result();
    expect(started).toMatchObject({ rotationWorkflowId: 'maint-key-rotation', joined: false, rotation: { status: 'rotated', previousKid: operatorResult.kid } });
  });
});

describe('maint init, status and keys create (seed: jwt_manage init, status, create-keypair)', () => {
  let fresh: TestDatabase;
  let freshWorker: TestWorker;
  let freshEnv: Record<string, string>;
  beforeAll(async () => {
    fresh = await createTestDatabase();
    freshWorker = await startTestWorker(fresh, { keys: testKeys({ jwksCacheSeconds: 5, maxTokenLifetimeSeconds: 600, alg: 'RS256' }) });
    freshEnv = { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: freshWorker.taskQueue, DATABASE_URL: fresh.url };
  });
  afterAll(async () => {
    await freshWorker.stop();
    await fresh.close();
  });

  it('init makes the first signing key and the scopes at once, and a second init changes nothing', async () => {
    const before = JSON.parse((await maint(['status', '--json'], freshEnv)).stdout);
    expect(before.keys).toMatchObject({ signing: null, rotationDueAt: null, standby: [] });
    expect((await maint(['status'], freshEnv)).stdout).toContain('signing key      none: run `maint init`');

    const first = await maint(['init', '--json'], freshEnv);
    expect(first.code, first.stderr).toBe(0);
    const made = JSON.parse(first.stdout);
    expect(made).toMatchObject({ key: { status: 'rotated', alg: 'RS256' }, scopes: { created: ['base', 'image_upload', 'event_management', 'admin'], existing: [] } });
    // No key ever signed, so there is no verifier cache to wait out (the worker's JWKS cache is 5 s here).
    expect(Date.parse(made.key.activatedAt) - Date.parse(made.key.publishedAt)).toBeLessThan(5_000);
    const kid = made.key.kid as string;

    const again = await maint(['init'], freshEnv);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`signing key ${kid} exists; no rotation started`);
    expect(again.stdout).toMatch(/created: -; already there: base, image_upload, event_management, admin/);
    expect(JSON.parse((await maint(['keys', 'list', '--json'], freshEnv)).stdout)).toHaveLength(1);

    const status = JSON.parse((await maint(['status', '--json'], freshEnv)).stdout);
    expect(status.keys.signing).toMatchObject({ kid, alg: 'RS256' });
    expect(Date.parse(status.keys.rotationDueAt) - Date.parse(status.keys.signing.activatedAt)).toBe(30 * 86_400_000);
    expect(status.lastRuns.map((r: { job: string; status: string }) => `${r.job}:${r.status}`).sort()).toEqual(['key-rotation:completed', 'scopes:completed']);
  });

  it("status shows each purge's backlog (estimated, or counted with --count) beside its last run", async () => {
    await fresh.pool.query('DELETE FROM blacklisted_token; DELETE FROM outstanding_token');
    await seedBulk(fresh, { expired: 300, valid: 40, cutoff: new Date(Date.now() - 60_000) });
    // Tables up to a million rows are counted: right after a bulk load the statistics do not know the rows.
    const loaded = JSON.parse((await maint(['status', '--json'], freshEnv)).stdout);
    expect(loaded.backlog['purge-expired-tokens']).toEqual({ rows: 300, counted: true });
    // Presets of apps whose tables are not in this database are left out, not shown as 0.
    expect(loaded.backlog).not.toHaveProperty('django-simplejwt-flush-expired');
    // Bigger ones are the planner's estimate (here: "bigger" than 100 rows), from fresh statistics near the 300.
    await fresh.pool.query('ANALYZE outstanding_token');
    const db = dbFromOrm(fresh.orm);
    const steps = await resolveSteps(db, new Catalogue().purge('purge-expired-tokens'), parsePurgeParams({}));
    const estimated = await backlogOf(db, steps, false, Date.now(), 100);
    expect(estimated.counted).toBe(false);
    expect(estimated.rows).toBeGreaterThan(200);
    expect(estimated.rows).toBeLessThan(400);
    expect(await backlogOf(db, steps, true, Date.now(), 100)).toEqual({ rows: 300, counted: true });
    const counted = await maint(['status', '--count'], freshEnv);
    expect(counted.code, counted.stderr).toBe(0);
    expect(counted.stdout).toMatch(/purge-expired-tokens\s+300\s+never/);

    const run = await maint(['run', 'purge-expired-tokens', '--wait', '--json'], freshEnv);
    expect(run.code, run.stderr).toBe(0);
    const after = JSON.parse((await maint(['status', '--json', '--count'], freshEnv)).stdout);
    expect(after.backlog['purge-expired-tokens']).toEqual({ rows: 0, counted: true });
    expect(after.lastRuns.find((r: { job: string }) => r.job === 'purge-expired-tokens')).toMatchObject({ status: 'completed', deleted: 300, trigger: 'cli' });
    expect((await maint(['status'], freshEnv)).stdout).toMatch(/purge-expired-tokens\s+0\s+completed\s+\S+\s+cli\s+300/);
  });

  it('keys create publishes a standby key that does not sign; the next rotation makes it the signing key', async () => {
    const signing = JSON.parse((await maint(['status', '--json'], freshEnv)).stdout).keys.signing.kid as string;
    const created = await maint(['keys', 'create', '--json'], freshEnv);
    expect(created.code, created.stderr).toBe(0);
    const standby = JSON.parse(created.stdout);
    expect(standby).toMatchObject({ status: 'standby', activatedAt: null });
    const jwks = JSON.parse((await maint(['keys', 'jwks'], freshEnv)).stdout);
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).toEqual([signing, standby.kid]);
    const status = JSON.parse((await maint(['status', '--json'], freshEnv)).stdout);
    expect(status.keys).toMatchObject({ signing: { kid: signing }, standby: [standby.kid] });
    expect((await maint(['status'], freshEnv)).stdout).toContain(`standby keys     ${standby.kid}`);

    const rotated = JSON.parse((await maint(['keys', 'rotate', '--force', '--wait', '--json'], freshEnv)).stdout);
    expect(rotated).toMatchObject({ status: 'rotated', kid: standby.kid, previousKid: signing });
  });
});
