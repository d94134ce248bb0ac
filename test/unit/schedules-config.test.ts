import { describe, expect, it } from 'vitest';
import { effectiveSchedules, scheduleSet } from '../../temporal-schedules/overrides.js';
import { Catalogue } from '../../src/catalogue/index.js';
import { compileSchedule } from '../../temporal-schedules/sync.js';

const catalogue = new Catalogue();
const SCHEDULES = catalogue.schedules();

const ID = 'maint-purge-expired-tokens-daily';

describe('schedule declarations and overrides', () => {
  it('declares valid schedules for registered jobs, purges never overlapping', () => {
    const all = effectiveSchedules({}, catalogue);
    expect(all.map((s) => s.id)).toEqual(SCHEDULES.filter((s) => s.enabledByDefault !== false).map((s) => s.id));
    expect(effectiveSchedules({ schedules: { 'maint-django-simplejwt-flush-expired-daily': { enabled: true } } }, catalogue).map((s) => s.id)).toContain('maint-django-simplejwt-flush-expired-daily');
    const purge = all.find((s) => s.id === ID)!;
    expect(purge).toMatchObject({ cron: ['0 0 * * *'], timezone: 'UTC', overlap: 'SKIP', pauseOnFailure: true });
  });

  it('applies overrides from the config file and sets disabled schedules apart (sync pauses them)', () => {
    expect(effectiveSchedules({ schedules: { [ID]: { cron: '30 1 * * *', timezone: 'Europe/Berlin' } } }, catalogue).find((s) => s.id === ID)).toMatchObject({ cron: ['30 1 * * *'], timezone: 'Europe/Berlin' });
    const every = effectiveSchedules({ schedules: { [ID]: { every: '12h' } } }, catalogue).find((s) => s.id === ID)!;
    expect(every.every).toBe('12h');
    expect(every.cron).toBeUndefined();
    expect(effectiveSchedules({ schedules: { [ID]: { enabled: false } } }, catalogue).map((s) => s.id)).not.toContain(ID);
    const set = scheduleSet({ schedules: { [ID]: { enabled: false } } }, catalogue);
    expect(set.disabled).toContain(ID);
    expect(set.disabled).toContain('maint-django-simplejwt-flush-expired-daily'); // off by default
    expect(scheduleSet({ schedules: { 'maint-django-simplejwt-flush-expired-daily': { enabled: true } } }, catalogue).disabled).not.toContain('maint-django-simplejwt-flush-expired-daily');
  });

  it.each([
    [{ cron: '0 25 * * *' }, /^schedules\.maint-purge-expired-tokens-daily\.cron: "0 25 \* \* \*" is not a cron expression/],
    [{ cron: 'every day' }, /^schedules\.maint-purge-expired-tokens-daily\.cron: "every day" is not a cron expression: expected 5 fields/],
    [{ every: '0m' }, /^schedules\.maint-purge-expired-tokens-daily\.every: "0m" is not a duration/],
    [{ every: 'daily' }, /\.every: "daily" is not a duration; expected a positive number with s, m, h or d/],
    [{ timezone: 'Mars/Olympus' }, /\.timezone: "Mars\/Olympus" is not an IANA time zone/],
    [{ overlap: 'sometimes' }, /\.overlap: "sometimes" is not one of SKIP, BUFFER_ONE/],
    [{ params: { batchSize: 0 } }, /\.params: batchSize: 0 is not allowed/],
    [{ params: { maxDurationSeconds: '3 hours' } }, /\.params: maxDurationSeconds: "3 hours" is not allowed; expected a duration of 1 s to 7 days/],
    [{ params: { maxDurationSeconds: '1d' } }, /\.params\.maxDurationSeconds: 86400 s is not shorter than the 86400 s between this schedule's runs/],
    [{ every: '1h', params: { maxDurationSeconds: '2h' } }, /\.params\.maxDurationSeconds: 7200 s is not shorter than the 3600 s between/],
    [{ cron: ['0 0 * * *', '30 0 * * *'], params: { maxDurationSeconds: '45m' } }, /\.params\.maxDurationSeconds: 2700 s is not shorter than the 1800 s between/],
    [{ params: { maxRows: 0 } }, /\.params: maxRows: 0 is not allowed; expected an integer from 1/],
    [{ enabled: 'no' }, /\.enabled: expected true or false/],
    [{ owner: 'x' }, /\.owner: cannot be overridden; allowed: enabled, cron/],
  ])('rejects override %j naming the schedule and the reason', (override, message) => {
    expect(() => effectiveSchedules({ schedules: { [ID]: override } }, catalogue)).toThrow(message);
  });

  it('takes a window and a row cap on a purge schedule, sent with every run it starts', () => {
    const d = effectiveSchedules({ schedules: { [ID]: { params: { maxDurationSeconds: '30m', maxRows: 500000 } } } }, catalogue).find((s) => s.id === ID)!;
    expect(compileSchedule(d, 'q', catalogue).options.action).toMatchObject({ args: [{ job: 'purge-expired-tokens', params: { maxDurationSeconds: 1800, maxRows: 500000 } }] });
    // The config's params replace the declared ones but the budget: still gentle, unless it names one.
    expect(d.params).toEqual({ budget: 'gentle', maxDurationSeconds: '30m', maxRows: 500000 });
    expect(effectiveSchedules({ schedules: { [ID]: { params: { budget: 'full' } } } }, catalogue).find((s) => s.id === ID)!.params).toEqual({ budget: 'full' });
  });

  it('rejects an unknown schedule id', () => {
    expect(() => effectiveSchedules({ schedules: { nightly: { cron: '0 0 * * *' } } }, catalogue)).toThrow(/^schedules\.nightly: unknown schedule; known: maint-purge-expired-tokens-daily/);
  });

  it('fingerprints what sync compares, so a changed cadence is an update and an unchanged one is not', () => {
    const d = effectiveSchedules({}, catalogue).find((s) => s.id === ID)!;
    expect(compileSchedule(d, 'q', catalogue).fingerprint).toBe(compileSchedule({ ...d }, 'q', catalogue).fingerprint);
    expect(compileSchedule({ ...d, cron: ['0 1 * * *'] }, 'q', catalogue).fingerprint).not.toBe(compileSchedule(d, 'q', catalogue).fingerprint);
    expect(compileSchedule(d, 'other-queue', catalogue).fingerprint).not.toBe(compileSchedule(d, 'q', catalogue).fingerprint);
    expect(compileSchedule(d, 'q', catalogue).options.memo).toEqual({ managedBy: 'auth-maintenance', job: 'purge-expired-tokens' });
  });

  it('starts every job through the catalogue: purges as the batched purge, the rotation through its joining workflow', () => {
    const byJob = new Map(effectiveSchedules({}, catalogue).map((d) => [d.job, compileSchedule(d, 'q', catalogue).options.action]));
    expect(byJob.get('purge-expired-tokens')).toMatchObject({ workflowType: 'batchedPurge', args: [{ job: 'purge-expired-tokens', params: {} }] });
    // A schedule appends its time to the workflow id: the rotation itself runs under maint-key-rotation, started by this one.
    expect(byJob.get('key-rotation')).toMatchObject({ workflowType: 'scheduledKeyRotation', args: [{}] });
    expect(byJob.get('health-report')).toMatchObject({ workflowType: 'healthReport', args: [{}] });
    expect(new Set(effectiveSchedules({}, catalogue).map((d) => d.job))).toEqual(new Set(catalogue.entries.filter((e) => e.schedules.some((s) => s.enabledByDefault !== false)).map((e) => e.name)));
  });
});
