import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputErrors } from '../../src/kernel/errors.js';
import { loadSettings } from '../../src/settings/index.js';
import { VARIABLES } from '../../src/settings/variables.js';

const DOC = join(import.meta.dirname, '..', '..', 'docs', 'configuration.md');

/** The rows of the first table under `## Environment variables` in docs/configuration.md. */
async function documentedRows(): Promise<string[]> {
  const text = await readFile(DOC, 'utf8');
  const section = text.slice(text.indexOf('## Environment variables'));
  const lines = section.split('\n');
  const start = lines.findIndex((l) => l.startsWith('| variable |'));
  const rows: string[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line);
  }
  return rows;
}

describe('the table of variables', () => {
  it('is the one docs/configuration.md shows, variable for variable, with the same defaults and meanings', async () => {
    const expected = VARIABLES.map((v) => `| \`${v.name}\` | ${v.default} | ${v.meaning} |`);
    // On a difference, the expected rows are what the doc's table should say.
    expect(await documentedRows()).toEqual(expected);
  });

  it('lists every variable the settings read, and the settings read every variable it lists', () => {
    const read = new Set<string>();
    const env = new Proxy({} as NodeJS.ProcessEnv, {
      get(target, name) {
        if (typeof name === 'string') read.add(name);
        return Reflect.get(target, name);
      },
    });
    loadSettings(env);
    // The Temporal SDK reads its own (TEMPORAL_API_KEY, TEMPORAL_TLS*, ...) from a copy of the environment.
    const ours: string[] = VARIABLES.filter((v) => !('temporalSdk' in v)).map((v) => v.name);
    expect([...read].filter((name) => !ours.includes(name))).toEqual([]);
    expect(ours.filter((name) => !read.has(name))).toEqual([]);
  });

  it('holds MAINT_MAX_PARALLEL, the setting nothing read before it was in the table', () => {
    expect(loadSettings({}).config.maxParallel).toBe(8);
    expect(loadSettings({ MAINT_MAX_PARALLEL: '2' }).config.maxParallel).toBe(2);
    expect(() => loadSettings({ MAINT_MAX_PARALLEL: '17' })).toThrow(/^MAINT_MAX_PARALLEL: "17" is not allowed; expected an integer from 1 to 16$/);
  });
});

describe('mistakes in the settings', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'maint-settings-unit-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('are told all at once, each naming its variable or its path in the config file, in plain words', async () => {
    const file = join(dir, 'many-mistakes.yaml');
    await writeFile(
      file,
      [
        'rules:',
        '  purge-audit:',
        '    table: audit log',
        '    timestampColumn: created_at',
        '    retentionDays: -3',
        '    colour: red',
        '    where: [{ column: kind, op: like, value: x }]',
        'schedules:',
        '  maint-purge-expired-tokens-daily: { owner: ops }',
        'notifications:',
        '  email: { host: smtp.example.com, port: 99999, from: a@b.c, to: [ops@example.com], password: inline }',
        '',
      ].join('\n'),
    );
    let error: unknown;
    try {
      loadSettings({ MAINT_CONFIG: file, LOG_LEVEL: 'loud', MAINT_MAX_PARALLEL: 'many' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InputErrors);
    const lines = (error as InputErrors).message.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        'LOG_LEVEL: "loud" is not one of fatal, error, warn, info, debug, trace, silent',
        'MAINT_MAX_PARALLEL: "many" is not allowed; expected an integer from 1 to 16',
        expect.stringMatching(/^rules\.purge-audit: unknown field "colour"; allowed: description, table, /),
        'rules.purge-audit.table: must be a plain SQL identifier (letters, digits, _)',
        'rules.purge-audit.retentionDays: must not be negative',
        expect.stringMatching(/^rules\.purge-audit\.where\[0\]: \{"column":"kind","op":"like","value":"x"\} is not a condition; expected \{column, op: is_null/),
        expect.stringMatching(/^schedules\.maint-purge-expired-tokens-daily\.owner: cannot be overridden; allowed: enabled, cron/),
        expect.stringMatching(/^notifications\.email: unknown field "password"; allowed: host, port, /),
        'notifications.email.port: 99999 is not allowed; expected an integer from 1 to 65535',
      ]),
    );
    expect(lines).toHaveLength(9);
    // Plain words: none of the validation library's own texts.
    expect((error as Error).message).not.toMatch(/Invalid input|Unrecognized key|Too big|Too small/);
  });

  it('stop a process before it starts: one mistake is its own line', () => {
    expect(() => loadSettings({ MAINT_CONFIG: join(dir, 'nowhere.yaml') })).toThrow(new RegExp(`^MAINT_CONFIG: ${join(dir, 'nowhere.yaml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} does not exist$`));
  });
});
