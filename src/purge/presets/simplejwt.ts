import type { JobDefinition, RetentionRule } from '../types.js';

/** djangorestframework-simplejwt's `token_blacklist` tables, as its `flushexpiredtokens` cleans them. */

/** `flushexpiredtokens` of simplejwt 4.x and 5.x: `expires_at <= now`, blacklist rows cascade. */
const SIMPLEJWT_FLUSH_STEPS: RetentionRule[] = [
  {
    table: 'token_blacklist_outstandingtoken',
    primaryKey: 'id',
    timestampColumn: 'expires_at',
    cutoffInclusive: true,
    retentionMs: 0,
    children: [{ table: 'token_blacklist_blacklistedtoken', foreignKey: 'token_id' }],
  },
];

export const SIMPLEJWT_PURGES: readonly JobDefinition[] = [
  {
    name: 'django-simplejwt-flush-expired',
    description: "Preset for djangorestframework-simplejwt's token_blacklist tables: expired outstanding tokens with their blacklist rows (flushexpiredtokens)",
    preset: 'djangorestframework-simplejwt token_blacklist',
    matches: 'djangorestframework-simplejwt 4.x and 5.x (flushexpiredtokens: expires_at <= now)',
    steps: SIMPLEJWT_FLUSH_STEPS,
  },
];
