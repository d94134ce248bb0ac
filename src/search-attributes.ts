import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import type { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';

/** Custom search attributes every run carries, so the Web UI can filter e.g. "purges that failed this week". */
export const MAINT_JOB = defineSearchAttributeKey('MaintJob', SearchAttributeType.KEYWORD);
export const MAINT_DRY_RUN = defineSearchAttributeKey('MaintDryRun', SearchAttributeType.BOOL);
export const MAINT_TRIGGER = defineSearchAttributeKey('MaintTrigger', SearchAttributeType.KEYWORD);

// Default import: the package is CommonJS, and Node's ESM loader cannot see its named exports.
const INDEXED = proto.temporal.api.enums.v1.IndexedValueType;
const DEFINITIONS = {
  [MAINT_JOB.name]: INDEXED.INDEXED_VALUE_TYPE_KEYWORD,
  [MAINT_DRY_RUN.name]: INDEXED.INDEXED_VALUE_TYPE_BOOL,
  [MAINT_TRIGGER.name]: INDEXED.INDEXED_VALUE_TYPE_KEYWORD,
};

export function runSearchAttributes(job: string, dryRun: boolean, trigger: string): SearchAttributePair[] {
  return [
    { key: MAINT_JOB, value: job },
    { key: MAINT_DRY_RUN, value: dryRun },
    { key: MAINT_TRIGGER, value: trigger },
  ];
}

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
