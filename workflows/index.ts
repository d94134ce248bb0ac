// Everything the worker's workflow bundle contains. Deterministic code only.
export { batchedPurge, progressQuery } from './batched-purge.js';
