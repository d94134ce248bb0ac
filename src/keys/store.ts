import { createHash } from 'node:crypto';
import type { Db } from '../db/query.js';
import { publicJwkOnly } from './public-jwk.js';
import { JWKS_STATES, type KeyRow, type KeyState } from './types.js';

/** Read side of the signing keys, shared by activities, the CLI and the JWKS server. Never selects private keys. */

export interface Jwks {
  keys: Array<Record<string, unknown>>;
}

const iso = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(v as string).toISOString());

export async function listKeys(db: Db, opts: { includeDeleted?: boolean } = {}): Promise<KeyRow[]> {
  const rows = await db.query(
    `SELECT kid, alg, state, created_at, published_at, activated_at, retired_at, tokens_expire_by, withdrawn_at, deleted_at, superseded_by
       FROM signing_key WHERE (? OR state <> 'deleted') ORDER BY created_at DESC, kid`,
    [Boolean(opts.includeDeleted)],
  );
  return rows.map((r) => ({
    kid: String(r.kid),
    alg: r.alg as KeyRow['alg'],
    state: r.state as KeyState,
    createdAt: iso(r.created_at)!,
    publishedAt: iso(r.published_at),
    activatedAt: iso(r.activated_at),
    retiredAt: iso(r.retired_at),
    tokensExpireBy: iso(r.tokens_expire_by),
    withdrawnAt: iso(r.withdrawn_at),
    deletedAt: iso(r.deleted_at),
    supersededBy: (r.superseded_by as string | null) ?? null,
  }));
}

/**
 * The JWKS verifiers fetch, built from an allow-list of public key members: the signing key first, then the next key (published ahead of its activation), then
 * retired keys that may still have unexpired tokens.
 */
export async function loadJwks(db: Db): Promise<Jwks> {
  const rows = await db.query<{ public_jwk: Record<string, unknown> }>(
    `SELECT public_jwk FROM signing_key WHERE state IN (${JWKS_STATES.map(() => '?').join(', ')})
      ORDER BY CASE state WHEN 'active' THEN 0 WHEN 'published' THEN 1 ELSE 2 END, retired_at DESC NULLS FIRST, kid`,
    [...JWKS_STATES],
  );
  return { keys: rows.map((r) => publicJwkOnly(r.public_jwk)).filter((k): k is Record<string, unknown> => k !== undefined) };
}

/** A strong validator of a JWKS body: changes exactly when the document does. */
export function jwksEtag(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}
