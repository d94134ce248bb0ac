import { ParentClosePolicy, startChild, workflowInfo } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { parseRotationInput } from '../../src/keys/inputs.js';
import { ROTATION_WORKFLOW_ID, type RotationInput, type ScheduledRotationResult } from '../../src/keys/types.js';
import { runSearchAttributes } from '../../src/temporal/labels.js';
import { acceptInput, triggerOf } from '../job-run.js';
import { keyRotation } from './rotation.js';

/**
 * What the rotation schedule starts. A schedule appends its time to the workflow id, so it cannot start the
 * rotation under the one rotation id itself: this run does, and waits for it. When a rotation is already going
 * (`maint keys rotate`), this run joins it instead of racing it; a rotation this run started is joined by any
 * `maint keys rotate` meanwhile. The rotation outlives this run if the run is terminated.
 */
export async function scheduledKeyRotation(raw: RotationInput): Promise<ScheduledRotationResult> {
  const input = await acceptInput('key-rotation', raw, parseRotationInput);
  const trigger = triggerOf(input.trigger);
  const params = input.params ?? {};
  try {
    const child = await startChild(keyRotation, {
      workflowId: ROTATION_WORKFLOW_ID,
      args: [{ params, trigger }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      typedSearchAttributes: runSearchAttributes('key-rotation', false, trigger),
      memo: { parameters: params, startedBy: workflowInfo().workflowId },
    });
    return { rotationWorkflowId: ROTATION_WORKFLOW_ID, joined: false, rotation: await child.result() };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return { rotationWorkflowId: ROTATION_WORKFLOW_ID, joined: true, rotation: null };
  }
}
