import * as z from 'zod/mini';
import { given, paramsSchema, parseParams } from '../kernel/validate.js';
import { CLEANUP_PARAMS, parseRotationParams } from '../keys/policy.js';
import { ROTATION_WORKFLOW_ID } from '../keys/types.js';
import { parseRefreshParams } from '../oidc/params.js';
import { SCOPES_PARAMS } from '../scopes.js';
import type { JobEntry } from './entry.js';

/** The parameters given, checked by `schema` (defaults are the worker's). */
const givenParams = (schema: z.core.$ZodType) => (p: Record<string, unknown>): Record<string, unknown> => given(parseParams(schema, p) as Record<string, unknown>);

/** The jobs that are not purges: each has a workflow and activities of its own (its schedules: schedules.ts). */
export const OTHER_JOBS: readonly Omit<JobEntry, 'schedules'>[] = [
  { name: 'keypair-cleanup', workflow: 'keypairCleanup', flags: ['dryRun'], parseParams: givenParams(CLEANUP_PARAMS), description: 'Withdraw retired signing keys whose tokens have expired; delete inactive ones past the retention' },
  { name: 'scopes', workflow: 'ensureScopes', flags: ['dryRun'], parseParams: givenParams(SCOPES_PARAMS), description: 'Ensure the default scopes exist: base, image_upload, event_management, admin' },
  { name: 'refresh-jwks', workflow: 'refreshOidcJwks', flags: ['provider'], parseParams: (p) => ({ ...parseRefreshParams(p) }), description: "Fetch each configured OIDC provider's JWKS; keep the last good copy when a fetch fails" },
  {
    name: 'key-rotation',
    workflow: 'keyRotation',
    description: 'Rotate the JWT signing key once it is due: generate, publish, wait for JWKS caches, activate, retire the old key',
    parseParams: (p) => ({ ...parseRotationParams(p) }),
    flags: [],
    command: 'maint keys rotate',
    singleton: { workflowId: ROTATION_WORKFLOW_ID, scheduledWorkflow: 'scheduledKeyRotation' },
  },
  { name: 'health-report', workflow: 'healthReport', flags: [], command: 'maint report', parseParams: (p) => parseParams(paramsSchema({}), p), description: 'Tokens, keys, activity of the last 24 hours, status and recommendations' },
];
