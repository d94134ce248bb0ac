import type { Progress } from '../purge/types.js';

/**
 * How many rows a running purge will have changed when it ends, as far as its progress tells: a dry run's count; for
 * a real run the planner's estimate (its `matched`), refined by how much of each lane's range is walked once a tenth
 * of it is. Never below what is done. Null when nothing honest can be said: an estimate already passed with too
 * little walked to extrapolate, or a later step of a multi-step job (the earlier steps' share is unknown here); the
 * bar then shows counts without a total.
 */
export function estimateTotal(p: Progress): number | null {
  const done = p.dryRun ? (p.matched ?? 0) : p.deleted;
  if (p.dryRun) return p.matched === null || p.matched === undefined ? null : Math.max(p.matched, done);
  if ((p.step ?? 0) > 0) return null;
  const estimate = p.matched ?? p.plan?.estimatedRows ?? null;
  const walked = walkedFraction(p);
  // Under a tenth of the range, the estimate from statistics beats an extrapolation from a few batches.
  const refined = walked !== null && walked >= 0.1 ? done / walked : null;
  if (refined !== null) return Math.max(Math.round(refined), done);
  if (estimate === null || done >= estimate) return null;
  return estimate;
}

/** The share of the step's key or timestamp range the lanes have walked (0-1), or null if positions cannot be placed. */
export function walkedFraction(p: Progress): number | null {
  const ranges = p.plan?.lanes ?? [];
  const lanes = p.lanes ?? [];
  if (!ranges.length || ranges.length !== lanes.length) return null;
  let sum = 0;
  for (let i = 0; i < ranges.length; i++) {
    const lane = lanes[i]!;
    if (lane.done) {
      sum += 1;
      continue;
    }
    // The first lane starts at the walk's lower end, the last ends at its upper end.
    const from = position(ranges[i]!.from ?? p.plan?.range?.lo ?? null);
    const to = position(ranges[i]!.to ?? p.plan?.range?.hi ?? null);
    if (lane.at === null) continue; // not started: 0
    const at = position(lane.at);
    if (from === null || to === null || at === null || to <= from) return null;
    sum += Math.min(1, Math.max(0, (at - from) / (to - from)));
  }
  return sum / ranges.length;
}

/** A key or timestamp as a number on its axis: integers, ISO times; anything else (uuids, text) cannot be placed. */
function position(v: string | null): number | null {
  if (v === null) return null;
  if (/^-?\d+$/.test(v)) return Number(v);
  if (/^\d{4}-\d{2}-\d{2}[T ]/.test(v)) {
    const t = Date.parse(v);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

/** Rows per second over a sliding window of samples, for an ETA that follows measured throughput. */
export class Throughput {
  private samples: Array<{ at: number; done: number }> = [];
  constructor(private readonly windowMs = 30_000) {}

  add(done: number, at = Date.now()): void {
    this.samples.push({ at, done });
    while (this.samples.length > 2 && at - this.samples[0]!.at > this.windowMs) this.samples.shift();
  }

  rate(): number | null {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.at - first.at < 1_000) return null;
    return (last.done - first.done) / ((last.at - first.at) / 1000);
  }
}

/** "4m05s", or "-" when there is no rate or no total to reach. */
export function formatEta(done: number, total: number | null, rate: number | null): string {
  if (total === null || rate === null || rate <= 0) return '-';
  const s = Math.max(0, Math.round((total - done) / rate));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** What the activity of a failing batch reports: its reason and attempt, from the workflow's pending activities. */
export interface BatchTrouble {
  attempt: number;
  reason: string;
  activity: string;
}

/** A pending activity as the server describes it: what the throttle reason is read from. */
interface PendingActivity {
  heartbeatDetails?: { payloads?: Array<{ data?: Uint8Array | null }> | null } | null;
}

/** Why a lane waits on the brakes, from the heartbeat details of the workflow's pending activities; null if none does. */
export function throttledReason(pending: readonly PendingActivity[]): string | null {
  return throttleOf(pending)?.reason ?? null;
}

/** Why a lane waits on the brakes and since when (epoch ms, when its heartbeat says), from the pending activities. */
export function throttleOf(pending: readonly PendingActivity[]): { reason: string; sinceMs: number | null } | null {
  for (const a of pending) {
    const data = a.heartbeatDetails?.payloads?.[0]?.data;
    if (!data) continue;
    try {
      const details = JSON.parse(Buffer.from(data).toString('utf8')) as { throttled?: string | null; since?: number | null };
      if (details.throttled) return { reason: details.throttled, sinceMs: typeof details.since === 'number' ? details.since : null };
    } catch {
      // Not ours to read: ignore.
    }
  }
  return null;
}

/** "throttled 12 s: <reason>", the duration when known. */
export function describeThrottle(t: { reason: string; sinceMs: number | null }, nowMs = Date.now()): string {
  return `throttled${t.sinceMs !== null ? ` ${Math.max(0, Math.round((nowMs - t.sinceMs) / 1000))} s` : ''}: ${t.reason}`;
}
