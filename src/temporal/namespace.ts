import type { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { MAINT_DRY_RUN, MAINT_JOB, MAINT_TRIGGER } from './labels.js';

// Default import: the package is CommonJS, and Node's ESM loader cannot see its named exports.
const INDEXED = proto.temporal.api.enums.v1.IndexedValueType;
const DEFINITIONS = {
  [MAINT_JOB.name]: INDEXED.INDEXED_VALUE_TYPE_KEYWORD,
  [MAINT_DRY_RUN.name]: INDEXED.INDEXED_VALUE_TYPE_BOOL,
  [MAINT_TRIGGER.name]: INDEXED.INDEXED_VALUE_TYPE_KEYWORD,
};

/** Registers our search attributes on the namespace unless they exist (idempotent; safe on every start). */
export async function ensureSearchAttributes(connection: Pick<Connection, 'operatorService'>, namespace: string): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const custom = existing.customAttributes ?? {};
  const missing = Object.fromEntries(Object.entries(DEFINITIONS).filter(([name]) => !(name in custom)));
  if (Object.keys(missing).length === 0) return [];
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
  } catch (err) {
    // Another starter registered them meanwhile.
    if (!/already exists/i.test(String((err as Error).message))) throw err;
  }
  return Object.keys(missing);
}
