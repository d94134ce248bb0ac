import { MAX_FRACTION } from '../breakers.js';
import { DAY_MS } from '../../kernel/time.js';
import type { JobDefinition, RetentionRule } from '../types.js';

/**
 * The purges of this tool's native tables (the ones `MAINT_NATIVE_TABLES` creates: simplejwt-like tokens, accounts,
 * verification tokens, OAuth tokens), each a list of retention rules run by the one batched purge.
 */

/** A step deleting by the `id` key (the order of its fields is kept: a run's rules are fingerprinted as JSON). */
function step(s: Pick<RetentionRule, 'table' | 'timestampColumn'> & Partial<Pick<RetentionRule, 'name' | 'retentionMs' | 'where' | 'action' | 'children'>>): RetentionRule {
  return {
    ...(s.name ? { name: s.name } : {}),
    table: s.table,
    primaryKey: 'id',
    timestampColumn: s.timestampColumn,
    retentionMs: s.retentionMs ?? 0,
    ...(s.where ? { where: s.where } : {}),
    ...(s.action ? { action: s.action } : {}),
    children: s.children ?? [],
  };
}

const blacklist = { table: 'blacklisted_token', foreignKey: 'token_id' };

/** Everything that belongs to an account, deleted with it (children before parents). */
const accountChildren = [
  { table: 'access_token', foreignKey: 'user_id' },
  { table: 'verification_token', foreignKey: 'user_id' },
  { table: 'email_change_request', foreignKey: 'user_id' },
  { table: 'user_otp', foreignKey: 'user_id' },
  { table: 'outstanding_token', foreignKey: 'user_id', primaryKey: 'id', children: [blacklist] },
  { table: 'oauth_refresh_token', foreignKey: 'user_id' },
  { table: 'oauth_access_token', foreignKey: 'user_id' },
  { table: 'oauth_id_token', foreignKey: 'user_id' },
  { table: 'oauth_grant', foreignKey: 'user_id' },
];

const VERIFICATION_TOKEN_TYPES = ['email_verification', 'password_reset', 'email_change', 'magic_link', 'phone_verification'];

/** django-oauth-toolkit's `cleartokens`, in an order that never breaks a foreign key. */
function oauthSteps(t: { refresh: string; access: string; idToken: string; grant: string; expires: string; revoked: string }): RetentionRule[] {
  const setNull = (table: string, foreignKey: string) => [{ table, foreignKey, onDelete: 'set-null' as const }];
  return [
    step({ name: `${t.refresh} (revoked past the refresh lifespan)`, table: t.refresh, timestampColumn: t.revoked, retentionMs: 30 * DAY_MS, children: setNull(t.access, 'source_refresh_token_id') }),
    // A refresh token outlives its access token (that is what refreshing is for): it only loses the link.
    step({ name: `${t.access} (expired)`, table: t.access, timestampColumn: t.expires, children: setNull(t.refresh, 'access_token_id') }),
    step({ name: `${t.idToken} (expired)`, table: t.idToken, timestampColumn: t.expires, children: setNull(t.access, 'id_token_id') }),
    step({ name: `${t.grant} (expired)`, table: t.grant, timestampColumn: t.expires }),
  ];
}

/** The native purges, in the order `maint jobs` lists them. */
export const NATIVE_PURGES: readonly JobDefinition[] = [
  {
    name: 'purge-expired-tokens',
    description: 'Delete outstanding (refresh) tokens whose expires_at is in the past, with their blacklist rows',
    steps: [step({ table: 'outstanding_token', timestampColumn: 'expires_at', children: [blacklist] })],
  },
  {
    name: 'revoke-then-delete-access-tokens',
    description: 'Mark expired access tokens revoked (kept for audit), then delete tokens revoked more than --days ago',
    steps: [
      step({
        name: 'access_token (marked revoked)',
        table: 'access_token',
        timestampColumn: 'expires_at',
        where: [{ column: 'revoked', op: 'is_false' }],
        action: { type: 'update', set: { revoked: true, revoked_at: { runTime: true } } },
      }),
      step({ name: 'access_token (deleted)', table: 'access_token', timestampColumn: 'revoked_at', retentionMs: 90 * DAY_MS, where: [{ column: 'revoked', op: 'is_true' }] }),
    ],
    options: { days: { default: 90, steps: [1], meaning: 'delete revoked tokens older than this' } },
  },
  {
    name: 'purge-verification-tokens',
    description: 'Delete expired verification tokens (email verification, password reset, ...), selectable by --types',
    steps: [step({ table: 'verification_token', timestampColumn: 'expires_at' })],
    options: { types: { column: 'token_type', allowed: VERIFICATION_TOKEN_TYPES, steps: [0] } },
  },
  {
    name: 'purge-stale-unverified-accounts',
    description: 'Delete accounts not verified within --days of creation, with everything that belongs to them; verified accounts are never touched',
    steps: [step({ table: 'account', timestampColumn: 'created_at', retentionMs: 90 * DAY_MS, where: [{ column: 'is_verified', op: 'is_false' }], children: accountChildren })],
    options: { days: { default: 90, steps: [0], meaning: 'accounts created longer ago than this and still unverified' } },
    // It deletes accounts: a run that would take most of them stops before its first batch (--max-fraction).
    maxFraction: MAX_FRACTION.accounts,
  },
  {
    name: 'purge-email-change-requests',
    description: 'Delete completed email change requests, and incomplete ones older than --days',
    steps: [
      step({ name: 'email_change_request (completed)', table: 'email_change_request', timestampColumn: 'completed_at' }),
      step({ name: 'email_change_request (stale, incomplete)', table: 'email_change_request', timestampColumn: 'created_at', retentionMs: 7 * DAY_MS, where: [{ column: 'completed_at', op: 'is_null' }] }),
    ],
    options: { days: { default: 7, steps: [1], meaning: 'incomplete requests older than this' } },
  },
  {
    name: 'purge-pending-registrations',
    description: 'Delete pending registrations and one-time passwords past their expiry',
    steps: [
      step({ table: 'pending_registration', timestampColumn: 'expires_at' }),
      step({ table: 'user_otp', timestampColumn: 'expires_at' }),
    ],
  },
  {
    name: 'purge-oauth-tokens',
    description: "Like django-oauth-toolkit's cleartokens: revoked refresh tokens past --days, expired access and ID tokens, expired grants",
    steps: oauthSteps({ refresh: 'oauth_refresh_token', access: 'oauth_access_token', idToken: 'oauth_id_token', grant: 'oauth_grant', expires: 'expires_at', revoked: 'revoked_at' }),
    options: { days: { default: 30, steps: [0], meaning: 'refresh token lifespan after revocation' } },
  },
];
