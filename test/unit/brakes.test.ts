import { describe, expect, it } from 'vitest';
import { brakeReason, checksAnything, NO_BRAKES, recheckAfterMs, replayLagOf, sleepAfterBatchMs } from '../../src/purge/brake.js';
import { loadConfig } from '../../src/settings/environment.js';

const calm = { replicaLagMs: null, replicaLagBytes: null, activeSessions: 0 };

describe('the impact budget', () => {
  it('stops for replica lag over the limit, naming the lag, the limit and the WAL behind', () => {
    const s = { ...NO_BRAKES, maxReplicaLagMs: 2_000 };
    expect(brakeReason({ ...calm, replicaLagMs: 1_999 }, s)).toBeNull();
    expect(brakeReason({ ...calm, replicaLagMs: 2_000 }, s)).toBeNull();
    expect(brakeReason({ ...calm, replicaLagMs: 3_250, replicaLagBytes: 2_097_152 }, s)).toBe('replica lag 3.3 s is over MAINT_BRAKE_REPLICA_LAG_MS 2000 ms (2048 KiB of WAL behind)');
    // A replica that stopped replaying: its bytes behind tell it when its time does not.
    expect(brakeReason({ ...calm, replicaLagBytes: 8_388_608 }, { ...NO_BRAKES, maxReplicaLagBytes: 1_048_576 })).toBe('a replica has 8192 KiB of WAL still to replay, over MAINT_BRAKE_REPLICA_LAG_BYTES 1048576');
    // No replica, or a role that cannot see the lag: nothing to stop for.
    expect(brakeReason(calm, s)).toBeNull();
  });

  it('stops for application sessions over the limit; checks nothing it is not told to', () => {
    expect(brakeReason({ ...calm, activeSessions: 5 }, { ...NO_BRAKES, maxActiveSessions: 4 })).toBe('5 other sessions are running statements, over MAINT_BRAKE_ACTIVE_SESSIONS 4');
    expect(brakeReason({ ...calm, activeSessions: 4 }, { ...NO_BRAKES, maxActiveSessions: 4 })).toBeNull();
    expect(brakeReason({ replicaLagMs: 99_000, replicaLagBytes: 1, activeSessions: 99 }, NO_BRAKES)).toBeNull();
    expect(checksAnything(NO_BRAKES)).toBe(false);
  });

  it('looks again soon at first, then every half second; sleeps the batch time times the coefficient', () => {
    expect(recheckAfterMs(0)).toBe(250);
    expect(recheckAfterMs(60_000)).toBe(500);
    expect(sleepAfterBatchMs(80, { ...NO_BRAKES, sleepCoefficient: 2 })).toBe(160);
    expect(sleepAfterBatchMs(80, NO_BRAKES)).toBe(0);
  });

  it('reads MAINT_BRAKE_* with a replica-lag check on by default, and refuses bad values by name', () => {
    expect(loadConfig({}).brakes).toEqual({ maxReplicaLagMs: 2_000, maxReplicaLagBytes: 134_217_728, maxActiveSessions: null, sleepCoefficient: 0 });
    expect(loadConfig({ MAINT_BRAKE_REPLICA_LAG_MS: '0', MAINT_BRAKE_REPLICA_LAG_BYTES: '0', MAINT_BRAKE_ACTIVE_SESSIONS: '16', MAINT_BRAKE_SLEEP_COEF: '1' }).brakes).toEqual({ maxReplicaLagMs: null, maxReplicaLagBytes: null, maxActiveSessions: 16, sleepCoefficient: 1 });
    expect(() => loadConfig({ MAINT_BRAKE_ACTIVE_SESSIONS: 'many' })).toThrow(/MAINT_BRAKE_ACTIVE_SESSIONS: "many" is not allowed; expected an integer from 0 to 100000/);
  });
});

describe('replayLagOf', () => {
  it('takes the largest replay_lag of the replicas still replaying', () => {
    expect(replayLagOf([{ lagMs: 300, caughtUp: false }, { lagMs: 1_200, caughtUp: false }])).toBe(1_200);
    expect(replayLagOf([])).toBeNull();
    expect(replayLagOf([{ lagMs: null, caughtUp: null }])).toBeNull();
  });
  it('reads a replica that replayed all it was sent as not lagging, though replay_lag still shows its last measure', () => {
    // What pg_stat_replication showed for 3 to 10 s after a paused standby caught up (npm run bench).
    expect(replayLagOf([{ lagMs: 4_820, caughtUp: true }])).toBe(0);
    expect(replayLagOf([{ lagMs: 4_820, caughtUp: true }, { lagMs: 700, caughtUp: false }])).toBe(700);
  });
});
