import { ApplicationFailure, Context } from '@temporalio/activity';
import { type Orm, dbFromOrm } from '../src/orm/index.js';
import { type Db } from '../src/db/query.js';
import type { Logger } from '../src/logger.js';
import { kekId, KeyDecryptError } from '../src/keys/crypto.js';
import { decideRotation } from '../src/keys/decide.js';
import { generateSealedKeypair, signWithSealedKey, verifyWithJwks } from '../src/keys/keypair.js';
import { DEFAULT_POLICY, parseCleanupParams, resolvePolicy } from '../src/keys/policy.js';
import { checked } from '../src/temporal/failures.js';
import { unexpiredTokenReferences } from '../src/keys/references.js';
import { loadJwks } from '../src/keys/store.js';
import type { KeyAlg, KeyPolicy, KeysRuntime, KeyState, RotationParams, RotationPlan, StepOutcome, SweepResult } from '../src/keys/types.js';
import type { FaultHooks, KeyStep } from './faults.js';

export interface KeyActivityDeps {
  orm: Orm;
  logger: Logger;
  faults?: FaultHooks;
  keys?: KeysRuntime;
}

export type ResolvedRotation = KeyPolicy & { force: boolean };

const iso = (v: unknown): string => new Date(v as string).toISOString();

function keyLost(kid: string, state: string | undefined, step: string): never {
  throw ApplicationFailure.nonRetryable(`cannot ${step} ${kid}: it is ${state ?? 'missing'}`, 'KeyStateConflict');
}

