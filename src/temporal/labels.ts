import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';

/** Marks the schedules this tool manages (their memo's `managedBy`); sync never touches a schedule without it. */
export const MANAGED_BY = 'auth-maintenance';

/** Custom search attributes every run carries, so the Web UI can filter e.g. "purges that failed this week". Pure: workflows set them too. */
export const MAINT_JOB = defineSearchAttributeKey('MaintJob', SearchAttributeType.KEYWORD);
export const MAINT_DRY_RUN = defineSearchAttributeKey('MaintDryRun', SearchAttributeType.BOOL);
export const MAINT_TRIGGER = defineSearchAttributeKey('MaintTrigger', SearchAttributeType.KEYWORD);

export function runSearchAttributes(job: string, dryRun: boolean, trigger: string): SearchAttributePair[] {
  return [
    { key: MAINT_JOB, value: job },
    { key: MAINT_DRY_RUN, value: dryRun },
    { key: MAINT_TRIGGER, value: trigger },
  ];
}
