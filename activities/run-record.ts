import { type Orm, dbFromOrm } from '../src/orm/index.js';
import { recordJobRun, type JobRunRecord } from '../src/db/run-record.js';
import { executionRunId } from './execution.js';


/** The audit record of a non-purge job, in the same table `maint runs` reads (see run-record.ts). */
export function createAuditActivities({ orm }: { orm: Orm }) {
  const db = dbFromOrm(orm);
  return {
    async recordJobRun(r: JobRunRecord): Promise<void> {
      await recordJobRun(db, { ...r, executionRunId: executionRunId() });
    },
  };
}
