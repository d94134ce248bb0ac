import * as z from 'zod/mini';
import { InputError } from '../kernel/errors.js';
import { anObject, parseInput, text, triggerField, whole } from '../kernel/validate.js';
import type { PurgeContinuation, PurgeControlRequest } from './types.js';
import { BUDGET_CONTROL, KNOB_NAMES } from './budget.js';
import { PARALLEL } from './params.js';

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

/** Job names: the registry's names and custom rules' names, never free text. */
const JOB_NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/;

const MAX_LANES = 64;
const count = whole({ min: 0, max: Number.MAX_SAFE_INTEGER });
const flag = z.boolean({ error: 'expected true or false' });
const nullableString = z.nullable(z.string({ error: 'expected a string or null' }).check(z.maxLength(1_000, { error: 'expected a string or null' })));
const position = z.nullable(z.strictObject({ key: z.optional(nullableString), ts: z.optional(nullableString) }));
const lanesMessage = { error: `expected a list of at most ${MAX_LANES} lanes` };
const plansMessage = { error: 'expected a list of step plans' };

const LANE = z.strictObject({
  from: z.optional(nullableString),
  to: z.optional(nullableString),
  after: z.optional(position),
  size: whole({ min: 1, max: 1_000_000 }),
  done: z.optional(flag),
  skipped: z.optional(count),
  revisit: z.optional(z.nullable(z.strictObject({ after: z.optional(position), to: z.optional(nullableString) }))),
  revisiting: z.optional(flag),
});

/** The progress a live purge carries across continue-as-new (never its rules or cutoffs). */
const CONTINUATION = z.strictObject({
  v: z.literal(2, { error: 'expected 2' }),
  startedAtMs: count,
  nextBatchNo: count,
  batchesDone: z.optional(count),
  matched: z.optional(z.nullable(count)),
  deleted: z.optional(count),
  updated: z.optional(count),
  children: z.optional(anObject),
  step: whole({ min: 0, max: 100 }),
  plans: z.array(anObject, plansMessage).check(z.maxLength(100, plansMessage)),
  lanes: z.array(LANE, lanesMessage).check(z.maxLength(MAX_LANES, lanesMessage)),
  leftLocked: z.optional(count),
  control: z.optional(
    z.strictObject({
      paused: flag,
      batchSize: z.nullable(whole({ min: 1, max: 100_000 })),
      parallel: z.optional(z.nullable(whole(PARALLEL))),
      budget: z.optional(z.strictObject(BUDGET_CONTROL)),
    }),
  ),
  throttledMs: z.optional(anObject),
  pausedMs: z.optional(count),
  pausedSinceMs: z.optional(count),
});

const PURGE_INPUT = z.strictObject({
  job: text({ max: 100, pattern: JOB_NAME, patternText: 'a job name (lower-case letters, digits, ".", "_", "-"); see `maint jobs`' }),
  params: z.optional(anObject),
  trigger: z.optional(triggerField),
  carried: z.optional(anObject),
});

export function parsePurgeInput(raw: unknown): ParsedPurgeInput {
  const input = parseInput('batchedPurge', PURGE_INPUT, raw, ['job']);
  const out: ParsedPurgeInput = { job: input.job };
  if (input.params !== undefined) out.params = input.params;
  if (input.trigger !== undefined) out.trigger = input.trigger;
  const carried = input.carried;
  if (carried) {
    // The legacy state carried `resolved` (its rules); the live one carries progress only.
    if ('resolved' in carried) out.legacy = carried;
    else {
      parseInput('a purge state', CONTINUATION, carried, ['v', 'startedAtMs', 'nextBatchNo', 'step', 'plans', 'lanes'], 'input.carried');
      out.carried = { deleted: 0, updated: 0, children: {}, matched: null, leftLocked: 0, ...carried } as PurgeContinuation;
    }
  }
  return out;
}

const CONTROL_REQUEST = z.strictObject({
  pause: z.optional(flag),
  batchSize: z.optional(z.nullable(whole({ min: 1, max: 100_000 }))),
  parallel: z.optional(z.nullable(whole(PARALLEL))),
  ...BUDGET_CONTROL,
});

/**
 * An operator's `control` update, as any client of the namespace may send it: checked before it is accepted (the
 * workflow checks the budget's knobs against the deployment's limits too).
 */
export function parseControlRequest(raw: unknown): PurgeControlRequest {
  const req = parseInput('control', CONTROL_REQUEST, raw, [], 'control') as PurgeControlRequest;
  if (Object.keys(req).length === 0) {
    throw new InputError('control', `asks for nothing; give pause (true or false), batchSize (1 to 100000, or null for the planned size), parallel (${PARALLEL.min} to ${PARALLEL.max}, or null) or a budget knob (${KNOB_NAMES.join(', ')})`);
  }
  return req;
}
