import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { loadJwks } from '../src/keys/store.js';
import { dbFromPool } from '../src/db/query.js';
import type { RetirementResult, RotationProgress, RotationResult } from '../src/keys/types.js';
import { connectTestClient, createTestDatabase, startTestWorker, until, type TestWorkerOptions } from './support/env.js';
import { keyRows, rotate, rotateAndWait, signWithActive, statesByKid, testKeys } from './support/keys.js';

let client: Client;
beforeAll(async () => {
  client = await connectTestClient();
});
afterAll(async () => {
  await client.connection.close();
});

/** Each test gets its own database and worker (and so its own key table). */
async function setup(keys = testKeys(), faults?: TestWorkerOptions['faults']) {
  const db = await createTestDatabase();
  const worker = await startTestWorker(db, { keys, faults });
  return {
    db,
    worker,
    keys,
    jwksKids: async () => (await loadJwks(dbFromPool(db.pool))).keys.map((k) => k.kid as string),
    async close() {
      await worker.stop();
      await db.close();
    },
  };
}

describe('key rotation', () => {
  it('bootstraps a signing key, then rotates: the old key verifies until its tokens expire, then is withdrawn and deleted', async () => {
    const env = await setup();
    try {
      const first = await rotateAndWait(client, env.worker.taskQueue);
      expect(first).toMatchObject({ status: 'rotated', reason: 'there is no signing key yet', alg: 'ES256', previousKid: null, retirementWorkflowId: null });
      expect(await statesByKid(env.db)).toEqual({ [first.kid!]: 'active' });
      expect(await env.jwksKids()).toEqual([first.kid]);

      // Young key: a scheduled check does nothing; --force rotates anyway.
      const notDue = await rotateAndWait(client, env.worker.taskQueue);
      expect(notDue).toMatchObject({ status: 'not-due', kid: null });
      expect(notDue.reason).toMatch(/is due for rotation at/);
      const second = await rotateAndWait(client, env.worker.taskQueue, { force: true, alg: 'EdDSA' });
      expect(second).toMatchObject({ status: 'rotated', reason: 'forced', alg: 'EdDSA', previousKid: first.kid });
      expect(Date.parse(second.activatedAt!) - Date.parse(second.publishedAt!)).toBeGreaterThanOrEqual(1000); // the propagation wait
      expect(await statesByKid(env.db)).toEqual({ [first.kid!]: 'retired', [second.kid!]: 'active' });
      expect(await env.jwksKids()).toEqual([second.kid, first.kid]);

      // The retirement workflow withdraws the old key after the token lifetime and deletes it after the retention.
      const retirement = client.workflow.getHandle(second.retirementWorkflowId!);
      const retired = (await retirement.result()) as RetirementResult;
      expect(retired.kid).toBe(first.kid);
      expect(Date.parse(retired.withdrawnAt)).toBeGreaterThanOrEqual(Date.parse(second.tokensExpireBy!));
      expect(await env.jwksKids()).toEqual([second.kid]);
      const rows = await keyRows(env.db);
      expect(rows.map((r) => [r.kid, r.state, r.has_private])).toEqual([
        [first.kid, 'deleted', false],
        [second.kid, 'active', true],
      ]);
      const { rows: audit } = await env.db.pool.query(`SELECT job, status, trigger FROM maintenance_run ORDER BY started_at`);
      expect(audit.map((r) => `${r.job}:${r.status}`)).toEqual(['key-rotation:completed', 'key-rotation:completed', 'key-rotation:completed', 'key-retirement:completed']);
    } finally {
      await env.close();
    }
  });

  it('rotates when the signing key is older than rotateAfterSeconds', async () => {
    const env = await setup();
    try {
      const first = await rotateAndWait(client, env.worker.taskQueue);
      await env.db.pool.query(`UPDATE signing_key SET activated_at = now() - interval '2 hours' WHERE kid = $1`, [first.kid]);
      const second = await rotateAndWait(client, env.worker.taskQueue, { rotateAfterSeconds: 3600 });
      expect(second).toMatchObject({ status: 'rotated', previousKid: first.kid });
      expect(second.reason).toMatch(/older than 3600 s/);
    } finally {
      await env.close();
    }
  });

  it('a rotation started while one is running joins it: one new key, one result', async () => {
    const env = await setup(testKeys({ jwksCacheSeconds: 2 }));
    try {
      await rotateAndWait(client, env.worker.taskQueue);
      const id = `maint-key-rotation-join-${Date.now()}`;
      const a = await rotate(client, env.worker.taskQueue, { force: true }, id);
      const [b, c] = await Promise.all([rotate(client, env.worker.taskQueue, { force: true }, id), rotate(client, env.worker.taskQueue, { force: true, alg: 'RS256' }, id)]);
      expect(a.joined).toBe(false);
      expect([b.joined, c.joined]).toEqual([true, true]);
      expect(new Set([a.runId, b.runId, c.runId]).size).toBe(1);
      const [ra, rb] = (await Promise.all([a.handle.result(), b.handle.result()])) as RotationResult[];
      expect(ra).toEqual(rb);
      expect(ra!.alg).toBe('ES256'); // the joiner's parameters were not applied
      expect(Object.values(await statesByKid(env.db)).sort()).toEqual(['active', 'retired']);
    } finally {
      await env.close();
    }
  });

  it('a rotation terminated mid-way leaves its key published; the next rotation adopts it instead of making another', async () => {
    const env = await setup();
    try {
      const first = await rotateAndWait(client, env.worker.taskQueue);
      const { handle } = await rotate(client, env.worker.taskQueue, { force: true, jwksCacheSeconds: 60 });
      const progress = await until(async () => {
        const p = await handle.query<RotationProgress>('rotationProgress');
        return p.step === 'propagate' ? p : undefined;
      }, 'the propagation wait');
      await handle.terminate('operator gave up');
      expect(await statesByKid(env.db)).toEqual({ [first.kid!]: 'active', [progress.kid!]: 'published' });

      const next = await rotateAndWait(client, env.worker.taskQueue, { force: true });
      expect(next).toMatchObject({ status: 'rotated', kid: progress.kid, previousKid: first.kid });
      expect(await statesByKid(env.db)).toEqual({ [first.kid!]: 'retired', [progress.kid!]: 'active' });
    } finally {
      await env.close();
    }
  });

  it('refuses to rotate when the JWKS would hold more than maxActiveKeys, forced or not', async () => {
    const env = await setup(testKeys({ maxTokenLifetimeSeconds: 600 }));
    try {
      await rotateAndWait(client, env.worker.taskQueue);
      await rotateAndWait(client, env.worker.taskQueue, { force: true });
      const refused = await rotateAndWait(client, env.worker.taskQueue, { force: true, maxActiveKeys: 2 });
      expect(refused.status).toBe('refused');
      expect(refused.reason).toMatch(/would put 3 keys in the JWKS; at most 2 allowed \(MAX_ACTIVE_KEYS\)/);
      expect(Object.values(await statesByKid(env.db)).sort()).toEqual(['active', 'retired']);
    } finally {
      await env.close();
    }
  });

  it('keeps a retired key in the JWKS while an unexpired refresh token it signed is outstanding', async () => {
    const env = await setup();
    try {
      await rotateAndWait(client, env.worker.taskQueue);
      // A refresh token that outlives MAX_TOKEN_LIFETIME_SECONDS (1 s here): the table says which key signed it.
      const { token, kid: oldKid } = await signWithActive(env.db, env.keys.kek, 4);
      await env.db.pool.query(`INSERT INTO outstanding_token (jti, token, created_at, expires_at) VALUES ('long', $1, now(), now() + interval '4 seconds')`, [token]);
      const second = await rotateAndWait(client, env.worker.taskQueue, { force: true });
      const retirement = client.workflow.getHandle(second.retirementWorkflowId!);
      await until(async () => (await retirement.query<{ reason: string | null }>('retirementProgress')).reason, 'the retirement to wait for the token');
      expect((await retirement.query<{ reason: string }>('retirementProgress')).reason).toBe('1 unexpired refresh tokens were signed with it');
      expect(Date.now()).toBeGreaterThan(Date.parse(second.tokensExpireBy!));
      expect(await env.jwksKids()).toContain(oldKid);
      const done = (await retirement.result()) as RetirementResult;
      const { rows } = await env.db.pool.query(`SELECT expires_at FROM outstanding_token WHERE jti = 'long'`);
      expect(Date.parse(done.withdrawnAt)).toBeGreaterThanOrEqual(new Date(rows[0].expires_at).getTime());
    } finally {
      await env.close();
    }
  });

  it('a worker without MAINT_KEK fails the rotation saying so, before generating anything', async () => {
    const db = await createTestDatabase();
    const worker = await startTestWorker(db);
    try {
      const { handle } = await rotate(client, worker.taskQueue, { force: true });
      const err = await handle.result().catch((e: unknown) => e);
      expect((err as WorkflowFailedError).cause?.message).toBe('key rotation failed: MAINT_KEK is not set on the worker: private keys cannot be sealed or opened');
      expect(await keyRows(db)).toEqual([]);
      const { rows } = await db.pool.query(`SELECT job, status, error FROM maintenance_run`);
      expect(rows).toEqual([{ job: 'key-rotation', status: 'failed', error: 'MAINT_KEK is not set on the worker: private keys cannot be sealed or opened' }]);
    } finally {
      await worker.stop();
      await db.close();
    }
  });

  it('a new key that fails its test is discarded and the signing key stays', async () => {
    let tamper = false;
    // Between generate and test, the new row gets another key's ciphertext: it must not open (the kid is bound in).
    const env = await setup(testKeys(), {
      afterKeyStep: async ({ step, kid }) => {
        if (tamper && step === 'generate') {
          await env.db.pool.query(`UPDATE signing_key SET private_key_enc = (SELECT private_key_enc FROM signing_key WHERE state = 'active') WHERE kid = $1`, [kid]);
        }
      },
    });
    try {
      const first = await rotateAndWait(client, env.worker.taskQueue);
      tamper = true;
      const { handle } = await rotate(client, env.worker.taskQueue, { force: true });
      const err = await handle.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((err as WorkflowFailedError).cause?.message).toMatch(/failed its test and was discarded: cannot decrypt the private key of \S+: authentication failed \(wrong MAINT_KEK, or the row was altered\)/);
      const rows = await keyRows(env.db);
      expect(rows.map((r) => [r.kid === first.kid, r.state, r.has_private])).toEqual([
        [true, 'active', true],
        [false, 'deleted', false],
      ]);
      expect(await env.jwksKids()).toEqual([first.kid]);
    } finally {
      await env.close();
    }
  });
});
