import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { maint } from './support/cli.js';

// `maint --help` (and a mistyped flag) must answer at once: the Temporal client alone takes 0.2-0.3 s to load here,
// the ORM and the database driver more. What a command needs is imported when it runs. The modules the CLI loads
// are recorded with Node's module hooks (test/fixtures/imports), not guessed from the sources.
const HEAVY = ['@temporalio/', '@mikro-orm/', 'node_modules/pg/', 'node_modules/pino/', 'node_modules/nodemailer/', 'node_modules/jose/'];
const register = join(import.meta.dirname, 'fixtures', 'imports', 'register.mjs');
const dir = await mkdtemp(join(tmpdir(), 'maint-imports-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

async function loadedBy(args: string[], name: string) {
  const file = join(dir, name);
  const res = await maint(args, { NODE_OPTIONS: `--import ${register}`, RECORD_IMPORTS_TO: file });
  const urls = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
  return { res, urls, heavy: urls.filter((u) => HEAVY.some((h) => u.includes(h))) };
}

describe('the CLI loads what a command needs, when it runs', () => {
  it('`maint --help` loads neither the Temporal client, the ORM nor the database driver', async () => {
    const { res, urls, heavy } = await loadedBy(['--help'], 'help');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Usage: maint');
    // The recorder works: the CLI's own modules and commander are in the list.
    expect(urls.some((u) => u.endsWith('/dist/src/cli/main.js'))).toBe(true);
    expect(urls.some((u) => u.includes('node_modules/commander/'))).toBe(true);
    expect(heavy).toEqual([]);
  });

  it("a command's --help and a usage error load none of them either", async () => {
    const help = await loadedBy(['run', '--help'], 'run-help');
    expect(help.res.code).toBe(0);
    expect(help.heavy).toEqual([]);
    const wrong = await loadedBy(['runs', '--no-such-flag'], 'usage');
    expect(wrong.res.code).not.toBe(0);
    expect(wrong.res.stderr).toContain("unknown option '--no-such-flag'");
    expect(wrong.heavy).toEqual([]);
  });

  it('a command that talks to Temporal loads its client', async () => {
    // Nothing listens on port 1: the command fails to connect, after loading the client to try.
    const { res, urls } = await loadedBy(['schedules', 'list', '--address', '127.0.0.1:1'], 'schedules');
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/^error: /m);
    expect(urls.some((u) => u.includes('@temporalio/client'))).toBe(true);
  });
});
