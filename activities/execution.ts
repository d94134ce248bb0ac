import { ApplicationFailure, Context } from '@temporalio/activity';

/**
 * The Temporal run this activity serves. A run record is keyed by its chain's first run; a reset or retried
 * execution is another run than that one, and writes a row of its own (see recordOf in src/db/run-record.ts).
 */
export function executionRunId(): string {
  const execution = Context.current().info.workflowExecution;
  if (!execution) throw ApplicationFailure.nonRetryable('this activity runs only in a workflow', 'NoWorkflow');
  return execution.runId;
}

/** The same, or undefined when called outside an activity (the outbox's own delivery pass, a test calling it). */
export function executionRunIdIfAny(): string | undefined {
  try {
    return Context.current().info.workflowExecution?.runId;
  } catch {
    return undefined;
  }
}
