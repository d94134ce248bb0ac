// The compiled service in dist/, built first when it is missing or older than the sources. This keeps
// `npm ci && npm start` working on a fresh clone without an install script, and costs a few milliseconds of
// `stat` calls when dist/ is current. An image that ships dist/ without sources is used as it is.
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const dist = join(root, 'dist');
const STAMP = join(dist, '.build-stamp');
const LOCK = join(dist, '.build-lock');
const SOURCE_DIRS = ['src', 'workflows', 'activities', 'temporal-schedules'];
const SOURCE_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json', 'scripts/build.mjs'];

async function mtime(path) {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return undefined;
  }
}

async function newestIn(dir) {
  let newest = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    const t = e.isDirectory() ? await newestIn(path) : await mtime(path);
    if (t !== undefined && t > newest) newest = t;
  }
  return newest;
}

/** Newest modification time among the sources, or undefined when there are none (a production image). */
async function newestSource() {
  const times = await Promise.all([...SOURCE_DIRS.map((d) => newestIn(join(root, d))), ...SOURCE_FILES.map((f) => mtime(join(root, f)))]);
  const present = times.filter((t) => t !== undefined);
  return present.length ? Math.max(...present) : undefined;
}

async function isCurrent() {
  const built = await mtime(STAMP);
  if (built === undefined) return false;
  const newest = await newestSource();
  return newest === undefined || newest <= built;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** One build at a time: parallel `maint` calls wait for the first one's build instead of racing it. */
async function withLock(fn) {
  await mkdir(dist, { recursive: true });
  for (;;) {
    try {
      await mkdir(LOCK);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const holder = Number(await readFile(join(LOCK, 'pid'), 'utf8').catch(() => ''));
      if (holder && !alive(holder)) await rm(LOCK, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    await writeFile(join(LOCK, 'pid'), String(process.pid));
    return await fn();
  } finally {
    await rm(LOCK, { recursive: true, force: true });
  }
}

export async function ensureBuilt() {
  if (await isCurrent()) return;
  await withLock(async () => {
    if (await isCurrent()) return; // another process built it while we waited
    process.stderr.write('Building auth-maintenance into dist/ (the sources changed or it was never built)...\n');
    // The build's output goes to stderr: stdout belongs to the command (`maint ... --json`).
    const child = spawn(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: ['ignore', 2, 2] });
    const code = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? 1)));
    if (code !== 0) throw new Error('the build failed (see above); fix it, or run `npm run build` to see it again');
  });
  if (!(await mtime(STAMP))) throw new Error('dist/ is missing and there are no sources to build it from');
}

/** For the bin scripts: build if needed, or say why not and exit. */
export async function ensureBuiltOrExit() {
  try {
    await ensureBuilt();
  } catch (err) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exit(1);
  }
}
