import type { Command } from 'commander';
import type { WorkflowHandle } from '@temporalio/client';
import { parsePort } from '../../kernel/endpoints.js';
import { RANGES } from '../../keys/policy.js';
import { KEY_ALGS, ROTATION_WORKFLOW_ID, type RotationParams, type RotationProgress, type RotationResult } from '../../keys/types.js';
import { oneOf, parseField } from '../../kernel/validate.js';
import { commandDatabase, parseIntFlag, parseTaskQueueFlag, resolveTemporal, reportingWorkflowFailure, type SettingsSource, type StartFlags, whileRunning } from '../context.js';
import { renderKeys, renderRotation } from '../render.js';

interface RotateFlags extends StartFlags {
  force?: boolean;
  alg?: string;
}

/** Reports each step as the rotation reaches it (on a terminal), then returns the result. */
async function follow(handle: WorkflowHandle, show: boolean): Promise<RotationResult> {
  if (!show) return handle.result() as Promise<RotationResult>;
  const { rotationProgressQuery } = await import('../../temporal/queries.js');
  let last = '';
  return whileRunning<RotationResult, RotationProgress>(handle, rotationProgressQuery, 500, (p) => {
    const line = `${p.step}${p.kid ? ` ${p.kid}` : ''}${p.waitingUntil ? ` (waiting until ${p.waitingUntil})` : ''}`;
    if (line !== last) process.stderr.write(`  ${line}\n`);
    last = line;
  });
}

function withStartFlags(cmd: Command): Command {
  return cmd
    .option('--json', 'print JSON')
    .option('--address <host:port>', 'Temporal frontend address')
    .option('--namespace <ns>', 'Temporal namespace')
    .option('--task-queue <name>', 'task queue of the worker', parseTaskQueueFlag);
}

/** Starts (or joins) the rotation workflow with these parameters; with --wait follows it and prints its result. */
export async function startRotation(settings: SettingsSource, flags: RotateFlags, params: RotationParams, print = true): Promise<RotationResult | undefined> {
  const [{ connectClient }, { startJob }] = await Promise.all([import('../../temporal/connect.js'), import('../../start-job.js')]);
  const s = await settings();
  const target = await resolveTemporal(s, flags);
  const client = await connectClient(target);
  try {
    const { handle, runId, joined } = await startJob(client, { job: 'key-rotation', params, taskQueue: target.taskQueue, trigger: 'cli' }, s.catalogue);
    const info = { workflowId: handle.workflowId, runId, joined };
    if (!flags.wait) {
      process.stdout.write(
        flags.json
          ? JSON.stringify(info) + '\n'
          : joined
            ? `joined the rotation already running: ${handle.workflowId} (run ${runId}); its own parameters apply\n`
            : `started ${handle.workflowId} (run ${runId})\n`,
      );
      return undefined;
    }
    if (joined && !flags.json) process.stderr.write(`joined the rotation already running (run ${runId}); its own parameters apply\n`);
    let out: RotationResult | undefined;
    await reportingWorkflowFailure('rotation', handle.workflowId, async () => {
      const result = await follow(handle, !flags.json && Boolean(process.stderr.isTTY));
      out = result;
      if (print || !flags.json) process.stdout.write(flags.json ? JSON.stringify({ ...info, ...result }) + '\n' : renderRotation(result));
      if (result.status === 'refused') process.exitCode = 1;
    }, { client, handle, taskQueue: target.taskQueue, namespace: target.namespace });
    return out;
  } finally {
    await client.connection.close();
  }
}

