import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { KeysRuntime, KeyAlg, KeyPolicy, KeyState, RotationParams, RotationResult } from '../../src/keys/types.js';
import { kekId } from '../../src/keys/crypto.js';
import { generateSealedKeypair, signWithSealedKey } from '../../src/keys/keypair.js';
import { start } from './start.js';
import { uniqueName, type TestDatabase } from './env.js';

/** Seconds instead of days: the lifecycle runs in a test's time against the real dev server. */
export function shortPolicy(overrides: Partial<KeyPolicy> = {}): KeyPolicy {
  return {
    alg: 'ES256',
    jwksCacheSeconds: 1,
    maxTokenLifetimeSeconds: 1,
    rotateAfterSeconds: 3600,
    retentionSeconds: 1,
    maxActiveKeys: 3,
    stepTimeoutSeconds: 3,
    ...overrides,
  };
}

export function testKeys(overrides: Partial<KeyPolicy> = {}): KeysRuntime & { kek: Buffer } {
  return { kek: randomBytes(32), policy: shortPolicy(overrides) };
}

export async function rotate(client: Client, taskQueue: string, params: RotationParams = {}, workflowId = uniqueName('rotation')) {
  return start(client, { job: 'key-rotation', params, taskQueue, trigger: 'test', workflowId });
}

export async function rotateAndWait(client: Client, taskQueue: string, params: RotationParams = {}): Promise<RotationResult> {
  const { handle } = await rotate(client, taskQueue, params);
  return (await handle.result()) as RotationResult;
}

export interface KeyStateRow {
  kid: string;
  alg: KeyAlg;
  state: KeyState;
  has_private: boolean;
}

export async function keyRows(db: TestDatabase): Promise<KeyStateRow[]> {
  const { rows } = await db.pool.query(`SELECT kid, alg, state, private_key_enc IS NOT NULL AS has_private FROM signing_key ORDER BY created_at, kid`);
  return rows;
}

export async function statesByKid(db: TestDatabase): Promise<Record<string, KeyState>> {
  return Object.fromEntries((await keyRows(db)).map((r) => [r.kid, r.state]));
}

/** What an application does to issue a token: sign with the current signing key. */
export async function signWithActive(db: TestDatabase, kek: Buffer, ttlSeconds: number, claims: Record<string, unknown> = {}): Promise<{ token: string; kid: string }> {
  const { rows } = await db.pool.query(`SELECT kid, alg, private_key_enc FROM signing_key WHERE state = 'active'`);
  const row = rows[0];
  if (!row) throw new Error('no active signing key');
  const token = await signWithSealedKey({ kid: row.kid, alg: row.alg, sealed: row.private_key_enc }, kek, { sub: 'user', ...claims }, ttlSeconds);
  return { token, kid: row.kid };
}

/** A signing key as a finished earlier rotation would have left it (faster than running one). */
export async function seedActiveKey(db: TestDatabase, kek: Buffer, alg: KeyAlg = 'ES256'): Promise<string> {
  const pair = await generateSealedKeypair(alg, kek);
  await db.pool.query(
    `INSERT INTO signing_key (kid, alg, state, public_jwk, private_key_enc, kek_id, created_at, published_at, activated_at)
     VALUES ($1, $2, 'active', $3, $4, $5, now() - interval '1 day', now() - interval '1 day', now() - interval '1 day')`,
    [pair.kid, alg, pair.publicJwk, pair.sealed, kekId(kek)],
  );
  return pair.kid;
}
