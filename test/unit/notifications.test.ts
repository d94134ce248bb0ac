import { describe, expect, it } from 'vitest';
import { EVENT_KINDS } from '../../src/notify/channels.js';
import { loadNotifications } from '../../src/settings/notifications.js';
import { Catalogue } from '../../src/catalogue/index.js';
import { eventsOfRun, schedulePausedEvent, type RunRow } from '../../src/notify/events.js';
import { messageIdOf, redactSecrets } from '../../src/notify/send.js';

const SECRET_URL = 'https://hooks.slack.com/services/T000/B000/very-secret-token';

function section(notifications: unknown, env: NodeJS.ProcessEnv = {}) {
  return loadNotifications({ notifications }, env, new Catalogue().names());
}

function run(over: Partial<RunRow>): RunRow {
  return {
    id: 'run-1', workflow_id: 'wf-1', job: 'purge-expired-tokens', trigger: 'schedule:maint-purge-expired-tokens-daily', dry_run: false, status: 'completed',
    matched: 10, deleted: '10', updated: '0', children_deleted: {}, batches: 1, started_at: '2026-11-23T00:00:00Z', finished_at: '2026-11-23T00:00:01Z', duration_ms: 1000, error: null,
    ...over,
  };
}

describe('notifications configuration', () => {
  it('the example config file is valid, read as a process reads its settings', async () => {
    const { fileURLToPath } = await import('node:url');
    const { loadSettings } = await import('../../src/settings/index.js');
    const env = { MAINT_CONFIG: fileURLToPath(new URL('../../maint.config.example.yaml', import.meta.url)), SMTP_PASSWORD: 'x', SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/a' };
    const settings = loadSettings(env);
    expect(settings.notifications.channels.map((ch) => ch.name)).toEqual(['email', 'slack', 'incidents']);
    expect(settings.catalogue.purges().filter((j) => j.custom).length).toBeGreaterThan(0);
  });

  it('reads email and webhooks, secrets from the environment variables they name', () => {
    const c = section(
      {
        email: { host: 'smtp.example.com', port: 465, tls: 'tls', user: 'maint', passwordEnv: 'SMTP_PASSWORD', from: 'maint@example.com', to: ['ops@example.com'] },
        webhooks: [{ name: 'slack', format: 'slack', urlEnv: 'SLACK_URL', events: ['run-failed'] }, { name: 'pager', url: 'https://pager.example.com/hook' }],
        deletionThreshold: { default: 100000, jobs: { 'purge-oauth-tokens': 5 } },
      },
      { SMTP_PASSWORD: 'pw-1234', SLACK_URL: SECRET_URL },
    );
    expect(c.channels).toEqual([
      expect.objectContaining({ type: 'email', name: 'email', host: 'smtp.example.com', port: 465, tls: 'tls', password: 'pw-1234', events: [...EVENT_KINDS] }),
      expect.objectContaining({ type: 'webhook', name: 'slack', format: 'slack', url: SECRET_URL, events: ['run-failed'] }),
      expect.objectContaining({ type: 'webhook', name: 'pager', format: 'json', url: 'https://pager.example.com/hook' }),
    ]);
    expect(c.deletionThreshold).toEqual({ default: 100000, jobs: { 'purge-oauth-tokens': 5 } });
    expect(section(undefined).channels).toEqual([]);
  });

  it('names the field of every mistake, and never echoes a secret', () => {
    expect(() => section({ email: { host: 'h', from: 'a@b.c', to: [] } })).toThrow(/^notifications\.email\.to: /);
    expect(() => section({ email: { host: 'h', from: 'a@b.c', to: ['x@y.z'], tls: 'ssl' } })).toThrow(/^notifications\.email\.tls: .*"tls".*"starttls".*"none"/);
    expect(() => section({ email: { host: 'h', from: 'a@b.c', to: ['x@y.z'], password: 'inline' } })).toThrow(/^notifications\.email: .*password/);
    expect(() => section({ email: { host: 'h', from: 'a@b.c', to: ['x@y.z'], passwordEnv: 'SMTP_PASSWORD' } }, {})).toThrow('notifications.email.passwordEnv: the environment variable SMTP_PASSWORD is not set');
    expect(() => section({ webhooks: [{ name: 'a', format: 'teams', url: 'https://x.example' }] })).toThrow(/^notifications\.webhooks\[0\]\.format: /);
    expect(() => section({ webhooks: [{ name: 'a' }] })).toThrow(/^notifications\.webhooks\[0\]\.urlEnv: give either url or urlEnv/);
    expect(() => section({ webhooks: [{ name: 'a', url: 'https://a.example' }, { name: 'a', url: 'https://b.example' }] })).toThrow(/^notifications\.webhooks\[1\]\.name: "a" is used twice/);
    expect(() => section({ events: ['run-failed', 'purge-done'] })).toThrow(/^notifications\.events\[1\]: /);
    expect(() => section({ deletionThreshold: { default: 0 } })).toThrow(/^notifications\.deletionThreshold\.default: /);
    expect(() => section({ smtp: {} })).toThrow(/^notifications: .*smtp/);
    expect(() => section({ deletionThreshold: { jobs: { 'purge-everything': 5 } } })).toThrow(/^notifications\.deletionThreshold\.jobs\.purge-everything: unknown job; allowed: .*purge-expired-tokens/);
    const insecure = 'http://hooks.example.com/secret-path-123';
    let message = '';
    try {
      section({ webhooks: [{ name: 'a', urlEnv: 'HOOK' }] }, { HOOK: insecure });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^notifications\.webhooks\[0\]\.urlEnv \(HOOK\): http:\/\/ is not allowed/);
    expect(message).not.toContain('secret-path-123');
  });
});

describe('events of a run', () => {
  const config = section({ webhooks: [{ name: 'w', url: 'https://w.example' }], deletionThreshold: { default: 100, jobs: { 'purge-oauth-tokens': 5 } } });

  it('a failure, a rotation, deletions over the job threshold; ids stable per run and kind', () => {
    expect(eventsOfRun(run({ status: 'failed', error: 'disk full', deleted: 0 }), config).map((e) => [e.id, e.kind])).toEqual([['run-1:run-failed', 'run-failed']]);
    expect(eventsOfRun(run({ job: 'key-rotation', status: 'failed', error: 'no KEK' }), config).map((e) => e.kind)).toEqual(['key-rotation-failed']);
    expect(eventsOfRun(run({ job: 'key-rotation', children_deleted: { rotated: 1 }, deleted: 0 }), config).map((e) => e.kind)).toEqual(['key-rotated']);
    expect(eventsOfRun(run({ job: 'key-rotation', children_deleted: { rotated: 0 }, deleted: 0 }), config)).toEqual([]);
    expect(eventsOfRun(run({ deleted: 100 }), config)).toEqual([]);
    const over = eventsOfRun(run({ deleted: 90, updated: 11 }), config);
    expect(over.map((e) => e.kind)).toEqual(['deletions-over-threshold']);
    expect(over[0]!.data).toMatchObject({ threshold: 100, deleted: 90, updated: 11 });
    expect(eventsOfRun(run({ job: 'purge-oauth-tokens', deleted: 6 }), config).map((e) => e.kind)).toEqual(['deletions-over-threshold']);
    expect(eventsOfRun(run({ deleted: 1000, dry_run: true }), config)).toEqual([]);
    expect(eventsOfRun(run({ status: 'failed', error: 'x' }), config)[0]!.text).toContain('failed: x');
  });

  it('a schedule paused by a failure: one id per pause', () => {
    const a = schedulePausedEvent({ scheduleId: 's', job: 'j', note: 'paused due to workflow failure: s-2026-11-23T00:00:00Z: boom' });
    const b = schedulePausedEvent({ scheduleId: 's', job: 'j', note: 'paused due to workflow failure: s-2026-11-24T00:00:00Z: boom' });
    expect(a.id).toBe(schedulePausedEvent({ scheduleId: 's', job: 'j', note: 'paused due to workflow failure: s-2026-11-23T00:00:00Z: boom' }).id);
    expect(a.id).not.toBe(b.id);
    expect(a.text).toContain('--unpause');
  });

  it('the Message-ID follows the event id, and secrets are redacted from delivery errors', () => {
    expect(messageIdOf('run-1:run-failed')).toBe(messageIdOf('run-1:run-failed'));
    expect(messageIdOf('run-1:run-failed')).toMatch(/^<[0-9a-f]{40}@auth-maintenance>$/);
    expect(messageIdOf('run-1:run-failed')).not.toBe(messageIdOf('run-2:run-failed'));
    const channels = section({ webhooks: [{ name: 'slack', url: SECRET_URL }] }).channels;
    expect(redactSecrets(`request to ${SECRET_URL} failed; path /services/T000/B000/very-secret-token`, channels)).toBe('request to *** failed; path ***');
  });
});

describe('docs/alert-rules.yml', () => {
  it('is valid YAML whose rules use only metrics the worker exports', async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const { createJobMetrics } = await import('../../src/metrics/metrics.js');
    const rules = parse(readFileSync(new URL('../../docs/alert-rules.yml', import.meta.url), 'utf8'));
    const alerts = rules.groups.flatMap((g: { rules: Array<{ alert: string; expr: string }> }) => g.rules);
    expect(alerts.map((a: { alert: string }) => a.alert)).toEqual(expect.arrayContaining(['MaintDailyJobStale', 'MaintJobFailing', 'MaintBacklogGrowing', 'MaintSigningKeyRotationOverdue']));
    // The metrics are defined without touching the database (their gauges read it only when scraped).
    const { registry } = createJobMetrics({ orm: {} as never, logger: (await import('../../src/logger.js')).createLogger({ level: 'silent' }), rotateAfterSeconds: 1 });
    const ours = new Set(registry.getMetricsAsArray().map((m) => m.name));
    for (const a of alerts) {
      for (const [name] of String(a.expr).matchAll(/\bmaint_[a-z_]+/g)) expect(ours.has(name), `${a.alert} uses ${name}`).toBe(true);
    }
  });
});