export function registerKeys(program: Command, settings: SettingsSource): void {
  const keys = program.command('keys').description('JWT signing keys: rotate, create a standby key, list, print or serve the JWKS');

  keys
    .command('rotate')
    .description(`rotate the signing key if it is due (joins a rotation already running: workflow id ${ROTATION_WORKFLOW_ID})`)
    .option('--force', 'rotate now even if the signing key is not due')
    .option('--alg <alg>', `algorithm of the new key: ${KEY_ALGS.join(', ')} (default: KEY_ALG on the worker, else RS256)`)
    .option('--wait', 'wait for the new key to become the signing key (at least the JWKS cache lifetime)')
    .option('--json', 'print JSON')
    .option('--address <host:port>', 'Temporal frontend address')
    .option('--namespace <ns>', 'Temporal namespace')
    .option('--task-queue <name>', 'task queue of the worker', parseTaskQueueFlag)
    .action(async (flags: RotateFlags) => {
      const alg = parseField('--alg', oneOf(KEY_ALGS), flags.alg);
      await startRotation(settings, flags, { ...(flags.force ? { force: true } : {}), ...(alg ? { alg } : {}) });
    });

  withStartFlags(
    keys
      .command('create')
      .description('create a standby keypair: published in the JWKS, not signing; the next rotation makes it the signing key (seed: jwt_manage create-keypair)')
      .option('--alg <alg>', `algorithm of the new key: ${KEY_ALGS.join(', ')} (default: KEY_ALG on the worker, else RS256)`),
  ).action(async (flags: RotateFlags) => {
    const alg = parseField('--alg', oneOf(KEY_ALGS), flags.alg);
    await startRotation(settings, { ...flags, wait: true }, { standby: true, ...(alg ? { alg } : {}) });
  });

  keys
    .command('list')
    .description('list the signing keys and where each is in its lifecycle (never private keys)')
    .option('--all', 'include deleted keys')
    .option('--json', 'print JSON')
    .option('--database-url <url>', 'database (default: DATABASE_URL, else the local environment)')
    .action(async (flags: { all?: boolean; json?: boolean; databaseUrl?: string }) => {
      const [{ withPoolDb }, { listKeys }] = await Promise.all([import('../../db/query.js'), import('../../keys/store.js')]);
      const rows = await withPoolDb(await commandDatabase(await settings(), flags.databaseUrl, 2), (db) => listKeys(db, { includeDeleted: flags.all }));
      process.stdout.write(flags.json ? JSON.stringify(rows) + '\n' : renderKeys(rows));
    });

  keys
    .command('jwks')
    .description('print the JWKS verifiers fetch: the signing key, the next key, and retired keys still verifying')
    .option('--database-url <url>', 'database (default: DATABASE_URL, else the local environment)')
    .action(async (flags: { databaseUrl?: string }) => {
      const [{ withPoolDb }, { loadJwks }] = await Promise.all([import('../../db/query.js'), import('../../keys/store.js')]);
      const jwks = await withPoolDb(await commandDatabase(await settings(), flags.databaseUrl, 2), (db) => loadJwks(db));
      process.stdout.write(JSON.stringify(jwks, null, 2) + '\n');
    });

  keys
    .command('serve')
    .description('serve the JWKS read-only over HTTP at /.well-known/jwks.json until interrupted')
    .option('--port <n>', 'port (default: JWKS_PORT, else 8234)')
    .option('--host <ip>', 'address to listen on', '127.0.0.1')
    .option('--cache-seconds <n>', 'Cache-Control max-age (default: JWKS_CACHE_SECONDS, else 3600); must match the workers', parseIntFlag('--cache-seconds', RANGES.jwksCacheSeconds.min, RANGES.jwksCacheSeconds.max))
    .option('--database-url <url>', 'database (default: DATABASE_URL, else the local environment)')
    .action(async (flags: { port?: string; host: string; cacheSeconds?: number; databaseUrl?: string }) => {
      const { default: pg } = await import('pg');
      const [{ dbFromPool }, { startJwksServer }, { createLogger }] = await Promise.all([import('../../db/query.js'), import('../../keys/server.js'), import('../../logger.js')]);
      const { config } = await settings();
      const port = flags.port !== undefined ? parsePort(flags.port, '--port', 8234) : (config.jwks.port ?? 8234);
      const cacheSeconds = flags.cacheSeconds ?? config.keyPolicy.jwksCacheSeconds;
      const pool = new pg.Pool(await commandDatabase(await settings(), flags.databaseUrl, 4));
      const logger = createLogger({ level: config.logLevel, format: process.stdout.isTTY ? 'pretty' : 'json' });
      // A long-running server: an idle connection the database closes is logged, and the pool opens another.
      pool.on('error', (err) => logger.warn({ err: err.message }, 'database connection closed'));
      const server = await startJwksServer({ db: dbFromPool(pool), port, host: flags.host, cacheSeconds, logger });
      process.stdout.write(`serving ${server.url} (Cache-Control max-age=${cacheSeconds}); Ctrl-C stops\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await server.close();
      await pool.end();
    });
}
