/**
 * Which way imports may point (docs/ARCHITECTURE.md draws it). From the top down:
 *
 *   entry points   src/start.ts, src/worker.ts, src/client.ts, src/healthcheck.ts, src/cli/
 *   settings       src/settings/: the one reader of the environment and the config file
 *   schedules      temporal-schedules/: overrides and sync (the declarations are the catalogue's)
 *   catalogue      src/catalogue/, src/start-job.ts: every job as data, and how a start reaches Temporal
 *   workflows      workflows/ (deterministic code)          activities/ (every side effect)
 *   families       src/purge/, src/keys/, src/oidc/, src/notify/, src/health/, src/scopes.ts, src/metrics/,
 *                  src/local/, src/orm/, src/db/, src/temporal/, src/logger.ts: the pure engine and the I/O each family needs
 *   kernel         src/kernel/: errors, validation, time, limits, counts, text
 *
 * A module imports only modules of its own layer or below. Workflow code imports only the Temporal workflow API,
 * zod/mini and the workflow-safe modules listed in WORKFLOW_SAFE (types from anywhere). `npm test` runs this
 * check (test/static/dependencies.test.ts).
 */

const ENTRY = '^src/(start|worker|client|healthcheck)\\.ts$|^src/cli/';
const SETTINGS = '^src/settings/';
const SCHEDULES = '^temporal-schedules/';
const CATALOGUE = '^src/catalogue/|^src/start-job\\.ts$';
const WORKFLOWS = '^workflows/';
const ACTIVITIES = '^activities/';
const KERNEL = '^src/kernel/';
const LEGACY = '^src/purge/legacy-v1/';

/**
 * The modules workflow code may import: pure (no I/O, no clock, no randomness of their own), imported by the
 * worker's workflow bundle. A new pure module that workflows need joins this list.
 */
const WORKFLOW_SAFE = [
  KERNEL,
  '^src/purge/(types|params|input|lane|rules|relations|sql|identifiers|custom-rules|cascade|foreign-keys|budget|breakers)\\.ts$',
  '^src/purge/presets/',
  '^src/purge/legacy-v1/(workflow|types)\\.ts$',
  '^src/keys/(types|policy|decide|inputs)\\.ts$',
  '^src/oidc/(types|params)\\.ts$',
  '^src/health/(assess|types|input|purge-rates)\\.ts$',
  '^src/scopes\\.ts$',
  '^src/temporal/(labels|failures|queries)\\.ts$',
  '^workflows/',
].join('|');

/** What workflow code may take from npm: the workflow API (and the common package it is made of), zod/mini. */
const WORKFLOW_PACKAGES = '^node_modules/(@temporalio/(workflow|common)|zod/mini)/';

/** `forbidden` rule: `from` may not import `to` (type-only imports included unless said otherwise). */
const never = (name, comment, from, to, extra = {}) => ({ name, comment, severity: 'error', from: { path: from, ...(extra.fromNot ? { pathNot: extra.fromNot } : {}) }, to: { ...to } });

module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'Modules that import each other cannot be read, tested or moved one at a time.', severity: 'error', from: {}, to: { circular: true } },

    never('kernel-imports-only-kernel', 'The kernel is the ground floor: it imports nothing of the project.', KERNEL, { path: '^(src|workflows|activities|temporal-schedules)/', pathNot: KERNEL }),
    never('families-below-workflows-and-activities', 'The families are what workflows and activities are made of, never the other way round.', '^src/', { path: `${WORKFLOWS}|${ACTIVITIES}|${CATALOGUE}|${SCHEDULES}|${SETTINGS}|${ENTRY}` }, { fromNot: `${ENTRY}|${SETTINGS}|${CATALOGUE}|${KERNEL}` }),
    never('activities-below-the-catalogue', 'Activities are given what they run (rules, settings) by the worker; they never reach up for it, nor into the CLI.', ACTIVITIES, { path: `${WORKFLOWS}|${CATALOGUE}|${SCHEDULES}|${SETTINGS}|${ENTRY}` }),
    never('workflows-below-the-catalogue', 'Workflow code knows nothing of who starts it.', WORKFLOWS, { path: `${CATALOGUE}|${SCHEDULES}|${SETTINGS}|${ENTRY}` }),
    never('workflows-take-activities-as-types', 'Workflow code calls activities through proxies: their types only.', WORKFLOWS, { path: ACTIVITIES, dependencyTypesNot: ['type-only'] }),
    never('catalogue-below-schedules-and-settings', 'The catalogue is data (the jobs and their schedules); temporal-schedules/ and the settings are built from it.', CATALOGUE, { path: `${SCHEDULES}|${SETTINGS}|${ENTRY}|${WORKFLOWS}|${ACTIVITIES}` }),
    never('schedules-below-settings', 'The schedules are given their declarations; the settings read them.', SCHEDULES, { path: `${SETTINGS}|${ENTRY}` }),
    never('settings-below-entry-points', 'The settings are read by the entry points and handed down.', SETTINGS, { path: ENTRY }),

    never('workflows-import-only-workflow-safe-code', 'Workflow code is deterministic: it imports only pure modules (WORKFLOW_SAFE) at run time.', WORKFLOWS, { pathNot: `${WORKFLOW_SAFE}|${WORKFLOW_PACKAGES}`, dependencyTypesNot: ['type-only'] }),
    never('workflow-safe-code-stays-pure', 'What workflow code imports does no I/O and imports only pure code.', WORKFLOW_SAFE, { pathNot: `${WORKFLOW_SAFE}|${WORKFLOW_PACKAGES}`, dependencyTypesNot: ['type-only'] }),

    never('legacy-v1-is-reached-only-by-its-dispatch', 'The frozen legacy purge runs only through the live purge\'s dispatch and activity registration (docs/versioning.md).', '^(src|workflows|activities|temporal-schedules)/', { path: LEGACY }, { fromNot: `${LEGACY}|^workflows/purge/batched-purge\\.ts$|^activities/purge/index\\.ts$` }),
    never('legacy-v1-imports-no-live-purge-code', 'The frozen legacy purge has its own copies; it takes from the engine only the shapes and the rule renderer.', LEGACY, { path: '^(src|workflows|activities|temporal-schedules)/', pathNot: `${LEGACY}|${KERNEL}|^src/purge/(types|sql|relations|identifiers)\\.ts$` }),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    combinedDependencies: false,
  },
};
