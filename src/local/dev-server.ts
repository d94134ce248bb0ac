import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../logger.js';
import { temporalAnswers } from '../temporal/connect.js';
import { secureSqliteFile } from './data-dir.js';

export interface DevServerOptions {
  cliPath: string;
  ip?: string;
  port: number;
  /** Web UI port; omit for a headless server. */
  uiPort?: number;
  /** SQLite file that persists the server's state; in memory when omitted. */
  dbFile?: string;
  namespace?: string;
  searchAttributes?: Record<string, string>;
  /** `--dynamic-config-value` settings, e.g. to make the dev server behave as a production server does. */
  dynamicConfig?: Record<string, unknown>;
  logger: Logger;
  startTimeoutMs?: number;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  /** The `temporal` process, when we started it ourselves. */
  process?: ChildProcess;
  stop(): Promise<void>;
}

/**
 * The last resort when there is no Temporal CLI and no Go to build it: the SDK downloads the pinned CLI (needs
 * internet) and runs its dev server.
 */
export async function startDevServerFromSdkDownload(opts: Omit<DevServerOptions, 'cliPath'> & { version: string }): Promise<DevServer> {
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const ip = opts.ip ?? '127.0.0.1';
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'cached-download', version: `v${opts.version}` },
      ip,
      port: opts.port,
      ui: Boolean(opts.uiPort),
      ...(opts.uiPort ? { uiPort: opts.uiPort } : {}),
      ...(opts.dbFile ? { dbFilename: opts.dbFile } : {}),
      ...(opts.namespace ? { namespace: opts.namespace } : {}),
    },
  });
  // The SDK spawns the server itself, under our umask: tighten its file once it exists.
  if (opts.dbFile) await secureSqliteFile(opts.dbFile);
  return { address: env.address, uiUrl: opts.uiPort ? `http://${ip}:${opts.uiPort}` : undefined, stop: () => env.teardown() };
}

/** Starts `temporal server start-dev` and waits until its frontend answers. */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const ip = opts.ip ?? '127.0.0.1';
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(opts.port), '--log-format', 'json', '--log-level', 'warn'];
  if (opts.uiPort) args.push('--ui-port', String(opts.uiPort));
  else args.push('--headless');
  if (opts.dbFile) {
    await mkdir(dirname(opts.dbFile), { recursive: true, mode: 0o700 });
    args.push('--db-filename', opts.dbFile);
  }
  if (opts.namespace && opts.namespace !== 'default') args.push('--namespace', opts.namespace);
  for (const [k, v] of Object.entries(opts.searchAttributes ?? {})) args.push('--search-attribute', `${k}=${v}`);
  for (const [k, v] of Object.entries(opts.dynamicConfig ?? {})) args.push('--dynamic-config-value', `${k}=${JSON.stringify(v)}`);

  // The server writes every workflow input into its SQLite file: created 0600 (the child inherits the umask).
  const umask = process.umask(0o077);
  let child: ChildProcess;
  try {
    child = spawn(opts.cliPath, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: false });
  } finally {
    process.umask(umask);
  }
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-8_000);
  });
  let exited: number | null = null;
  // A last resort for an exit of ours that skipped stop() (an uncaught error, process.exit): the server must not
  // outlive us holding its ports.
  const onExit = () => child.kill('SIGTERM');
  process.once('exit', onExit);
  const exit = new Promise<void>((resolve) => {
    const done = (code: number) => {
      process.removeListener('exit', onExit);
      exited = code;
      resolve();
    };
    child.once('exit', (code) => done(code ?? 0));
    // A CLI that cannot be run at all: an error of this start, not an uncaught one.
    child.once('error', (err) => {
      stderr += err.message;
      done(-1);
    });
  });
  const address = `${ip}:${opts.port}`;
  const spawnedAt = Date.now();
  const deadline = spawnedAt + (opts.startTimeoutMs ?? 60_000);
  while (!(await temporalAnswers(address, 1_000))) {
    if (exited !== null) throw new Error(`temporal server start-dev exited with code ${exited}:\n${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exit;
      throw new Error(`temporal server start-dev did not answer on ${address} within ${opts.startTimeoutMs ?? 60_000} ms:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  if (opts.dbFile) await secureSqliteFile(opts.dbFile);
  opts.logger.info({ address, pid: child.pid, readyMs: Date.now() - spawnedAt }, 'Temporal dev server answers');
  return {
    address,
    uiUrl: opts.uiPort ? `http://${ip}:${opts.uiPort}` : undefined,
    process: child,
    async stop() {
      if (exited !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    },
  };
}
