import { createPurgeActivities, type PurgeActivityDeps } from './purge.js';

export type { FaultHooks } from './purge.js';
export type ActivityDeps = PurgeActivityDeps;

/** Every activity the worker registers, built from injected dependencies (no globals). */
export function createActivities(deps: ActivityDeps) {
  return { ...createPurgeActivities(deps) };
}

export type Activities = ReturnType<typeof createActivities>;
