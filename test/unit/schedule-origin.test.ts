import { describe, expect, it } from 'vitest';
import { auditTrigger, scheduledStartKind, type ScheduledStart } from '../../src/temporal/schedule-origin.js';

const daily = { cron: ['0 1 * * *'], timezone: 'UTC', jitter: '10m' };
const at = (nominal: string, startedAt: string, declared: ScheduledStart['declared'] = daily): ScheduledStart => ({ at: nominal, startedAt, declared });

describe('how a schedule started a run', () => {
  it('a matching time started within the jitter is a tick; a time the spec does not match is a trigger', () => {
    expect(scheduledStartKind(at('2026-12-02T01:00:00Z', '2026-12-02T01:07:31Z'))).toBe('tick');
    expect(scheduledStartKind(at('2026-12-02T10:41:17Z', '2026-12-02T10:41:17.020Z'))).toBe('trigger');
    // A trigger at a whole minute the spec does not match is still a trigger.
    expect(scheduledStartKind(at('2026-12-02T10:41:00Z', '2026-12-02T10:41:00.020Z'))).toBe('trigger');
  });

  it('a matching time further in the past than the jitter allows is a backfill', () => {
    expect(scheduledStartKind(at('2026-11-20T01:00:00Z', '2026-12-02T10:00:00Z'))).toBe('backfill');
    // Just past the jitter and the two minutes of slack.
    expect(scheduledStartKind(at('2026-12-02T01:00:00Z', '2026-12-02T01:12:01Z'))).toBe('backfill');
    expect(scheduledStartKind(at('2026-12-02T01:00:00Z', '2026-12-02T01:11:59Z'))).toBe('tick');
  });

  it('reads the declared time zone and intervals', () => {
    const berlin = { cron: ['0 1 * * *'], timezone: 'Europe/Berlin' };
    expect(scheduledStartKind(at('2026-12-02T00:00:00Z', '2026-12-02T00:00:01Z', berlin))).toBe('tick');
    expect(scheduledStartKind(at('2026-12-02T01:00:00Z', '2026-12-02T01:00:01Z', berlin))).toBe('trigger');
    const every = { every: '2s', timezone: 'UTC' };
    expect(scheduledStartKind(at('2026-12-02T00:00:04Z', '2026-12-02T00:00:04.5Z', every))).toBe('tick');
    expect(scheduledStartKind(at('2026-12-02T00:00:05Z', '2026-12-02T00:00:05.5Z', every))).toBe('trigger');
  });

  it('an unknown or unreadable spec tells nothing: the trigger stays as given', () => {
    const unknown: ScheduledStart = { at: '2026-12-02T01:00:00Z', startedAt: '2026-12-02T01:00:00Z' };
    expect(scheduledStartKind(unknown)).toBeNull();
    expect(scheduledStartKind(at('2026-12-02T01:00:00Z', '2026-12-02T01:00:00Z', { cron: ['0 1 * * *'], jitter: 'soon' }))).toBeNull();
    expect(auditTrigger('schedule:s', unknown)).toBe('schedule:s');
  });

  it('labels only schedule triggers', () => {
    expect(auditTrigger('schedule:maint-x', at('2026-12-02T10:41:17Z', '2026-12-02T10:41:17Z'))).toBe('schedule:maint-x:trigger');
    expect(auditTrigger('schedule:maint-x', at('2026-11-20T01:00:00Z', '2026-12-02T10:00:00Z'))).toBe('schedule:maint-x:backfill');
    expect(auditTrigger('schedule:maint-x', at('2026-12-02T01:00:00Z', '2026-12-02T01:01:00Z'))).toBe('schedule:maint-x');
    expect(auditTrigger('cli', at('2026-12-02T10:41:17Z', '2026-12-02T10:41:17Z'))).toBe('cli');
    expect(auditTrigger('schedule:maint-x', undefined)).toBe('schedule:maint-x');
  });
});
