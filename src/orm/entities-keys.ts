import { EntitySchema } from '@mikro-orm/core';
import { KEY_STATES, type KeyAlg, type KeyState } from '../keys/types.js';

/**
 * A JWT signing keypair and where it is in its lifecycle:
 * pending (generated) → published (in the JWKS, not signing) → active (the one signing key) → retired (in the
 * JWKS for verification only) → inactive (out of the JWKS: every token it signed has expired) → deleted (private
 * key wiped; the row stays as an audit trail).
 */
export interface SigningKey {
  kid: string;
  alg: KeyAlg;
  state: KeyState;
  publicJwk: Record<string, unknown>;
  /** AES-256-GCM ciphertext of the PKCS#8 private key (see src/keys/crypto.ts); null once deleted. */
  privateKeyEnc?: string | null;
  /** Fingerprint of the key-encryption key that sealed it, so a wrong MAINT_KEK is named, not guessed at. */
  kekId?: string | null;
  /** The rotation that generated it: a retried "generate" finds its key instead of making a second one. */
  rotationId?: string | null;
  /** Kid of the key that replaced this one as the signing key. */
  supersededBy?: string | null;
  createdAt: Date;
  publishedAt?: Date | null;
  activatedAt?: Date | null;
  retiredAt?: Date | null;
  /** Every token this key signed has expired by then (retired_at + the maximum token lifetime). */
  tokensExpireBy?: Date | null;
  withdrawnAt?: Date | null;
  deletedAt?: Date | null;
}

export interface Scope {
  name: string;
  description: string;
  createdAt: Date;
}

/** An external OIDC provider whose JWKS we cache; the last good copy survives failed refreshes. */
export interface OidcProvider {
  name: string;
  jwksUri: string;
  etag?: string | null;
  lastGoodJwks?: Record<string, unknown> | null;
  lastFetchedAt?: Date | null;
  lastSuccessAt?: Date | null;
  lastError?: string | null;
}

export const SigningKeySchema = new EntitySchema<SigningKey>({
  name: 'SigningKey',
  tableName: 'signing_key',
  indexes: [
    { name: 'signing_key_state_idx', properties: ['state'] },
    // The database itself guarantees at most one signing key, and at most one key on its way in.
    { name: 'signing_key_one_active', expression: `create unique index "signing_key_one_active" on "signing_key" ((true)) where "state" = 'active'` },
    {
      name: 'signing_key_one_next',
      expression: `create unique index "signing_key_one_next" on "signing_key" ((true)) where "state" in ('pending', 'published')`,
    },
  ],
  properties: {
    kid: { type: 'string', length: 64, primary: true },
    alg: { type: 'string', length: 16 },
    // An enum property: MikroORM renders (and compares) it as the check constraint signing_key_state_check.
    state: { enum: true, items: () => [...KEY_STATES], type: 'string' },
    publicJwk: { type: 'json', columnType: 'jsonb', fieldName: 'public_jwk' },
    privateKeyEnc: { type: 'text', nullable: true, fieldName: 'private_key_enc' },
    kekId: { type: 'string', length: 16, nullable: true, fieldName: 'kek_id' },
    rotationId: { type: 'string', length: 255, nullable: true, fieldName: 'rotation_id', unique: 'signing_key_rotation_id_key' },
    supersededBy: { type: 'string', length: 64, nullable: true, fieldName: 'superseded_by' },
    createdAt: { type: 'Date', columnType: 'timestamptz', fieldName: 'created_at', defaultRaw: 'now()' },
    publishedAt: { type: 'Date', columnType: 'timestamptz', nullable: true, fieldName: 'published_at' },
    activatedAt: { type: 'Date', columnType: 'timestamptz', nullable: true, fieldName: 'activated_at' },
    retiredAt: { type: 'Date', columnType: 'timestamptz', nullable: true, fieldName: 'retired_at' },
    tokensExpireBy: { type: 'Date', columnType: 'timestamptz', nullable: true, fieldName: 'tokens_expire_by' },
    withdrawnAt: { type: 'Date', columnType: 'timestamptz', nullable: true, fieldName: 'withdrawn_at' },
    deletedAt: { type: 'Date', columnType: 'timestamptz', nullable: true, fieldName: 'deleted_at' },
  },
});

export const ScopeSchema = new EntitySchema<Scope>({
  name: 'Scope',
  tableName: 'scope',
  properties: {
    name: { type: 'string', length: 100, primary: true },
    description: { type: 'text' },
    createdAt: { type: 'Date', columnType: 'timestamptz', fieldName: 'created_at', defaultRaw: 'now()' },
  },
});

export const OidcProviderSchema = new EntitySchema<OidcProvider>({
  name: 'OidcProvider',
  tableName: 'oidc_provider',
  properties: {
    name: { type: 'string', length: 100, primary: true },
    jwksUri: { type: 'text', fieldName: 'jwks_uri' },
    etag: { type: 'string', length: 255, nullable: true },
    lastGoodJwks: { type: 'json', columnType: 'jsonb', nullable: true, fieldName: 'last_good_jwks' },
    lastFetchedAt: { type: 'Date', columnType: 'timestamptz', nullable: true, fieldName: 'last_fetched_at' },
    lastSuccessAt: { type: 'Date', columnType: 'timestamptz', nullable: true, fieldName: 'last_success_at' },
    lastError: { type: 'text', nullable: true, fieldName: 'last_error' },
  },
});

export const keyEntities = [SigningKeySchema, ScopeSchema, OidcProviderSchema];
