import proto from '@temporalio/proto';
import type { Client, WorkflowHandle } from '@temporalio/client';

// Default import: the package is CommonJS, and Node's ESM loader cannot see its named exports.
const ENUMS = proto.temporal.api.enums.v1;
const SCHEDULED = ENUMS.PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED;

function ms(ts: { seconds?: unknown; nanos?: number | null } | null | undefined): number | undefined {
  if (!ts || ts.seconds === undefined || ts.seconds === null) return undefined;
  return Number(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

export interface WorkerWatchOptions {
  taskQueue: string;
  namespace: string;
  /** How long a workflow task may wait for a worker before we say so. */
  afterMs?: number;
  write?: (line: string) => void;
}

/**
 * While the CLI waits for a result: when no worker has picked up the workflow's task after `afterMs`, say so
 * once on stderr, naming the task queue (a wrong `--task-queue` or no worker running would otherwise leave
 * `--wait` silent forever). It keeps waiting: a worker started later still runs the workflow. Returns a stop
 * function.
 */
export function warnWhenNoWorker(client: Client, handle: WorkflowHandle, opts: WorkerWatchOptions): () => void {
  const afterMs = opts.afterMs ?? 5_000;
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const check = async (): Promise<void> => {
    const d = await handle.describe();
    if (d.status.name !== 'RUNNING') return void (stopped = true);
    const task = d.raw.pendingWorkflowTask;
    const since = ms(task?.originalScheduledTime ?? task?.scheduledTime);
    if (!task || task.state !== SCHEDULED || since === undefined || Date.now() - since < afterMs) return;
    // The workflow's own queue: a joined rotation may have been started on another one.
    const taskQueue = d.taskQueue || opts.taskQueue;
    const { pollers } = await client.workflowService.describeTaskQueue({
      namespace: opts.namespace,
      taskQueue: { name: taskQueue, kind: ENUMS.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: ENUMS.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    const waited = Math.round((Date.now() - since) / 1000);
    write(
      pollers.length === 0
        ? `warning: no worker polls task queue "${taskQueue}" (namespace ${opts.namespace}); workflow ${handle.workflowId} has waited ${waited} s for one. ` +
            'Start a worker (npm start, npm run worker) or use the task queue a worker polls (--task-queue, TEMPORAL_TASK_QUEUE). Still waiting; Ctrl-C stops waiting, the workflow stays queued.\n'
        : `warning: no worker has picked up workflow ${handle.workflowId} on task queue "${taskQueue}" for ${waited} s (${pollers.length} poller(s) seen there recently). Still waiting.\n`,
    );
    stopped = true;
  };
  const loop = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      // A failed check (server busy) is not the user's problem: try again at the next tick.
      check().catch(() => undefined).finally(loop);
    }, Math.min(afterMs, 2_000));
    timer.unref();
  };
  loop();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
