import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Client } from '@temporalio/client';
import { connectTestClient, createTestDatabase, seedBulk, startTestWorker, uniqueName, workflowsOnQueue, type TestDatabase, type TestWorker } from './support/env.js';
import { maint } from './support/cli.js';
import { snapshotTables } from './support/snapshot.js';

/**
 * Bad input to the CLI, the config file and the environment: each is refused with an error naming the field,
 * before anything is contacted, and no table of the database changes. A worker polls the queue and there are
 * expired tokens to delete, so a bad input that slipped through would show.
 */

let client: Client;
let db: TestDatabase;
let worker: TestWorker;
let env: Record<string, string>;
let dir: string;
let baseline: Awaited<ReturnType<typeof snapshotTables>>;

const SCHEDULE = 'maint-purge-expired-tokens-daily';
const configs: Record<string, string> = {
  list: '- schedules\n- rules\n',
  scalar: 'purge everything\n',
  unknownSection: 'schedule:\n  maint-purge-expired-tokens-daily: { cron: "0 1 * * *" }\n',
  invalidYaml: 'rules: [unclosed\n',
  duplicateKey: 'rules:\n  purge-a: { table: a, timestampColumn: t }\n  purge-a: { table: b, timestampColumn: t }\n',
  // 140k rule keys: the file is refused by its size before it is read.
  hugeRules: 'rules:\n' + Array.from({ length: 140_000 }, (_, i) => `  r${i}: 0\n`).join(''),
  // Under the size limit, over the rule count.
  manyRules: 'rules:\n' + Array.from({ length: 600 }, (_, i) => `  r${i}: {table: t, timestampColumn: c}\n`).join(''),
  ruleNotMapping: 'rules: [purge-a]\n',
  ruleBadTable: 'rules:\n  purge-a: { table: "audit log", timestampColumn: created_at }\n',
  ruleUnknownField: 'rules:\n  purge-a: { table: audit_log, timestampColumn: created_at, colour: red }\n',
  ruleNegativeRetention: 'rules:\n  purge-a: { table: audit_log, timestampColumn: created_at, retentionDays: -1 }\n',
  ruleBuiltInName: 'rules:\n  purge-expired-tokens: { table: audit_log, timestampColumn: created_at }\n',
  ruleCycle: 'rules:\n  purge-a: { table: a, timestampColumn: t, children: [{ table: b, foreignKey: a_id, children: [{ table: a, foreignKey: b_id }] }] }\n',
  scheduleUnknown: 'schedules:\n  maint-nope: { cron: "0 1 * * *" }\n',
  scheduleBadCron: `schedules:\n  ${SCHEDULE}: { cron: "61 * * * *" }\n`,
  scheduleBadZone: `schedules:\n  ${SCHEDULE}: { timezone: Mars/Olympus }\n`,
  scheduleBadParams: `schedules:\n  ${SCHEDULE}: { params: { batchSize: 0 } }\n`,
  scheduleNotMapping: `schedules:\n  ${SCHEDULE}: daily\n`,
  scheduleUnknownField: `schedules:\n  ${SCHEDULE}: { hourly: true }\n`,
};
const cfg = (name: keyof typeof configs) => join(dir, `${name}.yaml`);

