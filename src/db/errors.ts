import { ApplicationFailure } from '@temporalio/common';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';

const SQLSTATE = /^[0-9A-Z]{5}$/;
// Data errors and undefined objects do not go away on retry; lock timeouts, deadlocks and lost connections do.
const PERMANENT_CLASSES = ['22', '42'];

/**
 * A database error as one line without the statement or its bound values: the driver's message is the SQL with
 * every value inlined, then " - " and PostgreSQL's own message. Only the SQLSTATE and that last part are kept
 * (not `detail`, which quotes row values).
 */
export function databaseErrorMessage(err: unknown): { message: string; permanent: boolean } | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code !== 'string' || !SQLSTATE.test(code) || typeof message !== 'string') return undefined;
  const cut = message.lastIndexOf(' - ');
  const reason = cut >= 0 ? message.slice(cut + 3) : message;
  return { message: `database error ${code}: ${reason.slice(0, 300)}`, permanent: PERMANENT_CLASSES.includes(code.slice(0, 2)) };
}

/** Every activity's database errors reach history and logs as that one line. */
export class DatabaseErrorsWithoutValues implements ActivityInboundCallsInterceptor {
  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    try {
      return await next(input);
    } catch (err) {
      const db = databaseErrorMessage(err);
      if (!db) throw err;
      throw ApplicationFailure.create({ message: db.message, type: 'DatabaseError', nonRetryable: db.permanent });
    }
  }
}
