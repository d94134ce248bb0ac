import { execFile } from 'node:child_process';
import { chown, mkdtemp, rm, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePorts } from '../../src/local/ports.js';
import { postgresUser } from '../../src/local/postgres-access.js';
import { systemPgBin } from './scratch-cluster.js';

const run = promisify(execFile);

export interface ReplicaPair {
  /** postgres://postgres@127.0.0.1:<port>/postgres of the primary (trust authentication). */
  primaryUrl: string;
  standbyUrl: string;
  destroy(): Promise<void>;
}

/**
 * A primary and a real streaming standby made from it with pg_basebackup, each on a spare port: what a team's
 * production database with its read replica is, on this machine. As root, the clusters belong to `postgres`.
 */
export async function createReplicaPair(): Promise<ReplicaPair> {
  const bin = systemPgBin();
  if (!bin) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql');
  const runAs = postgresUser();
  const as = runAs ? { uid: runAs.uid, gid: runAs.gid } : {};
  const dir = await mkdtemp(join(tmpdir(), 'am-replica-'));
  if (runAs) await chown(dir, runAs.uid, runAs.gid);
  const [pPort, sPort] = await freePorts(2);
  const primary = join(dir, 'primary');
  const standby = join(dir, 'standby');
  const started: string[] = [];
  const pgctl = (data: string, port: number, action: 'start' | 'stop') =>
    run(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, `${port}.log`), '-w', '-m', 'fast', ...(action === 'start' ? ['-o', `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir}`] : []), action], as);
  const destroy = async () => {
    for (const [data, port] of started.map((d) => [d, d === primary ? pPort! : sPort!] as const).reverse()) await pgctl(data, port, 'stop').catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await run(join(bin, 'initdb'), ['-D', primary, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C'], as);
    // initdb's pg_hba.conf already lets local replication connections in (trust); a WAL sender or two are enough.
    await appendFile(join(primary, 'postgresql.conf'), '\nwal_level = replica\nmax_wal_senders = 4\nfsync = off\n');
    await pgctl(primary, pPort!, 'start');
    started.push(primary);
    await run(join(bin, 'pg_basebackup'), ['-h', '127.0.0.1', '-p', String(pPort), '-U', 'postgres', '-D', standby, '-R', '-X', 'stream', '-c', 'fast'], as);
    await pgctl(standby, sPort!, 'start');
    started.push(standby);
  } catch (err) {
    await destroy();
    throw err;
  }
  return { primaryUrl: `postgres://postgres@127.0.0.1:${pPort}/postgres`, standbyUrl: `postgres://postgres@127.0.0.1:${sPort}/postgres`, destroy };
}
