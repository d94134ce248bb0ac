// Everything the worker's workflow bundle contains. Deterministic code only.
export { batchedPurge, progressQuery } from './batched-purge.js';
export { keyRotation, rotationProgressQuery } from './key-rotation.js';
export { scheduledKeyRotation } from './scheduled-rotation.js';
export { signingKeyRetirement, retirementProgressQuery } from './key-retirement.js';
export { keypairCleanup } from './keypair-cleanup.js';
export { ensureScopes } from './scopes.js';
export { refreshOidcJwks } from './refresh-jwks.js';
export { healthReport } from './health-report.js';
