import { describe, expect, it } from 'vitest';
import { PRESETS, knobsOf, resolveBudget, withKnobs } from '../../src/purge/budget.js';
import { blockingBackoffMs, brakeFor, criticalFor, NO_BRAKES, sizeAfterBlocking } from '../../src/purge/brake.js';
import { parsePurgeParams } from '../../src/purge/params.js';
import { parseControlRequest } from '../../src/purge/input.js';
import { parseThrottleQuery, saysThrottle } from '../../src/purge/throttle-query.js';
import { loadConfig } from '../../src/settings/environment.js';

/** Budgets: presets within the deployment's limits, each knob overridable, looser values refused by name. */

const deployment = loadConfig({}).brakes;
const calm = { replicaLagMs: null, replicaLagBytes: null, activeSessions: 0 };

describe('budgets', () => {
  it('resolves each preset within the deployment limits, balanced when none is named', () => {
    const gentle = resolveBudget({ budget: 'gentle' }, deployment);
    expect(knobsOf(gentle)).toEqual(PRESETS.gentle);
    expect(gentle.blockingBrake).toBe(true);
    expect(knobsOf(resolveBudget({}, deployment))).toEqual(PRESETS.balanced);
    // The deployment's limits hold a preset silently: a lower lag limit, a longer sleep.
    const strict = loadConfig({ MAINT_BRAKE_REPLICA_LAG_MS: '500', MAINT_BRAKE_SLEEP_COEF: '2' }).brakes;
    const full = resolveBudget({ budget: 'full' }, strict);
    expect(full.maxReplicaLagMs).toBe(500);
    expect(full.sleepCoefficient).toBe(2);
    expect(brakeFor({ ...calm, replicaLagMs: 900 }, full)?.text).toBe('replica lag 0.9 s is over MAINT_BRAKE_REPLICA_LAG_MS 500 ms');
    expect(brakeFor({ ...calm, replicaLagMs: 1_500 }, resolveBudget({ budget: 'gentle' }, deployment))?.text).toBe("replica lag 1.5 s is over the gentle budget's maxReplicaLag 1000 ms");
  });

  it('takes a run\'s own knobs, and refuses one looser than the deployment, naming the variable', () => {
    const p = parsePurgeParams({ budget: 'full', maxReplicaLag: '0.5', sleepCoef: '0.1', criticalActiveSessions: 40 });
    const b = resolveBudget(p, deployment);
    expect(b).toMatchObject({ maxReplicaLagMs: 500, sleepCoefficient: 0.1, criticalActiveSessions: 40 });
    expect(brakeFor({ ...calm, replicaLagMs: 600 }, b)?.text).toBe('replica lag 0.6 s is over maxReplicaLag 500 ms');
    expect(() => resolveBudget({ maxReplicaLag: 5 }, deployment)).toThrow('maxReplicaLag: 5 is not allowed on this worker; expected more than 0 and at most 2 (MAINT_BRAKE_REPLICA_LAG_MS, the deployment\'s limit)');
    expect(() => resolveBudget({ maxReplicaLag: 0 }, deployment)).toThrow(/maxReplicaLag: 0 is not allowed on this worker/);
    expect(() => resolveBudget({ sleepCoef: 0.5 }, loadConfig({ MAINT_BRAKE_SLEEP_COEF: '1' }).brakes)).toThrow('sleepCoef: 0.5 is not allowed on this worker; expected at least 1 (MAINT_BRAKE_SLEEP_COEF, the deployment\'s limit)');
    expect(() => parsePurgeParams({ budget: 'fast' })).toThrow('budget: "fast" is not allowed; expected one of gentle, balanced, full');
    expect(() => parsePurgeParams({ sleepCoef: -1 })).toThrow(/sleepCoef: -1 is not allowed; expected a number from 0 to 100/);
  });

  it('checks an operator\'s change: ranges by name, unknown fields, the deployment\'s limits', () => {
    expect(parseControlRequest({ maxReplicaLag: 1, parallel: 2 })).toEqual({ maxReplicaLag: 1, parallel: 2 });
    expect(() => parseControlRequest({ maxReplicaLag: 5000 })).toThrow(/^control\.maxReplicaLag: number 5000 is not allowed; expected a number from 0 to 3600/);
    expect(() => parseControlRequest({ parallel: 0 })).toThrow(/^control\.parallel: number 0 is not allowed; expected an integer from 1 to 16/);
    expect(() => parseControlRequest({})).toThrow(/^control: asks for nothing/);
    const base = resolveBudget({}, deployment);
    expect(() => withKnobs(base, { maxReplicaLag: 3 }, deployment, (k) => k, (k) => `control.${k}`)).toThrow(/^control\.maxReplicaLag: 3 is not allowed on this worker/);
    expect(withKnobs(base, { maxReplicaLag: 1 }, deployment, (k) => `${k} (maint control)`).names?.maxReplicaLagMs).toBe('maxReplicaLag (maint control)');
  });

  it('shrinks a batch that blocked the application and grows it back; backs off longer in a row; critical values', () => {
    expect(sizeAfterBlocking(1000, 2, 1000, 10)).toBe(500);
    expect(sizeAfterBlocking(15, 1, 1000, 10)).toBe(10);
    expect(sizeAfterBlocking(250, 0, 1000, 10)).toBe(500);
    expect(sizeAfterBlocking(800, 0, 1000, 10)).toBe(1000);
    expect([1, 2, 3, 4, 9].map(blockingBackoffMs)).toEqual([250, 500, 1000, 2000, 2000]);
    const s = { ...NO_BRAKES, criticalActiveSessions: 10, criticalReplicaLagMs: 30_000 };
    expect(criticalFor({ ...calm, activeSessions: 11 }, s)).toBe('11 other sessions are running statements, over the critical criticalActiveSessions 10');
    expect(criticalFor({ ...calm, activeSessions: 10, replicaLagMs: 29_000 }, s)).toBeNull();
    // The probe: over its factor and its slack of 2 ms both.
    const probe = { ...NO_BRAKES, maxProbeFactor: 2 };
    expect(brakeFor({ ...calm, probe: { ms: 1.5, baselineMs: 0.2 } }, probe)).toBeNull();
    expect(brakeFor({ ...calm, probe: { ms: 9, baselineMs: 3 } }, probe)?.kind).toBe('probe-latency');
  });

  it('takes a throttle query of one read statement, and reads its answer', () => {
    expect(parseThrottleQuery(' SELECT now()::time BETWEEN \'09:00\' AND \'17:00\'; ', 'Q')).toBe("SELECT now()::time BETWEEN '09:00' AND '17:00'");
    expect(() => parseThrottleQuery('DELETE FROM t', 'Q')).toThrow(/^Q: expected a query that starts with SELECT, WITH or VALUES/);
    expect(() => parseThrottleQuery('SELECT 1; DROP TABLE t', 'Q')).toThrow('Q: expected one statement; it contains a ";"');
    expect(() => loadConfig({ MAINT_BRAKE_THROTTLE_QUERY: 'UPDATE t SET a = 1' })).toThrow(/MAINT_BRAKE_THROTTLE_QUERY: expected a query/);
    expect(saysThrottle({ a: true })).toBe(true);
    expect(saysThrottle({ a: false })).toBe(false);
    expect(saysThrottle({ a: null })).toBe(false);
    expect(saysThrottle(undefined)).toBe(false);
  });
});
