// What the application's sessions wait on while something runs beside them: pg_stat_activity sampled every few ms,
// each active pgbench backend counted under its wait event ("CPU" when it waits on nothing: running, or runnable and
// waiting for a core). The profile that tells a WAL flush queue from lock waits from a CPU shortage.
import type pg from 'pg';

export interface WaitProfile {
  /** Samples taken, and active-backend observations among them. */
  samples: number;
  observations: number;
  /** Share of observations per wait event, largest first (e.g. "LWLock:WALWrite": 0.41). */
  shares: Record<string, number>;
}

const SQL = `SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS w FROM pg_stat_activity
             WHERE application_name = 'pgbench' AND state = 'active' AND pid <> pg_backend_pid()`;

/** Samples until `stop()`; `c` is a connected client of its own. */
export function sampleWaits(c: pg.Client, everyMs = 5) {
  const counts = new Map<string, number>();
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await c.query(SQL).catch(() => ({ rows: [] as Array<{ w: string }> }));
      samples += 1;
      for (const r of rows) counts.set(r.w, (counts.get(r.w) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop(): Promise<WaitProfile> {
      running = false;
      await loop;
      const observations = [...counts.values()].reduce((a, b) => a + b, 0);
      const shares = Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round((v / Math.max(1, observations)) * 1000) / 1000]));
      return { samples, observations, shares };
    },
  };
}
