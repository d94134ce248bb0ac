import { Catalogue } from '../catalogue/index.js';
import { customJobs } from '../purge/custom-rules.js';
import { BUILT_IN_PURGES } from '../purge/presets/index.js';
import { loadConfig, type Config } from './environment.js';
import { loadConfigFile } from './config-file.js';
import { loadNotifications, type NotificationsConfig } from '../notify/channels.js';
import { effectiveSchedules } from '../../temporal-schedules/overrides.js';
import type { ScheduleDeclaration } from '../../temporal-schedules/declarations.js';

/**
 * Everything a process runs with, read once at its start (environment variables, then the config file) and
 * validated before anything is started; handed on to whatever needs it rather than read again from globals.
 */
export interface Settings {
  config: Config;
  /** The jobs: built-in ones and the config file's custom rules. */
  catalogue: Catalogue;
  /** The schedules with the config file's overrides, minus the disabled ones. */
  schedules: ScheduleDeclaration[];
  notifications: NotificationsConfig;
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const config = loadConfig(env);
  const file = loadConfigFile(env);
  const catalogue = catalogueOf(file);
  return { config, catalogue, schedules: effectiveSchedules(file, catalogue), notifications: loadNotifications(file, env, catalogue.names()) };
}

/** The jobs alone (a command that needs no other setting): the built-in ones plus the config file's rules. */
export function loadCatalogue(env: NodeJS.ProcessEnv = process.env): Catalogue {
  return catalogueOf(loadConfigFile(env));
}

/** The built-in jobs and the custom rules of a config file's contents. */
export function catalogueOf(file: unknown): Catalogue {
  return new Catalogue(customJobs(file, BUILT_IN_PURGES.map((j) => j.name)));
}
