import { parseCleanupParams, parseRotationParams, RANGES } from './keys/policy.js';
import type { RetirementInput, RotationInput } from './keys/types.js';
import type { RefreshParams } from './oidc/providers.js';
import { parseRefreshParams } from './oidc/params.js';
import { parseScopesParams } from './scopes.js';
import { inputObject, isInt, isIsoTime, isObject, isString, isTrigger } from './kernel/workflow-input.js';

/**
 * The inputs of the workflows other than the purge, parsed at each one's first step with the same parameter
 * checks the CLI uses. Pure (workflow code imports it).
 */

interface Triggered<P> {
  params?: P;
  trigger?: string;
}

function withParams<P>(workflow: string, raw: unknown, parse: (p: unknown) => unknown): Triggered<P> {
  const input = inputObject(workflow, raw, { params: isObject, trigger: isTrigger });
  // Validated here, passed on as sent: the activities resolve defaults from the worker's configuration.
  if (input.params !== undefined) parse(input.params);
  return input as Triggered<P>;
}

export const parseRotationInput = (raw: unknown): RotationInput => withParams('keyRotation', raw, parseRotationParams);
export const parseCleanupInput = (raw: unknown): Triggered<{ dryRun?: boolean; retentionSeconds?: number }> => withParams('keypairCleanup', raw, parseCleanupParams);
export const parseScopesInput = (raw: unknown): Triggered<{ dryRun?: boolean }> => withParams('ensureScopes', raw, parseScopesParams);
export const parseRefreshInput = (raw: unknown): Triggered<RefreshParams> => withParams('refreshOidcJwks', raw, parseRefreshParams);

export function parseHealthReportInput(raw: unknown): { trigger?: string } {
  return inputObject('healthReport', raw, { trigger: isTrigger }) as { trigger?: string };
}

const isKid = isString({ max: 100, pattern: /^[A-Za-z0-9._-]+$/, patternText: 'a key id (letters, digits, ".", "_", "-")' });

/** A retirement is started by a rotation; its activities check the key's state in the database before each step. */
export function parseRetirementInput(raw: unknown): RetirementInput {
  return inputObject(
    'signingKeyRetirement',
    raw,
    { kid: isKid, retiredAt: isIsoTime, tokensExpireBy: isIsoTime, retentionSeconds: isInt(RANGES.retentionSeconds), stepTimeoutSeconds: isInt(RANGES.stepTimeoutSeconds) },
    ['kid', 'retiredAt', 'tokensExpireBy', 'retentionSeconds', 'stepTimeoutSeconds'],
  ) as unknown as RetirementInput;
}
