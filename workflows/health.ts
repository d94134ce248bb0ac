import { assessHealth } from '../src/health/assess.js';
import type { HealthReport } from '../src/health/types.js';
import { parseHealthReportInput } from '../src/health/input.js';
import { short, acceptInput, runJob } from './job-run.js';

export interface HealthReportInput {
  trigger?: string;
}

/** Gathers the statistics (an activity) and assesses them (pure code, here): the report is the result. */
export async function healthReport(raw: HealthReportInput): Promise<HealthReport> {
  const input = await acceptInput('health-report', raw, parseHealthReportInput);
  return runJob({ job: 'health-report', parameters: {}, trigger: input.trigger }, async () => {
    const { stats, thresholds } = await short.gatherHealthStats();
    const report = assessHealth(stats, thresholds);
    return { result: report, matched: null, deleted: 0, counts: {}, problem: report.status === 'ok' ? null : `${report.status}: ${report.reasons.join('; ')}` };
  });
}
