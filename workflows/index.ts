// Everything the worker's workflow bundle contains. Deterministic code only.
export { batchedPurge } from './purge/batched-purge.js';
export { keyRotation } from './keys/rotation.js';
export { scheduledKeyRotation } from './keys/scheduled-rotation.js';
export { signingKeyRetirement } from './keys/retirement.js';
export { keypairCleanup } from './keys/cleanup.js';
export { ensureScopes } from './scopes.js';
export { refreshOidcJwks } from './oidc.js';
export { healthReport } from './health.js';
