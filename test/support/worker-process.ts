// A worker in its own process, so a test can SIGKILL it mid-purge like a crashed host, or have it kill itself
// right after a key lifecycle step committed (CRASH_AFTER_KEY_STEP).
import { Runtime, DefaultLogger } from '@temporalio/worker';
import type { FaultHooks } from '../../activities/index.js';
import { openOrm } from '../../src/db/orm.js';
import { parseKek } from '../../src/keys/policy.js';
import { createLogger } from '../../src/logger.js';
import { createWorker } from '../../src/worker.js';

Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
const env = process.env;
const orm = await openOrm(env.DATABASE_URL!);
const delay = Number(env.BATCH_DELAY_MS ?? 0);
const crashAfter = env.CRASH_AFTER_KEY_STEP;
const faults: FaultHooks = {
  ...(delay ? { afterBatchCommit: () => new Promise<void>((r) => setTimeout(r, delay)) } : {}),
  ...(crashAfter
    ? {
        afterKeyStep: ({ step }) => {
          if (step !== crashAfter) return;
          process.stdout.write(`crashing after ${step}\n`);
          process.kill(process.pid, 'SIGKILL');
        },
      }
    : {}),
};
const { worker } = await createWorker({
  address: env.TEMPORAL_ADDRESS!,
  namespace: 'default',
  taskQueue: env.TASK_QUEUE!,
  orm,
  logger: createLogger({ level: 'silent' }),
  workflowBundle: { codePath: env.BUNDLE_PATH! },
  faults,
  ...(env.MAINT_KEK ? { keys: { kek: parseKek(env.MAINT_KEK), policy: JSON.parse(env.KEY_POLICY!) } } : {}),
  // A killed worker's sticky queue would hold its workflows' next tasks until a timeout: do not use one.
  ...(crashAfter ? { maxCachedWorkflows: 0 } : {}),
});
process.stdout.write('ready\n');
await worker.run();
