import { renderCleanupStats, renderReport, STATS_HEADERS, statsRows } from '../health/render.js';
import type { CleanupStats } from '../health/cleanup-stats.js';
import type { HealthReport } from '../health/types.js';
import type { NotificationEvent } from './events.js';

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function htmlTable(headers: string[], rows: Array<Array<string | number | null>>): string {
  const th = headers.map((h) => `<th style="text-align:left;padding:2px 8px;border-bottom:1px solid #999">${esc(h)}</th>`).join('');
  const tr = rows.map((r) => `<tr>${r.map((c) => `<td style="padding:2px 8px">${esc(c)}</td>`).join('')}</tr>`).join('');
  return `<table style="border-collapse:collapse;font-family:sans-serif;font-size:13px"><thead><tr>${th}</tr></thead><tbody>${tr}</tbody></table>`;
}

/** The daily or weekly report as a readable email: the health report and the cleanup statistics, text and HTML. */
export function reportEvent(runId: string, period: 'daily' | 'weekly', report: HealthReport, stats: CleanupStats): NotificationEvent {
  const s = report.stats;
  const subject = `${period} report: ${report.status.toUpperCase()}`;
  const text = `${renderReport(report)}\n${renderCleanupStats(stats)}`;
  const html = [
    `<h2 style="font-family:sans-serif">${esc(period)} report: ${esc(report.status.toUpperCase())}</h2>`,
    `<p style="font-family:sans-serif">${esc(s.generatedAt)}</p>`,
    `<ul style="font-family:sans-serif">${report.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>`,
    report.recommendations.length ? `<h3 style="font-family:sans-serif">Recommendations</h3><ul style="font-family:sans-serif">${report.recommendations.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>` : '',
    htmlTable(['tokens', 'total', 'active', 'expired', 'revoked'], [['outstanding', s.tokens.total, s.tokens.active, s.tokens.expired, s.tokens.revoked]]),
    '<br>',
    htmlTable(['signing key', 'alg', 'since', 'active', 'published', 'retired', 'inactive'], [[s.keys.activeKid, s.keys.activeAlg, s.keys.activeSince, s.keys.active, s.keys.published, s.keys.retired, s.keys.inactive]]),
    `<h3 style="font-family:sans-serif">Cleanup over the last ${stats.days} day(s)</h3>`,
    stats.jobs.length ? htmlTable(STATS_HEADERS, statsRows(stats)) : '<p>no runs</p>',
  ].join('\n');
  return { id: `${runId}:report`, kind: 'report', job: 'health-report', runId, subject, text, html, data: { event: 'report', period, report, cleanup: stats } };
}
