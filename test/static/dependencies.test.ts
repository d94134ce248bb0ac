import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const CODE = ['src', 'workflows', 'activities', 'temporal-schedules'];

it('imports point one way: no circle, no layer importing one above it, workflow code pure (.dependency-cruiser.cjs)', async () => {
  const cruise = await run(process.execPath, ['node_modules/dependency-cruiser/bin/dependency-cruise.mjs', '--config', '.dependency-cruiser.cjs', '--output-type', 'err', ...CODE], { cwd: ROOT }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: err.code ?? 1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
  );
  expect(cruise.out).toMatch(/no dependency violations found \(\d+ modules/);
  expect(cruise.code, cruise.out).toBe(0);
}, 120_000);

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(join(ROOT, dir), { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : Promise.resolve(/\.(ts|mts|mjs)$/.test(e.name) ? [join(dir, e.name)] : []))));
  return nested.flat();
}

it('reads the environment only in src/settings/ (and the entry points of bin/)', async () => {
  const readers: string[] = [];
  for (const file of (await Promise.all(CODE.map(filesUnder))).flat()) {
    if (file.startsWith(join('src', 'settings'))) continue;
    if (/process\.env\b/.test(await readFile(join(ROOT, file), 'utf8'))) readers.push(file);
  }
  expect(readers).toEqual([]);
  // The check can see a reader: the settings themselves are one.
  expect(await readFile(join(ROOT, 'src', 'settings', 'index.ts'), 'utf8')).toMatch(/process\.env/);
});
