import type { TelemetryOptions } from '@temporalio/worker';

/**
 * The Temporal SDK's runtime metrics on a Prometheus endpoint at `bindAddress`, named the Prometheus way
 * (`_total` counters, `_seconds` durations), for the worker's /metrics to include.
 */
export function sdkMetricsTelemetry(bindAddress: string): TelemetryOptions {
  return { metrics: { prometheus: { bindAddress, countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true } } };
}