export function createKeyActivities({ orm, logger, faults, keys }: KeyActivityDeps) {
  const db: Db = dbFromOrm(orm);
  const log = logger.child({ component: 'signing-keys' });

  function kek(): Buffer {
    if (!keys?.kek) {
      throw ApplicationFailure.nonRetryable('MAINT_KEK is not set on the worker: private keys cannot be sealed or opened', 'KekMissing');
    }
    return keys.kek;
  }

  async function after(step: KeyStep, kid: string): Promise<void> {
    await faults?.afterKeyStep?.({ step, kid, attempt: Context.current().info.attempt });
  }

  async function now(tx: Db): Promise<number> {
    const [row] = await tx.query<{ now: string }>('SELECT now() AS now');
    return Date.parse(iso(row!.now));
  }

  return {
    /** Parameters over the worker's defaults, validated; recorded in the history as the policy of this rotation. */
    async resolveRotation(input: { params?: RotationParams }): Promise<ResolvedRotation> {
      kek();
      return checked(() => resolvePolicy(input.params ?? {}, keys!.policy));
    },

    /** Whether to rotate now, from the keys as they are (pure rules in src/keys/decide.ts). */
    async planRotation(input: { policy: ResolvedRotation }): Promise<RotationPlan> {
      const rows = await db.query<{ kid: string; state: KeyState; activated_at: string | null }>(
        `SELECT kid, state, activated_at FROM signing_key WHERE state IN ('pending', 'published', 'active', 'retired')`,
      );
      const active = rows.find((r) => r.state === 'active');
      const next = rows.find((r) => r.state === 'pending' || r.state === 'published');
      const [clock] = await db.query<{ now: string }>('SELECT now() AS now');
      return decideRotation(
        {
          active: active ? { kid: active.kid, activatedAt: iso(active.activated_at) } : null,
          inJwks: rows.filter((r) => r.state !== 'pending').length,
          next: next ? { kid: next.kid, state: next.state as 'pending' | 'published' } : null,
        },
        input.policy,
        input.policy.force,
        Date.parse(iso(clock!.now)),
      );
    },

    /**
     * Step 1. Generates a keypair, seals the private key and stores it as pending; returns only the kid. A retry
     * finds the key of its rotation; a key left on its way in by a terminated rotation is adopted, not doubled.
     */
    async generateSigningKey(input: { rotationId: string; alg: KeyAlg }): Promise<{ kid: string; alg: KeyAlg; adopted: boolean }> {
      const key = kek();
      const out = await db.transaction(async (tx) => {
        const [mine] = await tx.query<{ kid: string; alg: KeyAlg }>('SELECT kid, alg FROM signing_key WHERE rotation_id = ?', [input.rotationId]);
        if (mine) return { kid: mine.kid, alg: mine.alg, adopted: false };
        const [orphan] = await tx.query<{ kid: string; alg: KeyAlg }>(`SELECT kid, alg FROM signing_key WHERE state IN ('pending', 'published') FOR UPDATE`);
        if (orphan && orphan.alg === input.alg) {
          await tx.query('UPDATE signing_key SET rotation_id = ? WHERE kid = ?', [input.rotationId, orphan.kid]);
          return { kid: orphan.kid, alg: orphan.alg, adopted: true };
        }
        if (orphan) {
          // Left behind with another algorithm: withdraw it (it never signed anything) and start afresh.
          await tx.query(`UPDATE signing_key SET state = 'deleted', deleted_at = now(), private_key_enc = NULL WHERE kid = ?`, [orphan.kid]);
        }
        const pair = await generateSealedKeypair(input.alg, key);
        await tx.query(
          `INSERT INTO signing_key (kid, alg, state, public_jwk, private_key_enc, kek_id, rotation_id) VALUES (?, ?, 'pending', ?::jsonb, ?, ?, ?)`,
          [pair.kid, input.alg, JSON.stringify(pair.publicJwk), pair.sealed, kekId(key), input.rotationId],
        );
        return { kid: pair.kid, alg: input.alg, adopted: false };
      });
      log.info({ kid: out.kid, alg: out.alg, adopted: out.adopted, rotationId: input.rotationId }, 'signing key generated');
      await after('generate', out.kid);
      return out;
    },

    /** Step 2. Puts the key in the JWKS (not signing yet). Returns when it was published, for the propagation timer. */
    async publishSigningKey(input: { kid: string }): Promise<{ publishedAt: string }> {
      const [updated] = await db.query<{ published_at: string }>(
        `UPDATE signing_key SET state = 'published', published_at = now() WHERE kid = ? AND state = 'pending' RETURNING published_at`,
        [input.kid],
      );
      let publishedAt = updated?.published_at;
      if (!publishedAt) {
        const [row] = await db.query<{ state: KeyState; published_at: string | null }>('SELECT state, published_at FROM signing_key WHERE kid = ?', [input.kid]);
        if (!row?.published_at || row.state === 'deleted') keyLost(input.kid, row?.state, 'publish');
        publishedAt = row.published_at;
      }
      log.info({ kid: input.kid, publishedAt: iso(publishedAt) }, 'signing key published in the JWKS');
      await after('publish', input.kid);
      return { publishedAt: iso(publishedAt) };
    },

    /** Step 3. Signs a probe token with the new key and verifies it against the JWKS as verifiers get it. */
    async testSigningKey(input: { kid: string }): Promise<{ verified: true }> {
      const [row] = await db.query<{ alg: KeyAlg; state: KeyState; private_key_enc: string | null }>(
        'SELECT alg, state, private_key_enc FROM signing_key WHERE kid = ?',
        [input.kid],
      );
      if (!row?.private_key_enc || row.state !== 'published') keyLost(input.kid, row?.state, 'test');
      try {
        const token = await signWithSealedKey({ kid: input.kid, alg: row.alg, sealed: row.private_key_enc }, kek(), { sub: 'key-rotation-probe' }, 60);
        const { protectedHeader } = await verifyWithJwks(token, await loadJwks(db));
        if (protectedHeader.kid !== input.kid) throw new Error('the probe verified with another key');
      } catch (err) {
        if (err instanceof ApplicationFailure) throw err;
        // Only the kind of failure is reported: error texts of crypto libraries are not ours to vouch for.
        const why = err instanceof KeyDecryptError ? err.message : `probe token did not verify (${(err as { code?: string }).code ?? (err as Error).name})`;
        log.error({ kid: input.kid, reason: why }, 'signing key test failed');
        throw ApplicationFailure.nonRetryable(why, 'KeyTestFailed');
      }
      log.info({ kid: input.kid }, 'signing key signed and verified a probe token');
      await after('test', input.kid);
      return { verified: true };
    },

    /**
     * Step 4. In one transaction: the current signing key becomes retired (kept for verification until every token
     * it signed has expired) and the new key becomes the signing key. Readers see the old key or the new one,
     * never none and never two (the partial unique index signing_key_one_active).
     */
    async activateSigningKey(input: { kid: string; jwksCacheSeconds: number; maxTokenLifetimeSeconds: number }) {
      const out = await db.transaction(async (tx) => {
        const [row] = await tx.query<{ state: KeyState; published_at: string | null; activated_at: string | null; since: number | null }>(
          `SELECT state, published_at, activated_at, extract(epoch FROM now() - published_at)::float8 AS since FROM signing_key WHERE kid = ? FOR UPDATE`,
          [input.kid],
        );
        if (row?.activated_at) {
          // Already done by an earlier attempt whose answer was lost: report what it did.
          const [prev] = await tx.query<{ kid: string; retired_at: string; tokens_expire_by: string }>(
            'SELECT kid, retired_at, tokens_expire_by FROM signing_key WHERE superseded_by = ?',
            [input.kid],
          );
          return { activatedAt: iso(row.activated_at), previousKid: prev?.kid ?? null, retiredAt: prev ? iso(prev.retired_at) : null, tokensExpireBy: prev ? iso(prev.tokens_expire_by) : null };
        }
        if (row?.state !== 'published') keyLost(input.kid, row?.state, 'activate');
        if (row.since !== null && row.since < input.jwksCacheSeconds) {
          // The workflow's timer makes this impossible; the database refuses it anyway, by its own clock.
          throw ApplicationFailure.retryable(`${input.kid} was published ${row.since.toFixed(1)} s ago; verifiers cache the JWKS for ${input.jwksCacheSeconds} s`, 'NotPropagated');
        }
        const [prev] = await tx.query<{ kid: string; retired_at: string; tokens_expire_by: string }>(
          `UPDATE signing_key SET state = 'retired', retired_at = now(), tokens_expire_by = now() + make_interval(secs => ?), superseded_by = ?
            WHERE state = 'active' RETURNING kid, retired_at, tokens_expire_by`,
          [input.maxTokenLifetimeSeconds, input.kid],
        );
        await faults?.duringActivate?.({ kid: input.kid, previousKid: prev?.kid ?? null });
        const [act] = await tx.query<{ activated_at: string }>(`UPDATE signing_key SET state = 'active', activated_at = now() WHERE kid = ? RETURNING activated_at`, [input.kid]);
        return { activatedAt: iso(act!.activated_at), previousKid: prev?.kid ?? null, retiredAt: prev ? iso(prev.retired_at) : null, tokensExpireBy: prev ? iso(prev.tokens_expire_by) : null };
      });
      log.info({ kid: input.kid, previousKid: out.previousKid, tokensExpireBy: out.tokensExpireBy }, 'signing key activated');
      await after('activate', input.kid);
      return out;
    },

    /** A key that failed its test never signs: take it out of the JWKS and wipe its private key. */
    async discardSigningKey(input: { kid: string; reason: string }): Promise<void> {
      await db.query(`UPDATE signing_key SET state = 'deleted', deleted_at = now(), private_key_enc = NULL WHERE kid = ? AND state IN ('pending', 'published')`, [input.kid]);
      log.warn({ kid: input.kid, reason: input.reason }, 'signing key discarded');
    },

    /**
     * Step 5 (end). Takes a retired key out of the JWKS once every token it signed has expired: the retire timer
     * says so for all tokens, and no unexpired refresh token in outstanding_token names it.
     */
    async withdrawSigningKey(input: { kid: string }): Promise<StepOutcome> {
      const out = await db.transaction(async (tx): Promise<StepOutcome> => {
        const [row] = await tx.query<{ state: KeyState; tokens_expire_by: string | null; withdrawn_at: string | null }>(
          'SELECT state, tokens_expire_by, withdrawn_at FROM signing_key WHERE kid = ? FOR UPDATE',
          [input.kid],
        );
        if (row?.withdrawn_at) return { done: true, at: iso(row.withdrawn_at), retryAt: null, reason: null };
        if (row?.state !== 'retired' || !row.tokens_expire_by) keyLost(input.kid, row?.state, 'withdraw');
        const t = await now(tx);
        if (Date.parse(iso(row.tokens_expire_by)) > t) return { done: false, at: null, retryAt: iso(row.tokens_expire_by), reason: 'tokens it signed may still be valid' };
        const refs = (await unexpiredTokenReferences(tx)).get(input.kid);
        if (refs) return { done: false, at: null, retryAt: refs.latestExpiry, reason: `${refs.count} unexpired refresh tokens were signed with it` };
        const [done] = await tx.query<{ withdrawn_at: string }>(`UPDATE signing_key SET state = 'inactive', withdrawn_at = now() WHERE kid = ? RETURNING withdrawn_at`, [input.kid]);
        return { done: true, at: iso(done!.withdrawn_at), retryAt: null, reason: null };
      });
      log.info({ kid: input.kid, ...out }, out.done ? 'signing key withdrawn from the JWKS' : 'signing key still needed');
      if (out.done) await after('withdraw', input.kid);
      return out;
    },

    /**
     * Step 6. Deletes an inactive key past its retention that no unexpired token names; the row stays, its private
     * key goes. A key found deleted (an earlier attempt whose answer was lost, or keypair-cleanup) is done.
     */
    async deleteSigningKey(input: { kid: string; retentionSeconds: number }): Promise<StepOutcome & { alreadyDeleted: boolean }> {
      const out = await db.transaction(async (tx) => {
        const [row] = await tx.query<{ state: KeyState; retired_at: string | null; deleted_at: string | null }>(
          'SELECT state, retired_at, deleted_at FROM signing_key WHERE kid = ? FOR UPDATE',
          [input.kid],
        );
        if (row?.deleted_at) return { done: true, at: iso(row.deleted_at), retryAt: null, reason: null, alreadyDeleted: true };
        if (row?.state !== 'inactive' || !row.retired_at) keyLost(input.kid, row?.state, 'delete');
        const deleteAt = Date.parse(iso(row.retired_at)) + input.retentionSeconds * 1000;
        if (deleteAt > (await now(tx))) return { done: false, at: null, retryAt: new Date(deleteAt).toISOString(), reason: 'retention not over', alreadyDeleted: false };
        const refs = (await unexpiredTokenReferences(tx)).get(input.kid);
        if (refs) return { done: false, at: null, retryAt: refs.latestExpiry, reason: `${refs.count} unexpired refresh tokens were signed with it`, alreadyDeleted: false };
        const [done] = await tx.query<{ deleted_at: string }>(
          `UPDATE signing_key SET state = 'deleted', deleted_at = now(), private_key_enc = NULL WHERE kid = ? RETURNING deleted_at`,
          [input.kid],
        );
        return { done: true, at: iso(done!.deleted_at), retryAt: null, reason: null, alreadyDeleted: false };
      });
      log.info({ kid: input.kid, done: out.done, retryAt: out.retryAt, reason: out.reason }, out.done ? 'signing key deleted' : 'signing key kept');
      if (out.done && !out.alreadyDeleted) await after('delete', input.kid);
      return out;
    },

    /** Validates keypair-cleanup parameters over the worker's retention default. */
    async resolveCleanup(input: { params?: unknown }): Promise<{ dryRun: boolean; retentionSeconds: number }> {
      const p = checked(() => parseCleanupParams(input.params));
      return { dryRun: p.dryRun, retentionSeconds: p.retentionSeconds ?? keys?.policy.retentionSeconds ?? DEFAULT_POLICY.retentionSeconds };
    },

    /**
     * The keypair-cleanup job: withdraws retired keys whose tokens have all expired and deletes inactive keys past
     * retention, whichever rotation retired them (or none: keys from before this service, or a terminated run).
     */
    async sweepSigningKeys(input: { dryRun: boolean; retentionSeconds: number }): Promise<SweepResult> {
      const refs = await unexpiredTokenReferences(db);
      const rows = await db.query<{ kid: string; state: KeyState; tokens_expire_by: string | null; retired_at: string | null; now: string }>(
        `SELECT kid, state, tokens_expire_by, retired_at, now() AS now FROM signing_key WHERE state IN ('retired', 'inactive') ORDER BY retired_at NULLS FIRST, kid`,
      );
      const result: SweepResult = { dryRun: input.dryRun, withdrawn: [], deleted: [], kept: [] };
      for (const r of rows) {
        const t = Date.parse(iso(r.now));
        const ref = refs.get(r.kid);
        let state = r.state;
        if (state === 'retired') {
          if (r.tokens_expire_by && Date.parse(iso(r.tokens_expire_by)) > t) {
            result.kept.push({ kid: r.kid, state, reason: `in the JWKS until ${iso(r.tokens_expire_by)} (tokens it signed may be valid)` });
            continue;
          }
          if (ref) {
            result.kept.push({ kid: r.kid, state, reason: `${ref.count} unexpired refresh tokens were signed with it (until ${ref.latestExpiry})` });
            continue;
          }
          if (!input.dryRun) {
            await db.query(`UPDATE signing_key SET state = 'inactive', withdrawn_at = now() WHERE kid = ? AND state = 'retired'`, [r.kid]);
          }
          result.withdrawn.push(r.kid);
          state = 'inactive';
        }
        // A key retired before this service recorded retirements counts from now: it is kept a full retention.
        const retiredAt = r.retired_at ? Date.parse(iso(r.retired_at)) : t;
        if (retiredAt + input.retentionSeconds * 1000 > t) {
          result.kept.push({ kid: r.kid, state, reason: `retained until ${new Date(retiredAt + input.retentionSeconds * 1000).toISOString()}` });
          continue;
        }
        if (ref) {
          result.kept.push({ kid: r.kid, state, reason: `${ref.count} unexpired refresh tokens were signed with it` });
          continue;
        }
        if (!input.dryRun) {
          await db.query(`UPDATE signing_key SET state = 'deleted', deleted_at = now(), private_key_enc = NULL WHERE kid = ? AND state = 'inactive'`, [r.kid]);
        }
        result.deleted.push(r.kid);
      }
      log.info({ dryRun: input.dryRun, withdrawn: result.withdrawn, deleted: result.deleted, kept: result.kept.length }, 'keypair cleanup swept');
      return result;
    },
  };
}
