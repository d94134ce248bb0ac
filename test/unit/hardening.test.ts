import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActivityFailure, ApplicationFailure, ServiceError, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { parseIso8601 } from '../../src/kernel/time.js';
import { checkTrigger, checkWorkflowId, isoTimeField } from '../../src/kernel/validate.js';
import { CONFIG_FILE_MAX_BYTES, TRIGGER_MAX_LENGTH, WORKFLOW_ID_MAX_LENGTH } from '../../src/kernel/limits.js';
import { loadConfigFile, parseConfigText } from '../../src/settings/config-file.js';
import { describeError, failureReason } from '../../src/cli/errors.js';
import { publicJwkOnly } from '../../src/keys/public-jwk.js';
import { checkRedirect, fetchJwks } from '../../src/oidc/fetch.js';
import { securePrivateDir, secureSqliteFile } from '../../src/local/data-dir.js';

describe('ISO 8601 reference times', () => {
  it.each([
    ['2026-03-07', '2026-03-07T00:00:00.000Z'],
    ['2026-03-07T10:00:00Z', '2026-03-07T10:00:00.000Z'],
    ['2026-03-07T10:00Z', '2026-03-07T10:00:00.000Z'],
    ['2026-03-07T10:00:00+02:00', '2026-03-07T08:00:00.000Z'],
    ['2026-03-07T10:00:00.123456-05:30', '2026-03-07T15:30:00.123Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
  ])('accepts %s', (value, iso) => {
    expect(parseIso8601(value)?.toISOString()).toBe(iso);
  });

  it.each(['2026-03-07T10:00:00', '2026-11-30T10:00', '2026-03-07T10:00:00.123'])('refuses %j naming the missing time zone', (value) => {
    expect(parseIso8601(value)).toBeUndefined();
    expect(() => isoTimeField('--as-of', value)).toThrow(/^--as-of: .* has no time zone; add Z for UTC or an offset such as \+02:00/);
  });

  it.each(['March 7', '7 March 2026', '2026-03-07 10:00:00Z', '2026-02-30', '2025-02-29', '2026-13-01', '2026-03-07T24:00:00Z', '2026-03-07T10:60:00Z', '2026-03-07T10:00:00+25:00', '1741341600000', '', ' 2026-03-07', '2026-03-07\n'])('refuses %j', (value) => {
    expect(parseIso8601(value)).toBeUndefined();
    expect(() => isoTimeField('--as-of', value)).toThrow(/^--as-of: .* is not an ISO 8601 timestamp; expected a date \(2026-03-07\) or a date-time with a time zone/);
  });

  it('refuses what is not a string', () => {
    expect(parseIso8601(1741341600000)).toBeUndefined();
    expect(() => isoTimeField('asOf', { at: 1 })).toThrow(/^asOf: \{"at":1\} is not an ISO 8601 timestamp/);
  });
});

describe('bounds of workflow ids and triggers', () => {
  it('take 255 characters and refuse 256, empty values and control characters', () => {
    expect(WORKFLOW_ID_MAX_LENGTH).toBe(255);
    expect(checkWorkflowId('--workflow-id', 'w'.repeat(255))).toHaveLength(255);
    expect(() => checkWorkflowId('--workflow-id', 'w'.repeat(256))).toThrow('--workflow-id: is 256 characters long; a workflow id has at most 255');
    expect(checkTrigger('trigger', 't'.repeat(TRIGGER_MAX_LENGTH))).toHaveLength(TRIGGER_MAX_LENGTH);
    expect(() => checkTrigger('trigger', 't'.repeat(TRIGGER_MAX_LENGTH + 1))).toThrow(/^trigger: is 256 characters long/);
    expect(() => checkTrigger('trigger', '')).toThrow(/^trigger: "" is not allowed/);
    expect(() => checkTrigger('trigger', 7)).toThrow(/^trigger: 7 is not allowed/);
    expect(() => checkWorkflowId('workflowId', 'a\u0000b')).toThrow(/control character/);
  });
});

describe('the config file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'maint-config-unit-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('refuses 140k rule keys at once, by the size of the file', async () => {
    const file = join(dir, 'huge.yaml');
    await writeFile(file, 'rules:\n' + Array.from({ length: 140_000 }, (_, i) => `  r${i}: 0\n`).join(''));
    const started = performance.now();
    expect(() => loadConfigFile({ MAINT_CONFIG: file })).toThrow(new RegExp(`^MAINT_CONFIG: ${file} is \\d+ bytes; a config file may have at most ${CONFIG_FILE_MAX_BYTES}`));
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('refuses the worst file under the size limit by its rule count, in time linear in its keys', () => {
    const file = (keys: number) => 'rules:\n' + Array.from({ length: keys }, (_, i) => `  r${i}: 0\n`).join('');
    const refuse = (text: string) => expect(() => parseConfigText(text, '/etc/maint.yaml')).toThrow(/^\/etc\/maint.yaml: rules: has \d+ entries; at most 500 are allowed/);
    const small = file(2_000);
    const large = file(11_000);
    expect(large.length).toBeLessThan(CONFIG_FILE_MAX_BYTES);
    refuse(small);
    refuse(large); // warm-up: the first parse pays for compiling the parser
    // The fastest of five runs of files large enough to take milliseconds, so that a busy machine does not decide the outcome.
    const fastest = (text: string) => {
      let best = Infinity;
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        refuse(text);
        best = Math.min(best, performance.now() - started);
      }
      return best;
    };
    // Linear: about 5.5 times the time for 5.5 times the keys; the YAML parser's own duplicate check (quadratic)
    // would take about 30 times (it measured 65 to 85 times for 11 times the keys, and minutes for 140k keys).
    expect(fastest(large) / fastest(small)).toBeLessThan(15);
  });

  it('finds duplicate keys at any depth, which the parser no longer checks itself', () => {
    expect(() => parseConfigText('rules:\n  a:\n    table: x\n    table: y\n', '/c.yaml')).toThrow('/c.yaml: the key "table" appears twice in one mapping');
    expect(parseConfigText('rules:\n  a: { table: x }\n  b: { table: x }\n', '/c.yaml')).toEqual({ rules: { a: { table: 'x' }, b: { table: 'x' } } });
  });

  it.each([
    ['- a\n', /^\/c.yaml: must be a mapping with the sections schedules, rules, notifications, foreignKeys; it is a list$/],
    ['42\n', /it is a number$/],
    ['true\n', /it is a boolean$/],
    ['jobs: {}\n', /^\/c.yaml: jobs: unknown section; allowed: schedules, rules, notifications, foreignKeys$/],
    ['a: &a [1]\nb: *a\n', /^\/c.yaml: a: unknown section/],
  ])('refuses %j naming the file', (text, message) => {
    expect(() => parseConfigText(text, '/c.yaml')).toThrow(message);
  });

  it('takes an empty file and comments only as no configuration', () => {
    expect(parseConfigText('', '/c.yaml')).toEqual({});
    expect(parseConfigText('# nothing yet\n', '/c.yaml')).toEqual({});
  });
});

describe('errors with their cause', () => {
  it('a failed activity shows its own message and where it came from', () => {
    const root = ApplicationFailure.nonRetryable('table "oauth2_provider_grant" does not exist in this database', 'InvalidInput');
    const activity = new ActivityFailure('Activity task failed', 'resolveJob', '1', 'NON_RETRYABLE_FAILURE', 'worker', root);
    expect(failureReason(activity)).toBe('table "oauth2_provider_grant" does not exist in this database (in activity resolveJob)');
    expect(failureReason(ApplicationFailure.create({ message: 'boom' }))).toBe('boom');
  });

  it("a refused start shows the server's reason, a taken id names the flag", () => {
    const grpc = Object.assign(new Error('3 INVALID_ARGUMENT: WorkflowId length exceeds limit.'), { details: 'WorkflowId length exceeds limit.' });
    expect(describeError(new ServiceError('Failed to start Workflow', { cause: grpc }))).toBe('Failed to start Workflow: WorkflowId length exceeds limit.');
    expect(describeError(new WorkflowExecutionAlreadyStartedError('Workflow execution already started', 'maint-x', 'batchedPurge'))).toMatch(
      /^workflow id "maint-x" is already in use \(batchedPurge\); choose another --workflow-id/,
    );
    expect(describeError(new Error('outer', { cause: new Error('inner') }))).toBe('outer: inner');
  });
});

describe('the JWKS allow-list', () => {
  it('keeps the public members of RSA, EC and OKP keys and nothing else', () => {
    const rsa = { kty: 'RSA', kid: 'k1', alg: 'RS256', use: 'sig', n: 'abc', e: 'AQAB' };
    expect(publicJwkOnly({ ...rsa, d: 'private', p: 'p', q: 'q', dp: 'x', dq: 'y', qi: 'z', note: 'internal' })).toEqual(rsa);
    const ec = { kty: 'EC', kid: 'k2', crv: 'P-256', x: 'x', y: 'y' };
    expect(publicJwkOnly({ ...ec, d: 'private' })).toEqual(ec);
    expect(publicJwkOnly({ kty: 'OKP', crv: 'Ed25519', x: 'x', d: 'private', kid: 'k3' })).toEqual({ kty: 'OKP', crv: 'Ed25519', x: 'x', kid: 'k3' });
  });

  it('leaves out symmetric keys, unknown types and keys without their material', () => {
    expect(publicJwkOnly({ kty: 'oct', k: 'secret' })).toBeUndefined();
    expect(publicJwkOnly({ kty: 'RSA', kid: 'k' })).toBeUndefined();
    expect(publicJwkOnly('RSA')).toBeUndefined();
    expect(publicJwkOnly(null)).toBeUndefined();
  });
});

describe('OIDC redirects', () => {
  const servers: Server[] = [];
  const hits: string[] = [];
  const jwks = { keys: [{ kty: 'RSA', kid: 'r1', n: 'sXchmGVbqJ2M', e: 'AQAB' }] };

  async function serve(host: string, handler: (path: string) => { status: number; location?: string }): Promise<number> {
    const server = createServer((req, res) => {
      hits.push(`${host}${req.url}`);
      const { status, location } = handler(req.url ?? '/');
      if (location) res.writeHead(status, { location }).end();
      else res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    return (server.address() as AddressInfo).port;
  }
  afterAll(async () => {
    for (const s of servers) await new Promise((r) => s.close(r));
  });

  it('does not follow http://localhost to http://127.0.0.2, and contacts nothing there', async () => {
    const elsewhere = await serve('127.0.0.2', () => ({ status: 200 }));
    const local = await serve('127.0.0.1', (path) => (path === '/moved' ? { status: 200 } : { status: 302, location: path === '/here' ? '/moved' : `http://127.0.0.2:${elsewhere}/jwks.json` }));
    await expect(fetchJwks(`http://localhost:${local}/jwks.json`, { timeoutMs: 5_000 })).rejects.toMatchObject({
      kind: 'http',
      retryable: false,
      message: expect.stringMatching(/redirect from http:\/\/localhost:\d+\/jwks.json to http:\/\/127.0.0.2:\d+ refused: only https:\/\/ \(http:\/\/ only for localhost\)/),
    });
    expect(hits.filter((h) => h.startsWith('127.0.0.2'))).toEqual([]);
    // A redirect that stays on this machine is followed.
    await expect(fetchJwks(`http://localhost:${local}/here`, { timeoutMs: 5_000 })).resolves.toMatchObject({ status: 'ok', jwks });
  });

  it('refuses a downgrade from https, a redirect loop and a redirect without a target', async () => {
    expect(() => checkRedirect(new URL('https://idp.example.com/jwks'), 'http://localhost/jwks')).toThrow(/to plain http refused/);
    expect(() => checkRedirect(new URL('https://idp.example.com/jwks'), 'http://idp.example.com/jwks')).toThrow(/refused: only https:\/\//);
    expect(() => checkRedirect(new URL('https://idp.example.com/jwks'), 'file:///etc/passwd')).toThrow(/to file:\/\/ refused/);
    expect(checkRedirect(new URL('https://idp.example.com/jwks'), '/v2/jwks').toString()).toBe('https://idp.example.com/v2/jwks');
    expect(() => checkRedirect(new URL('https://idp.example.com/jwks'), null)).toThrow(/without a Location/);
    const loop = await serve('127.0.0.1', () => ({ status: 301, location: '/again' }));
    await expect(fetchJwks(`http://127.0.0.1:${loop}/jwks.json`, { timeoutMs: 5_000 })).rejects.toThrow(/more than 5 redirects/);
  });
});

describe('the local data dir', () => {
  it('becomes 0700 whatever it was, and the SQLite file and its journals 0600', async () => {
    const base = await mkdtemp(join(tmpdir(), 'maint-data-'));
    try {
      const dir = join(base, '.data');
      await mkdir(dir, { mode: 0o755 });
      await chmod(dir, 0o755);
      await securePrivateDir(dir);
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
      const file = join(dir, 'temporal.sqlite');
      for (const f of [file, `${file}-wal`]) await writeFile(f, '', { mode: 0o644 });
      await secureSqliteFile(file);
      for (const f of [file, `${file}-wal`]) expect((await stat(f)).mode & 0o777).toBe(0o600);
      await securePrivateDir(join(base, 'fresh', 'nested'));
      expect((await stat(join(base, 'fresh', 'nested'))).mode & 0o777).toBe(0o700);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});
