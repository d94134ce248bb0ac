import { hostname } from 'node:os';
// Default import: the package is CommonJS, and Node's ESM loader (which runs the compiled dist/) cannot see its
// named exports.
import proto from '@temporalio/proto';
import { loadConfig } from './settings/environment.js';
import { connectClient } from './temporal/connect.js';

const { TaskQueueKind, TaskQueueType } = proto.temporal.api.enums.v1;

// A worker polls again at once after each long poll (about a minute); a poller older than this is gone.
const POLLER_FRESH_MS = 3 * 60_000;

/** The server lists a poller for minutes after its worker died: a worker of this host counts only while its process lives. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether a worker of this host polls the task queue: the SDK names a worker `<pid>@<hostname>`, and a
 * container's hostname is its own, so this judges the worker of this container, not any worker; its pid must
 * still be a live process here (the health check runs in the worker's container, so it sees the worker's pids).
 */
export async function checkWorkerHealth(env?: NodeJS.ProcessEnv, host = hostname()): Promise<{ healthy: boolean; message: string }> {
  const config = loadConfig(env);
  const client = await connectClient({ address: config.temporalAddress, namespace: config.namespace, security: config.temporalSecurity, connectTimeoutMs: 5_000 });
  try {
    const res = await client.workflowService.describeTaskQueue({
      namespace: config.namespace,
      taskQueue: { name: config.taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    const now = Date.now();
    const mine = (res.pollers ?? []).filter((p) => {
      const seconds = Number(p.lastAccessTime?.seconds ?? 0);
      const [pid, ...rest] = (p.identity ?? '').split('@');
      return rest.join('@') === host && /^\d+$/.test(pid!) && processAlive(Number(pid)) && now - seconds * 1000 < POLLER_FRESH_MS;
    });
    return mine.length
      ? { healthy: true, message: `worker ${mine[0]!.identity} polls ${config.taskQueue} on ${config.temporalAddress}` }
      : { healthy: false, message: `no worker of ${host} polls task queue ${config.taskQueue} on ${config.temporalAddress} (namespace ${config.namespace})` };
  } finally {
    await client.connection.close();
  }
}
