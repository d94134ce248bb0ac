import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';

it('the whole project type-checks under strict settings', () => {
  // tsx runs TypeScript without checking types; this is where type errors surface.
  let output = '';
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', 'tsconfig.json'], { encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    output = String((err as { stdout?: string }).stdout ?? err);
  }
  expect(output).toBe('');
}, 120_000);
