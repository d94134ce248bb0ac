import { hostname } from 'node:os';
import { temporal } from '@temporalio/proto';
import { loadConfig } from './settings/environment.js';
import { connectClient } from './temporal/connect.js';

// A worker polls again at once after each long poll (about a minute); a poller older than this is gone.
const POLLER_FRESH_MS = 3 * 60_000;

/**
 * Whether a worker of this host polls the task queue: the SDK names a worker `<pid>@<hostname>`, and a
 * container's hostname is its own, so this judges the worker of this container, not any worker.
 */
export async function checkWorkerHealth(env?: NodeJS.ProcessEnv, host = hostname()): Promise<{ healthy: boolean; message: string }> {
  const config = loadConfig(env);
  const client = await connectClient({ address: config.temporalAddress, namespace: config.namespace, security: config.temporalSecurity, connectTimeoutMs: 5_000 });
  try {
    const res = await client.workflowService.describeTaskQueue({
      namespace: config.namespace,
      taskQueue: { name: config.taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    const now = Date.now();
    const mine = (res.pollers ?? []).filter((p) => {
      const seconds = Number(p.lastAccessTime?.seconds ?? 0);
      return p.identity?.endsWith(`@${host}`) && now - seconds * 1000 < POLLER_FRESH_MS;
    });
    return mine.length
      ? { healthy: true, message: `worker ${mine[0]!.identity} polls ${config.taskQueue} on ${config.temporalAddress}` }
      : { healthy: false, message: `no worker of ${host} polls task queue ${config.taskQueue} on ${config.temporalAddress} (namespace ${config.namespace})` };
  } finally {
    await client.connection.close();
  }
}
