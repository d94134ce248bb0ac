import { assessHealth } from '../src/health/assess.js';
import type { HealthReport } from '../src/health/types.js';
import { audit, bookkeeping, triggerOf } from './common.js';

export interface HealthReportInput {
  trigger?: string;
}

/** Gathers the statistics (an activity) and assesses them (pure code, here): the report is the result. */
export async function healthReport(input: HealthReportInput = {}): Promise<HealthReport> {
  const startedAt = new Date().toISOString();
  const { stats, thresholds } = await bookkeeping.gatherHealthStats();
  const report = assessHealth(stats, thresholds);
  await audit({
    job: 'health-report',
    parameters: {},
    trigger: triggerOf(input.trigger),
    dryRun: false,
    status: 'completed',
    startedAt,
    matched: null,
    deleted: 0,
    counts: { reasons: report.reasons.length },
    error: report.status === 'ok' ? null : `${report.status}: ${report.reasons.join('; ')}`,
  });
  return report;
}
