import * as z from 'zod/mini';
import { Catalogue } from '../catalogue/index.js';
import { InputError, Problems } from '../kernel/errors.js';
import { configIssues, type UnknownField } from '../kernel/validate.js';
import { NOTIFICATIONS_SECTION, type NotificationsConfig } from '../notify/channels.js';
import { CUSTOM_RULE, customJobs } from '../purge/custom-rules.js';
import { BUILT_IN_PURGES } from '../purge/presets/index.js';
import { declaredForeignKeys, FOREIGN_KEYS_SECTION } from '../purge/foreign-keys.js';
import type { ScheduleDeclaration } from '../catalogue/schedules.js';
import { scheduleSet, SCHEDULE_OVERRIDE } from '../../temporal-schedules/overrides.js';
import { loadConfigFile } from './config-file.js';
import { loadConfig, type Config } from './environment.js';
import { loadNotifications } from './notifications.js';

/**
 * Everything a process runs with, read once at its start and validated before anything is started: the environment
 * (every variable of src/settings/variables.ts) and the config file. This module and bin/ are the only readers of
 * `process.env`; whatever needs a setting is handed it.
 */
export interface Settings {
  config: Config;
  /** The jobs: built-in ones and the config file's custom rules. */
  catalogue: Catalogue;
  /** The schedules with the config file's overrides, minus the disabled ones. */
  schedules: ScheduleDeclaration[];
  /** Ids of the declared schedules the config file (or their default) turns off: sync pauses them, never deletes. */
  disabledSchedules: string[];
  notifications: NotificationsConfig;
}

/** The config file, as one schema: its sections and what each holds (each section's own checks follow). */
export const CONFIG_FILE = z.strictObject({
  schedules: z.optional(z.record(z.string(), SCHEDULE_OVERRIDE, 'must be a mapping of schedule id to overrides')),
  rules: z.optional(z.record(z.string(), CUSTOM_RULE, 'must be a mapping of job name to rule')),
  notifications: z.optional(NOTIFICATIONS_SECTION),
  // What deleting a user does to foreign keys the HIdP presets do not know: table.column: cascade | set-null | protect.
  foreignKeys: z.optional(FOREIGN_KEYS_SECTION),
});

/** A schedule override names what it changes: an unknown one "cannot be overridden". */
const unknownInSection: UnknownField = (path, key, allowed) =>
  /^schedules\.[^.]+$/.test(path) ? new InputError(`${path}.${key}`, `cannot be overridden; allowed: ${allowed.join(', ')}`) : new InputError(path, `unknown field ${JSON.stringify(key)}; allowed: ${allowed.join(', ')}`);

/** The built-in jobs and the custom rules of a config file's contents. */
export function catalogueOf(file: unknown): Catalogue {
  return new Catalogue(customJobs(file, BUILT_IN_PURGES.map((j) => j.name)), declaredForeignKeys(file));
}

/**
 * Reads and checks the settings: the environment (`env`, the process's by default) and the config file it names.
 * Every mistake is reported at once, each naming its variable or its path in the file. `notificationSecrets: false`
 * is for a process that delivers no notification (the CLI, a client): it needs none of their secrets.
 */
export function loadSettings(env: NodeJS.ProcessEnv = process.env, opts: { notificationSecrets?: boolean } = {}): Settings {
  const problems = new Problems();
  const config = problems.take(() => loadConfig(env), undefined);
  const file = problems.take(() => loadConfigFile(env), undefined);
  let catalogue = new Catalogue();
  let schedules: ScheduleDeclaration[] = [];
  let disabledSchedules: string[] = [];
  let notifications: NotificationsConfig = { channels: [], deletionThreshold: { jobs: {} }, oidcFailingDays: 1, schedulePollSeconds: 60 };
  if (file !== undefined) {
    const structure = configIssues(CONFIG_FILE, file, '', unknownInSection).issues;
    problems.add(...structure);
    if (!structure.length) {
      catalogue = problems.take(() => catalogueOf(file), catalogue);
      ({ enabled: schedules, disabled: disabledSchedules } = problems.take(() => scheduleSet(file, catalogue), { enabled: schedules, disabled: disabledSchedules }));
      notifications = problems.take(() => loadNotifications(file, env, catalogue.names(), { secrets: opts.notificationSecrets }), notifications);
    }
  }
  problems.throwIfAny();
  return { config: config!, catalogue, schedules, disabledSchedules, notifications };
}

/** The jobs alone (for a script that starts jobs): the built-in ones plus the config file's rules, checked. */
export function loadCatalogue(env: NodeJS.ProcessEnv = process.env): Catalogue {
  return catalogueOf(loadConfigFile(env));
}