beforeAll(async () => {
  client = await connectTestClient();
  db = await createTestDatabase();
  worker = await startTestWorker(db);
  env = { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_TASK_QUEUE: worker.taskQueue, DATABASE_URL: db.url };
  await seedBulk(db, { expired: 50, valid: 20, cutoff: new Date(Date.now() - 60_000), blacklistEvery: 7 });
  dir = await mkdtemp(join(tmpdir(), 'maint-bad-input-'));
  for (const [name, text] of Object.entries(configs)) await writeFile(join(dir, `${name}.yaml`), text);
  baseline = await snapshotTables(db);
});
afterAll(async () => {
  await worker.stop();
  await client.connection.close();
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

type Case = [string, string[], Record<string, string>, RegExp];
const long = (n: number, c = 'x') => c.repeat(n);

const CASES: Case[] = [
  // maint run
  ['unknown job', ['run', 'purge-everything'], {}, /^error: job: unknown job "purge-everything"; allowed: /m],
  ['batch size 0', ['run', 'purge-expired-tokens', '--batch-size', '0'], {}, /--batch-size: "0" is not allowed; expected an integer from 1 to 100000/],
  ['batch size not an integer', ['run', 'purge-expired-tokens', '--batch-size', '1.5'], {}, /--batch-size: "1.5" is not allowed/],
  ['days below range', ['run', 'purge-stale-unverified-accounts', '--days=-1'], {}, /--days: "-1" is not allowed; expected an integer from 1 to 3650/],
  ['days above range', ['run', 'purge-stale-unverified-accounts', '--days', '3651'], {}, /--days: "3651" is not allowed/],
  ['days on a job without it', ['run', 'purge-expired-tokens', '--days', '5'], {}, /--days: not accepted by purge-expired-tokens; accepted by: /],
  ['as-of in words', ['run', 'purge-expired-tokens', '--as-of', 'March 7'], {}, /--as-of: "March 7" is not an ISO 8601 timestamp; expected a date \(2026-03-07\) or a date-time with a time zone/],
  ['as-of without a time zone', ['run', 'purge-expired-tokens', '--as-of', '2026-03-07T10:00:00'], {}, /--as-of: "2026-03-07T10:00:00" has no time zone; add Z for UTC or an offset such as \+02:00/],
  ['as-of not a calendar date', ['run', 'purge-expired-tokens', '--as-of', '2026-02-30'], {}, /--as-of: "2026-02-30" is not an ISO 8601 timestamp/],
  ['as-of in the future', ['run', 'purge-expired-tokens', '--as-of', '2999-01-01T00:00:00Z'], {}, /--as-of: 2999-01-01T00:00:00Z is in the future; allowed: now or earlier/],
  ['parallel lanes 0', ['run', 'purge-expired-tokens', '--parallel', '0'], {}, /--parallel: "0" is not allowed; expected an integer from 1 to /],
  ['parallel on a job without lanes', ['run', 'scopes', '--parallel', '2'], {}, /--parallel: not accepted by scopes/],
  ['unknown token type', ['run', 'purge-verification-tokens', '--types', 'email_verification,sms'], {}, /types: unknown type "sms"; allowed: email_verification/],
  ['empty token type', ['run', 'purge-verification-tokens', '--types', ','], {}, /types: .* is not allowed; expected a comma-separated list of type names/],
  ['workflow id over 255 characters', ['run', 'purge-expired-tokens', '--workflow-id', long(256)], {}, /--workflow-id: is 256 characters long; a workflow id has at most 255/],
  ['workflow id with a newline', ['run', 'purge-expired-tokens', '--workflow-id', 'a\nb'], {}, /--workflow-id: contains a control character/],
  ['empty workflow id', ['run', 'purge-expired-tokens', '--workflow-id', ''], {}, /--workflow-id: "" is not allowed; expected a workflow id of 1 to 255 characters/],
  ['task queue over 1000 characters', ['run', 'purge-expired-tokens', '--task-queue', long(1001)], {}, /--task-queue: is 1001 characters long; a task queue name has at most 1000/],
  ['bad namespace flag', ['run', 'purge-expired-tokens', '--namespace', 'a b'], {}, /--namespace: "a b" is not a namespace name/],
  ['address without a port', ['run', 'purge-expired-tokens', '--address', 'nohost'], {}, /--address: "nohost" is not an address; expected host:port/],
  ['address with a port out of range', ['run', 'purge-expired-tokens', '--address', '127.0.0.1:70000'], {}, /--address: "127.0.0.1:70000" is not an address/],
  ['provider on a purge', ['run', 'purge-expired-tokens', '--provider', 'google'], {}, /--provider: not accepted by purge-expired-tokens; accepted by: refresh-jwks/],
  ['dry run on refresh-jwks', ['run', 'refresh-jwks', '--dry-run'], {}, /--dry-run: not accepted by refresh-jwks/],
  ['batch size on scopes', ['run', 'scopes', '--batch-size', '10'], {}, /--batch-size: not accepted by scopes/],
  ['bad provider name', ['run', 'refresh-jwks', '--provider', 'no spaces'], {}, /--provider: must be a list of provider names/],
  ['unknown flag', ['run', 'purge-expired-tokens', '--batchsize', '5'], {}, /unknown option '--batchsize'/],
  // The Django presets' flags: versions not read, settings a version does not read, zones that are not zones.
  ['DOT version newer than any read', ['run', 'django-oauth-toolkit-cleartokens', '--dot-version', '3.5'], {}, /--dot-version: 3\.5 is newer than 3\.4\.1, the newest django-oauth-toolkit release whose cleartokens this preset reproduces/],
  ['DOT version 3.4 without its patch', ['run', 'django-oauth-toolkit-cleartokens', '--dot-version', '3.4'], {}, /--dot-version: 3\.4 is ambiguous: 3\.4\.0 and 3\.4\.1 clear differently/],
  ['grace period for a version that does not read it', ['run', 'django-oauth-toolkit-cleartokens', '--dot-version', '3.3', '--refresh-token-grace-period-seconds', '60'], {}, /--refresh-token-grace-period-seconds: django-oauth-toolkit 3\.3's clear_expired does not read REFRESH_TOKEN_GRACE_PERIOD_SECONDS \(3\.4\.0 and later do\)/],
  ['reuse protection for a version that does not read it', ['run', 'django-oauth-toolkit-cleartokens', '--dot-version', '2.4', '--refresh-token-reuse-protection'], {}, /--refresh-token-reuse-protection: django-oauth-toolkit 2\.4's clear_expired does not read REFRESH_TOKEN_REUSE_PROTECTION/],
  ['negative grace period', ['run', 'django-oauth-toolkit-cleartokens', '--dot-version', '3.4.1', '--refresh-token-grace-period-seconds', '-1'], {}, /--refresh-token-grace-period-seconds: "-1" is not allowed; expected an integer from 0 to/],
  ['grace period on simplejwt', ['run', 'django-simplejwt-flush-expired', '--refresh-token-grace-period-seconds', '60'], {}, /--refresh-token-grace-period-seconds: not accepted by django-simplejwt-flush-expired; accepted by: django-oauth-toolkit-cleartokens/],
  ['unknown Django time zone', ['run', 'django-simplejwt-flush-expired', '--django-time-zone', 'Mars/Olympus'], {}, /--django-time-zone: "Mars\/Olympus" is not a time zone; expected an IANA time zone name, Django's TIME_ZONE/],
  ['Django time zone as an offset', ['run', 'django-simplejwt-flush-expired', '--django-time-zone', '+02:00'], {}, /--django-time-zone: "\+02:00" is not allowed; expected an IANA time zone name/],
  ['Django time zone on clearsessions', ['run', 'django-clearsessions', '--django-time-zone', 'Europe/Berlin'], {}, /--django-time-zone: not accepted by django-clearsessions; accepted by: django-simplejwt-flush-expired/],
  // maint keys, runs, seed
  ['unknown algorithm', ['keys', 'rotate', '--alg', 'HS256'], {}, /--alg: "HS256" is not allowed; expected one of RS256, ES256, EdDSA/],
  ['serve port 0', ['keys', 'serve', '--port', '0'], {}, /--port: "0" is not a port; expected an integer from 1 to 65535/],
  ['JWKS cache seconds out of range', ['keys', 'serve', '--cache-seconds', '999999999'], {}, /--cache-seconds: "999999999" is not allowed; expected an integer from 0 to 604800/],
  ['database url of another protocol', ['keys', 'list', '--database-url', 'mysql://u@h/db'], {}, /--database-url: protocol "mysql:" is not supported; expected postgres:\/\//],
  ['runs limit above range', ['runs', '--limit', '1001'], {}, /--limit: "1001" is not allowed; expected an integer from 1 to 1000/],
  ['seed zero tokens', ['seed', '--tokens', '0', '--database-url', 'postgres://u@h/db'], {}, /--tokens: "0" is not allowed; expected an integer from 1 to 10000000/],
  ['seed share above 100', ['seed', '--expired', '101', '--database-url', 'postgres://u@h/db'], {}, /--expired: "101" is not allowed; expected an integer from 0 to 100/],
  // maint schedules
  ['backfill from in words', ['schedules', 'backfill', SCHEDULE, '--from', 'March 7', '--to', '2026-11-03T00:00:00Z'], {}, /--from: "March 7" is not an ISO 8601 timestamp; expected a date/],
  ['backfill window reversed', ['schedules', 'backfill', SCHEDULE, '--from', '2026-11-03T00:00:00Z', '--to', '2026-11-01T00:00:00Z'], {}, /--from: 2026-11-03T00:00:00.000Z must be before --to/],
  ['backfill window in the future', ['schedules', 'backfill', SCHEDULE, '--from', '2026-11-03T00:00:00Z', '--to', '2999-01-01'], {}, /--to: a backfill window must lie in the past/],
  ['unknown overlap policy', ['schedules', 'trigger', SCHEDULE, '--overlap', 'NEVER'], {}, /--overlap: "NEVER" is not one of SKIP, BUFFER_ONE/],
  ['pause without a note', ['schedules', 'pause', SCHEDULE], {}, /required option '--note <text>' not specified/],
  ['sync to an empty task queue', ['schedules', 'sync', '--dry-run', '--task-queue', ''], {}, /--task-queue: "" is not allowed; expected a task queue name/],
  // The environment
  ['TEMPORAL_ADDRESS without a port', ['run', 'purge-expired-tokens'], { TEMPORAL_ADDRESS: 'localhost' }, /TEMPORAL_ADDRESS: "localhost" is not an address/],
  ['TEMPORAL_NAMESPACE with a space', ['run', 'purge-expired-tokens'], { TEMPORAL_NAMESPACE: 'a b' }, /TEMPORAL_NAMESPACE: "a b" is not a namespace name/],
  ['TEMPORAL_TASK_QUEUE too long', ['run', 'purge-expired-tokens'], { TEMPORAL_TASK_QUEUE: long(1001) }, /TEMPORAL_TASK_QUEUE: is not a task queue name; expected 1 to 1000 printable characters/],
  ['TEMPORAL_PORT out of range', ['run', 'purge-expired-tokens'], { TEMPORAL_ADDRESS: '', TEMPORAL_PORT: '99999' }, /TEMPORAL_PORT: "99999" is not a port/],
  ['DATABASE_URL of another protocol', ['runs'], { DATABASE_URL: 'mysql://u@h/db' }, /DATABASE_URL: protocol "mysql:" is not supported/],
  ['DATABASE_URL without a database', ['runs'], { DATABASE_URL: 'postgres://u@h' }, /DATABASE_URL: names no database/],
  ['DATABASE_URL not a URL', ['runs'], { DATABASE_URL: 'not a url' }, /DATABASE_URL: is not a URL; expected postgres:\/\//],
  ['LOG_LEVEL unknown', ['run', 'purge-expired-tokens'], { LOG_LEVEL: 'verbose' }, /LOG_LEVEL: "verbose" is not one of fatal, error, warn, info/],
  ['LOG_FORMAT unknown', ['run', 'purge-expired-tokens'], { LOG_FORMAT: 'xml' }, /LOG_FORMAT: "xml" is not one of json, pretty/],
  ['MAINT_CONFIG missing', ['run', 'purge-expired-tokens'], { MAINT_CONFIG: '/nonexistent/maint.yaml' }, /MAINT_CONFIG: \/nonexistent\/maint.yaml does not exist/],
  ['MAINT_CONFIG a directory', ['run', 'purge-expired-tokens'], { MAINT_CONFIG: '/tmp' }, /MAINT_CONFIG: \/tmp is not a file/],
];

/** Config files, each given through MAINT_CONFIG to a command that reads it; the message names the file. */
const CONFIG_CASES: Array<[keyof typeof configs, string[], (file: string) => RegExp]> = [
  ['list', ['run', 'purge-expired-tokens'], (f) => new RegExp(`${f}: must be a mapping with the sections schedules, rules, notifications, foreignKeys; it is a list`)],
  ['scalar', ['schedules', 'sync', '--dry-run'], (f) => new RegExp(`${f}: must be a mapping .*; it is a string`)],
  ['unknownSection', ['run', 'purge-expired-tokens'], (f) => new RegExp(`${f}: schedule: unknown section; allowed: schedules, rules, notifications`)],
  ['invalidYaml', ['run', 'purge-expired-tokens'], (f) => new RegExp(`${f}: is not valid YAML`)],
  ['duplicateKey', ['run', 'purge-expired-tokens'], (f) => new RegExp(`${f}: the key "purge-a" appears twice in one mapping`)],
  ['hugeRules', ['run', 'purge-expired-tokens'], (f) => new RegExp(`MAINT_CONFIG: ${f} is \\d+ bytes; a config file may have at most 131072 \\(128 KiB\\)`)],
  ['manyRules', ['run', 'purge-expired-tokens'], (f) => new RegExp(`${f}: rules: has 600 entries; at most 500 are allowed`)],
  ['ruleNotMapping', ['run', 'purge-expired-tokens'], () => /rules: must be a mapping of job name to rule/],
  ['ruleBadTable', ['run', 'purge-a'], () => /rules\.purge-a\.table: must be a plain SQL identifier/],
  ['ruleUnknownField', ['run', 'purge-a'], () => /rules\.purge-a: unknown field "colour"; allowed: description, table, /],
  ['ruleNegativeRetention', ['run', 'purge-a'], () => /rules\.purge-a\.retentionDays: must not be negative/],
  ['ruleBuiltInName', ['jobs'], () => /rules\.purge-expired-tokens: a built-in job has this name; choose another/],
  ['ruleCycle', ['run', 'purge-a'], () => /rules\.purge-a\.children: cycle: a -> b -> a/],
  ['scheduleUnknown', ['schedules', 'sync', '--dry-run'], () => /schedules\.maint-nope: unknown schedule; known: /],
  ['scheduleBadCron', ['schedules', 'sync', '--dry-run'], () => new RegExp(`schedules\\.${SCHEDULE}\\.cron: "61 \\* \\* \\* \\*" is not a cron expression`)],
  ['scheduleBadZone', ['schedules', 'sync', '--dry-run'], () => new RegExp(`schedules\\.${SCHEDULE}\\.timezone: "Mars/Olympus" is not an IANA time zone`)],
  ['scheduleBadParams', ['schedules', 'sync', '--dry-run'], () => new RegExp(`schedules\\.${SCHEDULE}\\.params: batchSize: 0 is not allowed; expected an integer from 1 to 100000`)],
  ['scheduleNotMapping', ['schedules', 'sync', '--dry-run'], () => new RegExp(`schedules\\.${SCHEDULE}: must be a mapping of overrides`)],
  ['scheduleUnknownField', ['schedules', 'sync', '--dry-run'], () => new RegExp(`schedules\\.${SCHEDULE}\\.hourly: cannot be overridden; allowed: enabled, cron`)],
];

async function expectRefused(args: string[], extraEnv: Record<string, string>, message: RegExp): Promise<void> {
  const r = await maint(args, { ...env, ...extraEnv });
  expect(r.code, r.stderr).not.toBe(0);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /); // one line with the reason, not a stack trace
  expect(r.stdout).toBe('');
  expect(await snapshotTables(db)).toEqual(baseline);
}

describe.concurrent('bad input is refused by its field name and changes nothing', () => {
  it.each(CASES)('%s', async (_, args, extraEnv, message) => {
    await expectRefused(args, extraEnv, message);
  });

  it.each(CONFIG_CASES)('config file: %s', async (name, args, message) => {
    const file = cfg(name);
    await expectRefused(args, { MAINT_CONFIG: file }, message(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  });
});

describe('after the bad input', () => {
  it('started no workflow and changed no table', async () => {
    expect(CASES.length + CONFIG_CASES.length).toBeGreaterThanOrEqual(35);
    expect(await workflowsOnQueue(client, worker.taskQueue)).toBe(0);
    expect(await snapshotTables(db)).toEqual(baseline);
    // The snapshot covers the seeded rows a purge would have deleted.
    expect(baseline['public.outstanding_token']?.rows).toBe(70);
  });
});

describe('errors with their cause', () => {
  it('a preset whose tables are missing fails with the missing table, not "Activity task failed"', async () => {
    const r = await maint(['run', 'django-simplejwt-flush-expired', '--wait'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/did not complete: django-simplejwt-flush-expired\.steps\[0\]\.table: table "token_blacklist_outstandingtoken" does not exist in this database \(in activity \w+\)/);
    expect(r.stderr).not.toContain('Activity task failed');
  });

  it('django-clearsessions on a database without django_session fails naming it, before anything runs', async () => {
    const r = await maint(['run', 'django-clearsessions', '--wait'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/did not complete: django-clearsessions\.steps\[0\]\.table: table "django_session" does not exist in this database \(in activity \w+\)/);
    // Nothing touched but the audit table, where the refusal is on record with its reason.
    const { ['auth_maintenance.maintenance_run']: _run, ...tablesBefore } = baseline;
    expect(await snapshotTables(db, ['maintenance_run'])).toEqual(tablesBefore);
    const { rows } = await db.pool.query(`SELECT status, error FROM auth_maintenance.maintenance_run WHERE job = 'django-clearsessions'`);
    expect(rows).toEqual([{ status: 'failed', error: expect.stringContaining('table "django_session" does not exist') }]);
  });

  it('a start the server refuses shows the server reason', async () => {
    // Temporal's own limit on workflow ids is 1000 characters; the CLI's own limit stops 256 already, so go
    // through a task queue name the server refuses instead: one with a reserved prefix.
    const r = await maint(['run', 'scopes', '--dry-run', '--task-queue', '/_sys/reserved'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: Failed to start Workflow: task queue name cannot start with reserved prefix/m);
    expect(r.stderr.trim()).not.toBe('error: Failed to start Workflow');
  });

  it('a workflow id already in use is named', async () => {
    const id = uniqueName('maint-taken');
    const first = await maint(['run', 'scopes', '--dry-run', '--workflow-id', id, '--wait'], env);
    expect(first.code, first.stderr).toBe(0);
    const second = await maint(['run', 'scopes', '--dry-run', '--workflow-id', id], env);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`workflow id "${id}" is already in use (ensureScopes); choose another --workflow-id`);
  });

  it('--wait says when no worker polls the task queue, and keeps waiting', async () => {
    const queue = uniqueName('nobody-polls');
    const child = spawn(process.execPath, ['bin/maint.mjs', 'run', 'scopes', '--dry-run', '--wait', '--task-queue', queue], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, MAINT_DATA_DIR: '/nonexistent-maint-data', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const started = Date.now();
    try {
      while (!stderr.includes('warning:') && child.exitCode === null && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 200));
      expect(stderr).toMatch(new RegExp(`warning: no worker polls task queue "${queue}" \\(namespace default\\); workflow maint-scopes-\\S+ has waited \\d+ s for one`));
      expect(child.exitCode).toBeNull(); // still waiting
    } finally {
      child.kill('SIGINT');
      for await (const w of client.workflow.list({ query: `TaskQueue = '${queue}'` })) await client.workflow.getHandle(w.workflowId).terminate('test cleanup');
    }
  });
});
