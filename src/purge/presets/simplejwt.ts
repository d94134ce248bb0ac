import { InputError } from '../../kernel/errors.js';
import type { JobDefinition, PurgeParams, RetentionRule } from '../types.js';

/**
 * djangorestframework-simplejwt's `token_blacklist` tables, as its `flushexpiredtokens` cleans them:
 * `OutstandingToken.objects.filter(expires_at__lte=aware_utcnow()).delete()`, the same in every tag from v4.0.0
 * to v5.5.1 (token_blacklist/management/commands/flushexpiredtokens.py), blacklist rows cascading.
 */

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

const ZONE_EXPECTED = "expected an IANA time zone name, Django's TIME_ZONE (e.g. Europe/Berlin, America/New_York)";

/**
 * With `USE_TZ = False`, simplejwt writes naive UTC wall-clock times (utils.py at v5.2.2: `make_utc` returns a naive
 * `datetime.utcfromtimestamp(exp)` as it is; at v5.3.1 to v5.5.1 `datetime.fromtimestamp(ts, tz=timezone.utc)
 * .replace(tzinfo=None)`), and Django's PostgreSQL connection reads a naive value in TIME_ZONE (`SET TIME ZONE`
 * to `settings.TIME_ZONE` when USE_TZ is off): `expires_at` holds the UTC wall clock taken as local time of that
 * zone. `flushexpiredtokens` compares with `aware_utcnow()`, which is naive UTC too, read the same way; so the
 * cutoff is now's UTC wall clock read in the zone (`naiveUtcIn`, rendered by PostgreSQL as Django's cast is).
 */
function flushSteps(params: Pick<PurgeParams, 'djangoTimeZone'>): RetentionRule[] {
  const zone = params.djangoTimeZone;
  if (zone === undefined) return SIMPLEJWT_FLUSH_STEPS;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw new InputError('djangoTimeZone', `"${zone}" is not a time zone; ${ZONE_EXPECTED}`);
  }
  return SIMPLEJWT_FLUSH_STEPS.map((s) => ({ ...s, naiveUtcIn: zone }));
}

export const SIMPLEJWT_PURGES: readonly JobDefinition[] = [
  {
    name: 'django-simplejwt-flush-expired',
    description: "Preset for djangorestframework-simplejwt's token_blacklist tables: expired outstanding tokens with their blacklist rows (flushexpiredtokens)",
    preset: 'djangorestframework-simplejwt token_blacklist',
    matches: 'djangorestframework-simplejwt 4.x and 5.x (flushexpiredtokens: expires_at <= now); --django-time-zone for apps with USE_TZ = False',
    steps: SIMPLEJWT_FLUSH_STEPS,
    stepsFor: flushSteps,
    djangoParams: ['djangoTimeZone'],
  },
];
