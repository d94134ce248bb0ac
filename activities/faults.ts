/** Test hooks that simulate crashes at exact points; never set in production. */
export type KeyStep = 'generate' | 'publish' | 'test' | 'activate' | 'withdraw' | 'delete';

export interface FaultHooks {
  /** Called after a batch's transaction committed, before the activity returns. */
  afterBatchCommit?: (info: { runId: string; batchNo: number; attempt: number }) => void | Promise<void>;
  /** Called after a key lifecycle step committed (or, for "test", completed), before the activity returns. */
  afterKeyStep?: (info: { step: KeyStep; kid: string; attempt: number }) => void | Promise<void>;
  /** Called inside the activation transaction, between demoting the old key and promoting the new one. */
  duringActivate?: (info: { kid: string; previousKid: string | null }) => void | Promise<void>;
}
