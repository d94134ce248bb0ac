// A worker in its own process, so a test can SIGKILL it mid-purge like a crashed host.
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { openOrm } from '../../src/db/orm.js';
import { createLogger } from '../../src/logger.js';
import { createWorker } from '../../src/worker.js';

Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
const env = process.env;
const orm = await openOrm(env.DATABASE_URL!);
const delay = Number(env.BATCH_DELAY_MS ?? 0);
const { worker } = await createWorker({
  address: env.TEMPORAL_ADDRESS!,
  namespace: 'default',
  taskQueue: env.TASK_QUEUE!,
  orm,
  logger: createLogger({ level: 'silent' }),
  workflowBundle: { codePath: env.BUNDLE_PATH! },
  faults: delay ? { afterBatchCommit: () => new Promise((r) => setTimeout(r, delay)) } : undefined,
});
process.stdout.write('ready\n');
await worker.run();
