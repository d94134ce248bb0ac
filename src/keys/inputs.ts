import * as z from 'zod/mini';
import { isoTimeInput, parseInput, parseJobInput, text, whole } from '../kernel/validate.js';
import { parseCleanupParams, parseRotationParams, RANGES } from './policy.js';
import type { CleanupParams, RetirementInput, RotationInput } from './types.js';

/** The inputs of the key workflows, parsed at each one's first step with the parameter checks the CLI uses. Pure. */

export const parseRotationInput = (raw: unknown): RotationInput => parseJobInput('keyRotation', raw, parseRotationParams);
export const parseCleanupInput = (raw: unknown) => parseJobInput<Partial<CleanupParams>>('keypairCleanup', raw, parseCleanupParams);

const RETIREMENT = z.strictObject({
  kid: text({ max: 100, pattern: /^[A-Za-z0-9._-]+$/, patternText: 'a key id (letters, digits, ".", "_", "-")' }),
  retiredAt: isoTimeInput,
  tokensExpireBy: isoTimeInput,
  retentionSeconds: whole(RANGES.retentionSeconds),
  stepTimeoutSeconds: whole(RANGES.stepTimeoutSeconds),
});

/** A retirement is started by a rotation; its activities check the key's state in the database before each step. */
export function parseRetirementInput(raw: unknown): RetirementInput {
  return parseInput('signingKeyRetirement', RETIREMENT, raw, ['kid', 'retiredAt', 'tokensExpireBy', 'retentionSeconds', 'stepTimeoutSeconds']);
}
