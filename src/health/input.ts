import * as z from 'zod/mini';
import { parseInput, triggerField } from '../kernel/validate.js';

/** The health report's input, parsed at its first step: who started it, nothing else. Pure. */
export function parseHealthReportInput(raw: unknown): { trigger?: string } {
  return parseInput('healthReport', z.strictObject({ trigger: z.optional(triggerField) }), raw);
}
