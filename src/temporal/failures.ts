import { ApplicationFailure } from '@temporalio/common';
import { InputError } from '../kernel/errors.js';

/**
 * What a bad input becomes in a workflow or an activity: a failure that is not retried (retrying cannot make the
 * input good), with the input's message naming the field. Pure: workflow code uses it too.
 */
function failedForGood(err: unknown): unknown {
  return err instanceof InputError ? ApplicationFailure.nonRetryable(err.message, 'InvalidInput') : err;
}

/** What `check` returns; a bad input it throws ends the run for good (see `failedForGood`). */
export function checked<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    throw failedForGood(err);
  }
}

/** `checked` for an async check. */
export async function checkedAsync<T>(check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (err) {
    throw failedForGood(err);
  }
}
