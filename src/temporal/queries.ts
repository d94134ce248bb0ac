import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { RetirementProgress, RotationProgress } from '../keys/types.js';
import type { Progress, PurgeControl, PurgeControlRequest } from '../purge/types.js';

/**
 * The queries our workflows answer, defined once for the workflows that set their handlers and the clients that ask
 * (`maint run --wait`, `maint keys rotate --wait`). The frozen legacy purge keeps its own copy of `progress`.
 */
export const progressQuery = defineQuery<Progress>('progress');
export const rotationProgressQuery = defineQuery<RotationProgress>('rotationProgress');
export const retirementProgressQuery = defineQuery<RetirementProgress>('retirementProgress');
/** An operator's live control of a running purge (`maint control`): pause, resume, a fixed batch size. */
export const controlUpdate = defineUpdate<PurgeControl, [PurgeControlRequest]>('control');
