import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { isMap, isScalar, parseDocument, visit } from 'yaml';
import { InputError, Problems } from '../kernel/errors.js';
import { variable } from './variables.js';
import { CONFIG_FILE_MAX_BYTES, CONFIG_MAX_FOREIGN_KEYS, CONFIG_MAX_NOTIFICATION_KEYS, CONFIG_MAX_RULES, CONFIG_MAX_SCHEDULES } from '../kernel/limits.js';

const SECTIONS = ['schedules', 'rules', 'notifications', 'foreignKeys'] as const;
const SECTION_LIMITS: Record<(typeof SECTIONS)[number], number> = { schedules: CONFIG_MAX_SCHEDULES, rules: CONFIG_MAX_RULES, notifications: CONFIG_MAX_NOTIFICATION_KEYS, foreignKeys: CONFIG_MAX_FOREIGN_KEYS };

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'a mapping' : `a ${typeof value}`;
}

/**
 * The first key that appears twice in one mapping. The YAML parser's own check is quadratic in the number of
 * keys (minutes for a file of 100k keys), so it is off and this linear one replaces it.
 */
function duplicateKey(doc: ReturnType<typeof parseDocument>): string | undefined {
  let found: string | undefined;
  visit(doc, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : JSON.stringify(pair.key);
        if (seen.has(key)) {
          found = key;
          return visit.BREAK;
        }
        seen.add(key);
      }
      return undefined;
    },
  });
  return found;
}

/** Parses and checks the shape of the file; every error names the file. */
export function parseConfigText(text: string, path: string): Record<string, unknown> {
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false });
  if (doc.errors.length) throw new InputError(path, `is not valid YAML: ${doc.errors[0]!.message}`);
  if (doc.contents === null) return {};
  if (!isMap(doc.contents)) {
    throw new InputError(path, `must be a mapping with the sections ${SECTIONS.join(', ')}; it is ${kindOf(doc.toJS({ maxAliasCount: 100 }))}`);
  }
  // Counted before anything is converted or validated, so a huge file is refused at once.
  const problems = new Problems();
  for (const pair of doc.contents.items) {
    const name = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    if (!(SECTIONS as readonly string[]).includes(name)) problems.add(new InputError(`${path}: ${name}`, `unknown section; allowed: ${SECTIONS.join(', ')}`));
    const limit = SECTION_LIMITS[name as (typeof SECTIONS)[number]];
    if (isMap(pair.value) && pair.value.items.length > limit) {
      problems.add(new InputError(`${path}: ${name}`, `has ${pair.value.items.length} entries; at most ${limit} are allowed`));
    }
  }
  problems.throwIfAny();
  const dup = duplicateKey(doc);
  if (dup !== undefined) throw new InputError(path, `the key "${dup}" appears twice in one mapping`);
  return doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown>;
}

/**
 * The config file: `MAINT_CONFIG`, else ./maint.config.yaml when present (an explicitly named file must
 * exist). Holds schedule overrides (`schedules:`), custom retention rules (`rules:`), notifications and the foreign
 * keys the HIdP presets do not know (`foreignKeys:`, src/purge/foreign-keys.ts). A file that is not a
 * mapping, is larger than CONFIG_FILE_MAX_BYTES or holds more entries than allowed is an error naming it.
 */
export function loadConfigFile(env: NodeJS.ProcessEnv): unknown {
  const explicit = variable(env, 'MAINT_CONFIG');
  const path = resolve(explicit || 'maint.config.yaml');
  if (!existsSync(path)) {
    if (explicit) throw new InputError('MAINT_CONFIG', `${path} does not exist`);
    return {};
  }
  const stat = statSync(path);
  if (!stat.isFile()) throw new InputError(explicit ? 'MAINT_CONFIG' : path, `${path} is not a file`);
  if (stat.size > CONFIG_FILE_MAX_BYTES) {
    throw new InputError(explicit ? 'MAINT_CONFIG' : path, `${path} is ${stat.size} bytes; a config file may have at most ${CONFIG_FILE_MAX_BYTES} (${CONFIG_FILE_MAX_BYTES / 1024} KiB)`);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(explicit ? 'MAINT_CONFIG' : path, `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return parseConfigText(text, path);
}
