import type { OidcConfig } from '../src/oidc/providers.js';
import { createAuditActivities } from './run-record.js';
import { createHealthActivities } from './health.js';
import { createKeyActivities } from './keys.js';
import type { KeysRuntime } from '../src/keys/types.js';
import { createNotifyActivities } from './notify.js';
import type { Notifier } from '../src/notify/outbox.js';
import { createOidcActivities } from './oidc.js';
import { createPurgeActivities, type PurgeActivityDeps } from './purge/index.js';
import { createScopeActivities } from './scopes.js';

export type { FaultHooks } from './faults.js';

export interface ActivityDeps extends PurgeActivityDeps {
  /** The key-encryption key and lifecycle defaults; key rotation fails clearly without a KEK. */
  keys?: KeysRuntime;
  /** Configured OIDC providers and fetch settings; none configured means nothing to refresh. */
  oidc?: OidcConfig;
  /** The notification outbox and its channels; none: runs notify nobody. */
  notifier?: Notifier;
}

/** Every activity the worker registers, built from injected dependencies (no globals). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createPurgeActivities(deps),
    ...createKeyActivities(deps),
    ...createAuditActivities(deps),
    ...createScopeActivities(deps),
    ...createOidcActivities(deps),
    ...createHealthActivities(deps),
    ...createNotifyActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
