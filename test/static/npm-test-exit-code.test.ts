import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';

/*
 * `npm test` must exit non-zero whenever a test fails or a test file cannot load, whatever the integration
 * project's global setup started (a Temporal dev server and an embedded PostgreSQL, whose package once turned
 * every exit code into 0). Each case runs the README's command on one throwaway file in a child process.
 */
const scratch = join('test', 'scratch', `exit-code-${randomBytes(4).toString('hex')}`);
afterAll(() => rm(scratch, { recursive: true, force: true }));

const CASES = {
  fails: `import { expect, it } from 'vitest';\nit('a deliberate failure', () => { expect(1 + 1).toBe(3); });\n`,
  throwsAtImport: `import { it } from 'vitest';\nthrow new Error('a deliberate import failure');\nit('never runs', () => {});\n`,
  passes: `import { expect, it } from 'vitest';\nit('a deliberate pass', () => { expect(1 + 1).toBe(2); });\n`,
};

async function npmTest(file: string): Promise<{ code: number | null; output: string }> {
  // No DATABASE_URL: the global setup starts the embedded PostgreSQL, the path that lost the exit code.
  const { DATABASE_URL: _, ...env } = process.env;
  const child = spawn('npm', ['test', '--', file, '--reporter=default'], {
    env: { ...env, MAINT_TEST_SCRATCH: '1', MAINT_SKIP_BROWSER: '1', MAINT_SKIP_DJANGO: '1', NO_COLOR: '1', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, output };
}

it('npm test exits non-zero on a failing test and on a file that throws at import, and 0 when all pass', async () => {
  await mkdir(scratch, { recursive: true });
  const files = Object.fromEntries(Object.keys(CASES).map((name) => [name, join(scratch, `${name}.test.ts`)])) as Record<keyof typeof CASES, string>;
  for (const [name, body] of Object.entries(CASES)) await writeFile(files[name as keyof typeof CASES], body);

  const [fails, throwsAtImport, passes] = await Promise.all([npmTest(files.fails), npmTest(files.throwsAtImport), npmTest(files.passes)]);

  expect(fails.output).toContain('a deliberate failure');
  expect(fails.output).toMatch(/Tests\s+1 failed/);
  expect(fails.code, fails.output).not.toBe(0);

  expect(throwsAtImport.output).toContain('a deliberate import failure');
  expect(throwsAtImport.output).toMatch(/Test Files\s+1 failed/);
  expect(throwsAtImport.code, throwsAtImport.output).not.toBe(0);

  // The same command on a passing file exits 0: the check above tells a failure from a harness that always fails.
  expect(passes.output).toMatch(/Tests\s+1 passed/);
  expect(passes.code, passes.output).toBe(0);
});
