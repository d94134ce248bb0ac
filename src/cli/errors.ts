import { ActivityFailure, ChildWorkflowFailure, ServiceError, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';

/** Messages the SDK puts on a wrapper; the reason is further down the cause chain. */
const WRAPPERS = new Set(['Activity task failed', 'Child Workflow execution failed', 'Workflow execution failed']);

/**
 * The reason a workflow failed, as the operator needs it: the message of the innermost failure (the activity's
 * own error, e.g. "missing table oauth2_provider_grant"), with where it happened when an activity or child
 * workflow raised it. `WorkflowFailedError.cause` alone often says only "Activity task failed".
 */
export function failureReason(failure: unknown): string {
  const where: string[] = [];
  let root: unknown = failure;
  for (let depth = 0; depth < 20 && root instanceof Error; depth++) {
    if (root instanceof ActivityFailure && root.activityType) where.push(`activity ${root.activityType}`);
    if (root instanceof ChildWorkflowFailure && root.execution?.workflowId) where.push(`child workflow ${root.execution.workflowId}`);
    const next = (root as { cause?: unknown }).cause;
    if (!(next instanceof Error)) break;
    root = next;
  }
  const message = root instanceof Error ? root.message : String(root);
  if (WRAPPERS.has(message)) return where.length ? `${message} (${where.join(' > ')})` : message;
  return where.length ? `${message} (in ${where.join(' > ')})` : message;
}

/**
 * One line for any error the CLI cannot handle itself. A refused start carries the server's reason (e.g.
 * "WorkflowId length exceeds limit.") in its gRPC cause, which the SDK's "Failed to start Workflow" hides.
 */
export function describeError(err: unknown): string {
  if (err instanceof WorkflowExecutionAlreadyStartedError) {
    return `workflow id "${err.workflowId}" is already in use (${err.workflowType}); choose another --workflow-id or wait for that run to finish`;
  }
  if (err instanceof ServiceError) {
    const cause = err.cause as { details?: string; message?: string } | undefined;
    const reason = cause?.details || cause?.message;
    return reason && !err.message.includes(reason) ? `${err.message}: ${reason}` : err.message;
  }
  if (!(err instanceof Error)) return String(err);
  const causes: string[] = [];
  for (let c = err.cause, depth = 0; c instanceof Error && depth < 5; c = c.cause, depth++) {
    if (!err.message.includes(c.message) && !causes.includes(c.message)) causes.push(c.message);
  }
  return [err.message, ...causes].join(': ');
}
