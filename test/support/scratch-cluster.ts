import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../src/local/ports.js';
import { postgresUser } from '../../src/local/postgres-access.js';

const run = promisify(execFile);

/** The machine's own PostgreSQL binaries (Debian puts them under /usr/lib/postgresql/<major>/bin), newest first. */
export function systemPgBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root).filter((d) => existsSync(join(root, d, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a));
  return majors[0] ? join(root, majors[0], 'bin') : undefined;
}

export interface ScratchCluster {
  port: number;
  /** Starts the server; `tcp: false` serves its Unix socket only, as the postgres image's first-start init server does. */
  start(opts: { tcp: boolean }): Promise<void>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * A database cluster of its own (initdb, pg_ctl) on a spare port, with password authentication (scram-sha-256) for
 * `user`: what a deployment's PostgreSQL container is, without Docker. As root its files belong to `postgres`.
 */
export async function createScratchCluster(opts: { user: string; password: string }): Promise<ScratchCluster> {
  const bin = systemPgBin();
  if (!bin) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql');
  const runAs = postgresUser();
  const dir = await mkdtemp(join(tmpdir(), 'am-scratch-pg-'));
  if (runAs) await chown(dir, runAs.uid, runAs.gid);
  const pwfile = join(dir, 'pw');
  await writeFile(pwfile, `${opts.password}\n`, { mode: 0o600 });
  if (runAs) await chown(pwfile, runAs.uid, runAs.gid);
  const data = join(dir, 'data');
  const as = runAs ? { uid: runAs.uid, gid: runAs.gid } : {};
  await run(join(bin, 'initdb'), ['-D', data, '-U', opts.user, '--auth=scram-sha-256', `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C'], as);
  await rm(pwfile);
  const port = await freePort();
  let running = false;
  const cluster: ScratchCluster = {
    port,
    async start({ tcp }) {
      const listen = tcp ? '127.0.0.1' : "''";
      await run(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'log'), '-w', '-o', `-p ${port} -c listen_addresses=${listen} -k ${dir}`, 'start'], as);
      running = true;
    },
    async stop() {
      if (!running) return;
      await run(join(bin, 'pg_ctl'), ['-D', data, '-w', '-m', 'fast', 'stop'], as);
      running = false;
    },
    async destroy() {
      await cluster.stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}
