import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { checkStartFields } from '../temporal.js';
import { parseRotationParams } from './policy.js';
import type { RotationParams } from './types.js';

/** One rotation at a time: every request uses this id, and joins the running rotation if there is one. */
export const ROTATION_WORKFLOW_ID = 'maint-key-rotation';

export interface StartRotationOptions {
  params: RotationParams;
  taskQueue: string;
  trigger: string;
  /** Tests run rotations side by side under their own ids; operators use the fixed one. */
  workflowId?: string;
}

export interface StartedRotation {
  handle: WorkflowHandle;
  runId: string;
  /** True when a rotation was already running and this request joined it (its parameters were not applied). */
  joined: boolean;
}

/** Validates the parameters (nothing starts on bad input), then starts the rotation or joins the running one. */
export async function startRotation(client: Client, opts: StartRotationOptions): Promise<StartedRotation> {
  const params = parseRotationParams(opts.params);
  checkStartFields(opts);
  const request = randomUUID();
  const handle = await client.workflow.start('keyRotation', {
    taskQueue: opts.taskQueue,
    workflowId: opts.workflowId ?? ROTATION_WORKFLOW_ID,
    args: [{ params, trigger: opts.trigger }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    // The server does not say whether it started or joined; the memo of the running execution does.
    memo: { startRequest: request },
  });
  const described = await handle.describe();
  return { handle, runId: described.runId, joined: described.memo?.startRequest !== request };
}
