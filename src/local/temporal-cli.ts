import { spawn, execFile } from 'node:child_process';
import { access, constants, mkdir, rename, rm } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { InputError } from '../kernel/errors.js';
import type { Logger } from '../logger.js';

export const TEMPORAL_CLI_VERSION = '1.5.1';
const MODULE = `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`;
// `go install` does not stamp the CLI's version, so a source build reports the server and UI it embeds.
const VERSION_MARKERS = [TEMPORAL_CLI_VERSION, 'Server 1.29.1, UI 2.42.1'];

const run = promisify(execFile);

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function versionOf(path: string): Promise<string | undefined> {
  try {
    const { stdout } = await run(path, ['--version'], { timeout: 15_000 });
    return stdout.trim();
  } catch {
    return undefined;
  }
}

async function onPath(name: string, searchPath: string): Promise<string | undefined> {
  for (const dir of searchPath.split(delimiter)) {
    if (dir && (await isExecutable(join(dir, name)))) return join(dir, name);
  }
  return undefined;
}

export type CliSource = 'TEMPORAL_CLI_PATH' | 'PATH' | 'cache' | 'built';

/**
 * Finds the pinned Temporal CLI: TEMPORAL_CLI_PATH, then PATH, then our cache; else builds it once with Go.
 * Returns undefined when none is found and Go is missing (the caller falls back to the SDK's download).
 */
export async function findOrBuildTemporalCli(opts: {
  explicitPath?: string;
  /** PATH, where `temporal` and `go` are looked for. */
  searchPath: string;
  /** The cache the CLI is built into and found in. */
  cacheDir: string;
  /** The environment `go install` runs in (with GOBIN set to a scratch dir of the cache). */
  buildEnv: NodeJS.ProcessEnv;
  logger: Logger;
  build?: boolean;
}): Promise<{ path: string; source: CliSource } | undefined> {
  if (opts.explicitPath) {
    if (!(await isExecutable(opts.explicitPath))) {
      throw new InputError('TEMPORAL_CLI_PATH', `${opts.explicitPath} is not an executable file; unset it to let the tool find or build the Temporal CLI`);
    }
    return { path: opts.explicitPath, source: 'TEMPORAL_CLI_PATH' };
  }
  const fromPath = await onPath('temporal', opts.searchPath);
  if (fromPath) {
    const version = await versionOf(fromPath);
    if (version && VERSION_MARKERS.some((m) => version.includes(m))) return { path: fromPath, source: 'PATH' };
    opts.logger.warn({ path: fromPath, version }, `temporal on PATH is not v${TEMPORAL_CLI_VERSION}; not using it`);
  }
  const cached = join(opts.cacheDir, 'temporal');
  if (await isExecutable(cached)) return { path: cached, source: 'cache' };
  if (opts.build === false) return undefined;
  const go = await onPath('go', opts.searchPath);
  if (!go) {
    opts.logger.warn('Go is not installed: cannot build the Temporal CLI here');
    return undefined;
  }
  await buildWithGo(go, opts.cacheDir, opts.buildEnv, opts.logger);
  return { path: cached, source: 'built' };
}

/** One `go install` into a scratch GOBIN, renamed into place at the end so a killed build leaves nothing half-made. */
async function buildWithGo(go: string, dir: string, env: NodeJS.ProcessEnv, logger: Logger): Promise<void> {
  const target = join(dir, 'temporal');
  const scratch = join(dir, `.build-${process.pid}`);
  await mkdir(scratch, { recursive: true });
  logger.info(
    { module: MODULE, into: dir },
    `Building the Temporal CLI v${TEMPORAL_CLI_VERSION} with Go. This happens once and takes several minutes ` +
      '(it downloads and compiles the Temporal server and Web UI); later starts reuse the cached binary.',
  );
  const started = Date.now();
  let downloaded = 0;
  const child = spawn(go, ['install', MODULE], { env: { ...env, GOBIN: scratch }, stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    downloaded += chunk.split('\n').filter((l) => l.startsWith('go: downloading')).length;
    tail = (tail + chunk).slice(-4_000);
  });
  const tty = process.stderr.isTTY;
  const tick = setInterval(() => {
    const elapsed = Math.round((Date.now() - started) / 1000);
    const line = `building Temporal CLI: ${Math.floor(elapsed / 60)}m${String(elapsed % 60).padStart(2, '0')}s elapsed, ${downloaded} modules downloaded`;
    if (tty) process.stderr.write(`\r${line}   `);
    else if (elapsed % 30 < 5) logger.info({ elapsedSeconds: elapsed, modulesDownloaded: downloaded }, 'still building the Temporal CLI');
  }, 5_000);
  const code: number = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  clearInterval(tick);
  if (tty) process.stderr.write('\n');
  if (code !== 0) {
    await rm(scratch, { recursive: true, force: true });
    throw new Error(`go install ${MODULE} failed (exit ${code}):\n${tail}`);
  }
  await rename(join(scratch, 'temporal'), target);
  await rm(scratch, { recursive: true, force: true });
  logger.info({ path: target, seconds: Math.round((Date.now() - started) / 1000) }, 'Temporal CLI built');
}
