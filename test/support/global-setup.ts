import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { migrate, openOrm } from '../../src/orm/index.js';
import { createLogger } from '../../src/logger.js';
import { startDevServer } from '../../src/local/dev-server.js';
import { freePort, freePorts } from '../../src/local/ports.js';
import { ensureDatabase, startEmbeddedPostgres } from '../../src/local/postgres.js';
import { findOrBuildTemporalCli } from '../../src/local/temporal-cli.js';
import { loadConfig } from '../../src/settings/environment.js';
import { bundleWorkflows } from '../../src/worker.js';
import { Connection } from '@temporalio/client';
import { ensureSearchAttributes } from '../../src/temporal/namespace.js';
import { dropDatabase } from './db.js';
import { ensureBuilt } from '../../bin/ensure-build.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalUiUrl: string;
    temporalCliPath: string;
    adminDbUrl: string;
    templateDb: string;
    workflowBundlePath: string;
  }
}

/**
 * One real Temporal dev server and one real PostgreSQL for the whole run. Each test file then gets its own
 * database (a copy of a migrated template) and its own task queue.
 */
export default async function setup(project: TestProject) {
  const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'warn' });
  const scratch = await mkdtemp(join(tmpdir(), 'auth-maintenance-test-'));
  // The embedded server runs as the postgres user when tests run as root: it must reach its data dir (where a
  // directory above is private, as under a TMPDIR in root's home, its data goes elsewhere: src/local/postgres-access.ts).
  await chmod(scratch, 0o755);
  const stops: Array<() => Promise<unknown>> = [];

  try {
    return await startAll(project, logger, scratch, stops);
  } catch (err) {
    // Setup failed half way: stop what did start, or it outlives the run.
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await rm(scratch, { recursive: true, force: true });
    throw err;
  }
}

async function startAll(project: TestProject, logger: ReturnType<typeof createLogger>, scratch: string, stops: Array<() => Promise<unknown>>) {
  // The CLI and `npm start` run the compiled dist/ as users do: build it once here, not in the first test.
  await ensureBuilt();
  const { temporalCliPath, temporalCliSearch } = loadConfig(process.env);
  const cli = await findOrBuildTemporalCli({ explicitPath: temporalCliPath, ...temporalCliSearch, logger });
  if (!cli) throw new Error('the tests need the Temporal CLI: set TEMPORAL_CLI_PATH or install Go');
  const server = await startDevServerOnFreePorts(cli.path, logger);
  stops.push(() => server.stop());
  const connection = await Connection.connect({ address: server.address });
  await ensureSearchAttributes(connection, 'default');
  await connection.close();

  let adminDbUrl = process.env.DATABASE_URL;
  if (!adminDbUrl) {
    const db = await startEmbeddedPostgres({ dir: join(scratch, 'postgres'), port: await freePort(), logger, env: process.env, persistent: false });
    stops.push(() => db.stop());
    adminDbUrl = db.serverUrl('postgres');
  }
  const templateDb = `am_test_template_${process.pid}`;
  await ensureDatabase(adminDbUrl, templateDb);
  stops.push(() => dropDatabase(adminDbUrl!, templateDb));
  // The tests exercise the native jobs too: their tables are wanted even though DATABASE_URL may be set.
  const orm = await openOrm(withDatabase(adminDbUrl, templateDb), { nativeTables: true });
  await migrate(orm);
  await orm.close();

  const bundle = await bundleWorkflows();
  const workflowBundlePath = join(scratch, 'workflow-bundle.js');
  await writeFile(workflowBundlePath, bundle.code);

  project.provide('temporalAddress', server.address);
  project.provide('temporalUiUrl', server.uiUrl!);
  project.provide('temporalCliPath', cli.path);
  project.provide('adminDbUrl', adminDbUrl);
  project.provide('templateDb', templateDb);
  project.provide('workflowBundlePath', workflowBundlePath);

  return async () => {
    for (const stop of stops.reverse()) await stop().catch((err) => console.error('teardown:', err));
    await rm(scratch, { recursive: true, force: true });
  };
}

/**
 * The dev server on ports free a moment ago. It also takes random ports of its own (HTTP API, metrics,
 * membership), and other processes on the machine start servers too: a start that lost a port race is tried
 * again on fresh ports rather than failing the whole run.
 */
async function startDevServerOnFreePorts(cliPath: string, logger: ReturnType<typeof createLogger>) {
  for (let attempt = 1; ; attempt++) {
    const [port, uiPort] = await freePorts(2);
    try {
      return await startDevServer({ cliPath, port: port!, uiPort: uiPort!, logger });
    } catch (err) {
      if (attempt >= 3) throw err;
      logger.warn({ err, attempt }, 'the Temporal dev server did not start; trying again on other ports');
    }
  }
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
