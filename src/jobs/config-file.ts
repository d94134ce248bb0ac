import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { InputError } from '../config.js';

let cache: { path: string; mtimeMs: number; value: unknown } | undefined;

/**
 * The config file: `MAINT_CONFIG`, else ./maint.config.yaml when present (an explicitly named file must
 * exist). Holds schedule overrides (`schedules:`) and custom retention rules (`rules:`).
 */
export function loadConfigFile(env: NodeJS.ProcessEnv = process.env): unknown {
  const explicit = env.MAINT_CONFIG;
  const path = resolve(explicit || 'maint.config.yaml');
  if (!existsSync(path)) {
    if (explicit) throw new InputError('MAINT_CONFIG', `${path} does not exist`);
    return {};
  }
  const mtimeMs = statSync(path).mtimeMs;
  if (cache && cache.path === path && cache.mtimeMs === mtimeMs) return cache.value;
  let value: unknown;
  try {
    value = parse(readFileSync(path, 'utf8')) ?? {};
  } catch (err) {
    throw new InputError('MAINT_CONFIG', `${path} is not valid YAML: ${(err as Error).message}`);
  }
  cache = { path, mtimeMs, value };
  return value;
}
