import { InputError } from '../kernel/errors.js';
import { inputObject, isInt, isJobName, isObject, isTrigger, type FieldCheck } from '../kernel/workflow-input.js';
import type { PurgeContinuation } from './types.js';

/**
 * The batched purge's input, checked before anything else happens (workflow code: pure). `params` are checked
 * next by `parsePurgeParams`, the same function the CLI uses; the job name against the worker's registry.
 */
export interface ParsedPurgeInput {
  job: string;
  params?: Record<string, unknown>;
  trigger?: string;
  carried?: PurgeContinuation;
  /**
   * A state of the legacy v1 purge (it carried its rules), handed unread to that frozen workflow: only ever accepted
   * from the run's own continue-as-new.
   */
  legacy?: Record<string, unknown>;
}

const MAX_LANES = 64;
const count = isInt({ min: 0, max: Number.MAX_SAFE_INTEGER });
const nullableString: FieldCheck = (field, v) => {
  if (v !== null && (typeof v !== 'string' || v.length > 1_000)) throw new InputError(field, 'expected a string or null');
};

function position(field: string, v: unknown): void {
  if (v !== null) inputObject('a lane position', v, { key: nullableString, ts: nullableString }, [], field);
}

function lane(field: string, v: unknown): void {
  inputObject('a lane', v, {
    from: nullableString,
    to: nullableString,
    after: position,
    size: isInt({ min: 1, max: 1_000_000 }),
    done: bool,
    skipped: count,
    revisit: (f, r) => {
      if (r !== null) inputObject('a revisit range', r, { after: position, to: nullableString }, [], f);
    },
    revisiting: bool,
  }, ['size'], field);
}

const bool: FieldCheck = (field, v) => {
  if (typeof v !== 'boolean') throw new InputError(field, 'expected true or false');
};

function continuation(field: string, v: unknown): void {
  inputObject('a purge state', v, {
    v: (f, x) => {
      if (x !== 2) throw new InputError(f, 'expected 2');
    },
    startedAtMs: count,
    nextBatchNo: count,
    batchesDone: count,
    matched: (f, x) => x === null || count(f, x),
    deleted: count,
    updated: count,
    children: isObject,
    step: isInt({ min: 0, max: 100 }),
    plans: (f, x) => {
      if (!Array.isArray(x) || x.length > 100) throw new InputError(f, 'expected a list of step plans');
      x.forEach((p, i) => isObject(`${f}[${i}]`, p));
    },
    lanes: (f, x) => {
      if (!Array.isArray(x) || x.length > MAX_LANES) throw new InputError(f, `expected a list of at most ${MAX_LANES} lanes`);
      x.forEach((l, i) => lane(`${f}[${i}]`, l));
    },
    leftLocked: count,
  }, ['v', 'startedAtMs', 'nextBatchNo', 'step', 'plans', 'lanes'], field);
}

export function parsePurgeInput(raw: unknown): ParsedPurgeInput {
  const input = inputObject('batchedPurge', raw, { job: isJobName, params: isObject, trigger: isTrigger, carried: isObject }, ['job']);
  const out: ParsedPurgeInput = { job: input.job as string };
  if (input.params !== undefined) out.params = input.params as Record<string, unknown>;
  if (input.trigger !== undefined) out.trigger = input.trigger as string;
  const carried = input.carried as Record<string, unknown> | undefined;
  if (carried) {
    // The earlier version's state carried `resolved` (its rules); the current one carries progress only.
    if ('resolved' in carried) out.legacy = carried;
    else {
      continuation('input.carried', carried);
      out.carried = { deleted: 0, updated: 0, children: {}, matched: null, leftLocked: 0, ...carried } as PurgeContinuation;
    }
  }
  return out;
}
