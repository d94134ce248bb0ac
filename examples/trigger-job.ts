/**
 * Triggers a maintenance job from your own code, validated and labelled like `maint run` does it, and prints
 * its result as JSON. `npm run build` once, then:
 *
 *   npx tsx examples/trigger-job.ts purge-expired-tokens '{"dryRun": true}'
 *
 * The Temporal server and task queue come from the environment (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_TASK_QUEUE, or a Temporal profile), the jobs from the built-in ones and the config file (MAINT_CONFIG).
 * A bad job name or parameter fails here, before anything starts.
 */
import { connectFromEnvironment, InputError, startJob } from 'auth-maintenance/client';

const [job = 'purge-expired-tokens', params = '{}'] = process.argv.slice(2);

const { client, taskQueue, catalogue } = await connectFromEnvironment();
try {
  const { handle, runId } = await startJob(client, { job, params: JSON.parse(params), taskQueue, trigger: 'script:trigger-job' }, catalogue);
  process.stderr.write(`started ${handle.workflowId} (run ${runId}); waiting for its result\n`);
  process.stdout.write(JSON.stringify(await handle.result()) + '\n');
} catch (err) {
  if (!(err instanceof InputError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exitCode = 2;
} finally {
  await client.connection.close();
}
