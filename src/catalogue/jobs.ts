import { CLEANUP_PARAMS, parseRotationParams } from '../keys/policy.js';
import { parseRefreshParams } from '../oidc/params.js';
import { SCOPES_PARAMS } from '../scopes.js';
import { given, paramsSchema, parseParams } from '../kernel/validate.js';
import { ROTATION_WORKFLOW_ID } from '../keys/types.js';
import { schedule, type JobEntry } from './entry.js';

/** The jobs that are not purges: each has a workflow and activities of its own. */
export const OTHER_JOBS: readonly JobEntry[] = [
  {
    name: 'keypair-cleanup',
    description: 'Withdraw retired signing keys whose tokens have expired; delete inactive ones past the retention',
    workflow: 'keypairCleanup',
    parseParams: (p) => given(parseParams(CLEANUP_PARAMS, p)),
    flags: ['dryRun'],
    schedules: [schedule({ id: 'maint-keypair-cleanup-monthly', cron: ['0 5 1 * *'], catchupWindow: '2d', pauseOnFailure: true, jitter: '10m', note: 'Monthly: withdraw retired keys whose tokens expired; delete inactive keys older than 180 days.' })],
  },
  {
    name: 'scopes',
    description: 'Ensure the default scopes exist: base, image_upload, event_management, admin',
    workflow: 'ensureScopes',
    parseParams: (p) => given(parseParams(SCOPES_PARAMS, p)),
    flags: ['dryRun'],
    schedules: [schedule({ id: 'maint-scopes-weekly', cron: ['30 4 * * 1'], catchupWindow: '1d', pauseOnFailure: false, jitter: '10m', note: 'Weekly: make sure the default scopes exist (base, image_upload, event_management, admin).' })],
  },
  {
    name: 'refresh-jwks',
    description: "Fetch each configured OIDC provider's JWKS; keep the last good copy when a fetch fails",
    workflow: 'refreshOidcJwks',
    parseParams: (p) => ({ ...parseRefreshParams(p) }),
    flags: ['provider'],
    // A provider that is down must not stop tomorrow's refresh (no pause on failure): the run reports it and keeps the last good copy.
    schedules: [schedule({ id: 'maint-refresh-jwks-daily', cron: ['0 3 * * *'], catchupWindow: '6h', pauseOnFailure: false, jitter: '10m', note: "Daily: refresh each OIDC provider's JWKS, keep the last good copy when a fetch fails." })],
  },
  {
    name: 'key-rotation',
    description: 'Rotate the JWT signing key once it is due: generate, publish, wait for JWKS caches, activate, retire the old key',
    workflow: 'keyRotation',
    parseParams: (p) => ({ ...parseRotationParams(p) }),
    flags: [],
    command: 'maint keys rotate',
    // Weekly, it is only a check: a rotation rotates when the signing key is older than KEY_ROTATE_AFTER_DAYS.
    singleton: { workflowId: ROTATION_WORKFLOW_ID, scheduledWorkflow: 'scheduledKeyRotation' },
    schedules: [schedule({ id: 'maint-key-rotation-weekly', cron: ['0 4 * * 1'], catchupWindow: '1d', pauseOnFailure: true, jitter: '10m', note: 'Weekly rotation check: rotate the signing key once it is 30 days old (at most 3 keys in the JWKS).' })],
  },
  {
    name: 'health-report',
    description: 'Tokens, keys, activity of the last 24 hours, status and recommendations',
    workflow: 'healthReport',
    parseParams: (p) => parseParams(paramsSchema({}), p),
    flags: [],
    command: 'maint report',
    schedules: [
      schedule({ id: 'maint-health-report-daily', cron: ['0 6 * * *'], catchupWindow: '6h', pauseOnFailure: false, note: 'Daily health report: tokens, keys, activity of the last 24 h, status and recommendations.' }),
      schedule({ id: 'maint-health-report-weekly', cron: ['0 3 * * 0'], catchupWindow: '1d', pauseOnFailure: false, note: "Weekly report, Sunday 03:00 UTC (the seeds' weekly summary)." }),
    ],
  },
];
