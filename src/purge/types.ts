/**
 * Shared shapes of jobs, rules and purge runs. Imported by workflow code, so this file holds types and
 * pure data only.
 */
import type { PurgeAftermath } from './aftermath.js';
import type { BrakeSettings, ThrottleKind } from './brake.js';
import type { BudgetKnobs, BudgetName } from './budget.js';
import type { StepShare, StoppedBy } from './breakers.js';

/** Rows of `table` that reference the parent through `foreignKey`; deleted with (before) their parent. */
export interface ChildRule {
  table: string;
  foreignKey: string;
  /** Parent column the foreign key points at; the parent's primary key when omitted. */
  references?: string;
  /** Primary key of this table; needed only when it has children of its own. */
  primaryKey?: string;
  children?: ChildRule[];
  /** `delete` (default) removes the dependent rows; `set-null` keeps them and clears their reference. */
  onDelete?: 'delete' | 'set-null';
}

/** Extra conditions a matching row must meet, ANDed with the timestamp test. Values are bound, never inlined. */
export type Condition =
  | { column: string; op: 'is_null' | 'is_not_null' | 'is_true' | 'is_false' }
  | { column: string; op: 'eq' | 'ne'; value: string | number | boolean }
  | { column: string; op: 'in'; values: Array<string | number> }
  /** Not every one of `columns` is true (so a later step does not take again what an earlier one took). */
  | { column: string; op: 'not_all_true'; also: string[] }
  | RelationCondition;

/**
 * Conditions on other tables' rows (`src/purge/relations.ts` renders them):
 * - `referenced` / `not_referenced`: some (no) row of `table` has `foreignKey` equal to this row's `references`
 *   (its primary key when omitted), e.g. an access token that no refresh token references;
 * - `referenced_row_older`: the row this row points at through `column` (the `table` row whose `references`, by
 *   default `id`, equals it) has `timestampColumn` before the run's reference time minus `retentionMs` (or at
 *   it, when `inclusive`), e.g. a refresh token whose access token expired more than a day ago. A NULL link or
 *   timestamp never matches.
 */
export type RelationCondition =
  | { op: 'referenced' | 'not_referenced'; table: string; foreignKey: string; references?: string }
  | { op: 'referenced_row_older'; column: string; table: string; references?: string; timestampColumn: string; retentionMs: number; inclusive?: boolean };

/** A value an update action writes: a literal, or the run's reference time. */
export type SetValue = string | number | boolean | null | { runTime: true };

export type RuleAction = { type: 'delete' } | { type: 'update'; set: Record<string, SetValue> };

/** A retention rule: which rows of which table a purge deletes, and which dependent rows go with them. */
export interface RetentionRule {
  table: string;
  primaryKey: string;
  /** Rows whose timestamp is strictly older than the cutoff match (at the cutoff too, with `cutoffInclusive`). */
  timestampColumn: string;
  /** `timestamp <= cutoff` instead of `<` (simplejwt's `flushexpiredtokens` deletes `expires_at <= now`). */
  cutoffInclusive?: boolean;
  /**
   * The column holds naive UTC wall-clock times that PostgreSQL read as local times of this zone (simplejwt under
   * Django's USE_TZ = False and a TIME_ZONE): the cutoff is compared the same way, its UTC wall clock read in the zone.
   */
  naiveUtcIn?: string;
  /** cutoff = the run's reference time minus this many milliseconds (0: "already expired"). */
  retentionMs: number;
  where?: Condition[];
  /** Delete (default), or update the matching rows (e.g. mark revoked) and keep them. */
  action?: RuleAction;
  children: ChildRule[];
  /** Label of this step in results; the table name when omitted. */
  name?: string;
  /** Rows of other tables that go with (or are unlinked from) the matching rows, as a graph (src/purge/cascade.ts). */
  cascade?: Cascade;
}

/**
 * What deleting rows does to the rows that reference them, when that is a graph rather than a tree (Django's
 * collector deleting a user: a token is reached through its user, its application and its ID token). Each
 * `delete` edge adds the rows of `table` whose `column` references a deleted row of `parent` (by its key) to the
 * rows deleted from `table`; each `set-null` edge clears `column` of the rows that stay. The `delete` edges form
 * no cycle; every table rows are deleted from has its single-column key in `keys`.
 */
export interface Cascade {
  keys: Record<string, string>;
  edges: CascadeEdge[];
  /**
   * For the dry run: the matching rows that own rows of `table` (through `column`) are named by `label`, with the
   * rows of `dependents` that reference what they own and belong to someone else (`ownerColumn` differs).
   */
  owners?: { table: string; column: string; label: string; dependents: Array<{ table: string; column: string; ownerColumn: string }> };
}

export interface CascadeEdge {
  table: string;
  column: string;
  parent: string;
  action: 'delete' | 'set-null';
}

/** The foreign keys of the tables on the search path, as pg_constraint has them, with each table's key. */
export interface ForeignKeyCatalog {
  foreignKeys: Array<{ name: string; table: string; columns: string[]; references: string; referencedColumns: string[]; nullable: boolean }>;
  /** Single-column primary keys, by table. */
  primaryKeys: Record<string, string>;
  tables: string[];
}

/** What deleting a referenced row does to a foreign key a preset does not know, as the config file declares it. */
export interface ForeignKeyDeclaration {
  table: string;
  column: string;
  onDelete: 'cascade' | 'set-null' | 'protect';
}

export interface PurgeParams {
  batchSize: number;
  dryRun: boolean;
  /** Reference time of the run (ISO 8601); the workflow's start time when omitted. */
  asOf?: string;
  /** Start-to-close timeout of one batch activity. */
  batchTimeoutSeconds: number;
  /** Batches per workflow run before continue-as-new keeps the history small. */
  batchesPerRun: number;
  /** Retention in days, for jobs that take one (replaces the default of the steps it applies to). */
  days?: number;
  /** Token types to purge, for jobs that select by type. */
  types?: string[];
  /** django-oauth-toolkit's REFRESH_TOKEN_EXPIRE_SECONDS (the cleartokens preset); unset: no refresh token is deleted. */
  refreshTokenExpireSeconds?: number;
  /** django-oauth-toolkit version whose cleartokens the preset reproduces (e.g. "1.7", "2.4", "3.4.1"). */
  dotVersion?: string;
  /** django-oauth-toolkit's REFRESH_TOKEN_GRACE_PERIOD_SECONDS (cleartokens reads it from 3.4.0 on; default 0). */
  refreshTokenGracePeriodSeconds?: number;
  /** django-oauth-toolkit's REFRESH_TOKEN_REUSE_PROTECTION (cleartokens reads it from 3.4.0 on; default false). */
  refreshTokenReuseProtection?: boolean;
  /** Django's TIME_ZONE of an app with USE_TZ = False, whose simplejwt stores naive UTC times read in that zone. */
  djangoTimeZone?: string;
  /** The HIdP presets' user table (AUTH_USER_MODEL's); found from the catalog when omitted. */
  userTable?: string;
  /**
   * Adapt the batch size so a batch transaction takes about this long (0: fixed size). On by default when
   * no batch size is given; an explicit batch size is used as is.
   */
  targetBatchMs?: number;
  /** Lanes worked at once (disjoint key or time ranges); default 2 on large tables, 1 on small ones. */
  parallel?: number;
  /** VACUUM (ANALYZE) the tables the run changed once it walked every step (patch `purge-aftermath`). */
  vacuum?: boolean;
  /** The impact budget's preset (src/purge/budget.ts); `balanced` when unset. */
  budget?: BudgetName;
  /** Circuit breaker: the run stops (status `partial`) once its steps deleted or updated this many rows; the next run goes on. */
  maxRows?: number;
  /** Circuit breaker: the run stops between batches (status `partial`) this many seconds after its start. */
  maxDurationSeconds?: number;
  /**
   * Circuit breaker: the run refuses, before its first batch, a step expected to change more than this share of its
   * table. The job's default (`JobDefinition.maxFraction`: on for jobs that delete accounts) when not given.
   */
  maxFraction?: number;
}

/** A purge's parameters with the budget's knobs the run sets itself (`--max-replica-lag`, `--sleep-coef`, ...). */
export interface PurgeParams extends BudgetKnobs {}

/** Where one lane of a step stands. */
export interface LaneState {
  from: string | null;
  to: string | null;
  after: { key: string | null; ts?: string | null } | null;
  /** Rows (timestamp walk) or keys (key chunks) of its next batch. */
  size: number;
  done: boolean;
  /** Rows its batches skipped because another transaction held them. */
  skipped: number;
  /** The range to walk once more at the end, for rows that were locked when their turn came. */
  revisit: { after: { key: string | null; ts?: string | null } | null; to: string | null } | null;
  revisiting: boolean;
}

/** Progress carried across continue-as-new by the current purge workflow. */
/** What an operator set on a running purge (`maint control`): kept across continue-as-new. */
export interface PurgeControl {
  paused: boolean;
  /** A fixed batch size instead of the adaptive one; null: as planned. */
  batchSize: number | null;
  /** Most lanes run at once (of the step's planned lanes; a larger number applies from the next step's plan); absent: all. */
  parallel?: number | null;
  /** The budget's knobs an operator set, over the run's own. */
  budget?: BudgetKnobs;
}

/** A change an operator asks of a running purge; absent fields stay as they are. */
export interface PurgeControlRequest {
  pause?: boolean;
  /** A fixed size, or null for the planned (adaptive) one again. */
  batchSize?: number | null;
  /** Most lanes at once, or null for all the planned ones again. */
  parallel?: number | null;
}

export interface PurgeControlRequest extends BudgetKnobs {}

export interface PurgeContinuation {
  v: 2;
  startedAtMs: number;
  nextBatchNo: number;
  /** Time an operator's pause held the run, in this run and the ones before: not part of its rows per second. */
  pausedMs?: number;
  /** When the operator's pause under way began (epoch ms): the next run counts it from there, not from its own start. */
  pausedSinceMs?: number;
  matched: number | null;
  /** Running totals for the progress query; the result is summed from the ledger. */
  deleted: number;
  updated: number;
  children: Record<string, number>;
  step: number;
  /** Batches committed (batch numbers are handed out in ranges, one per lane run, so they have gaps). */
  batchesDone?: number;
  /** The plan of each step begun so far. */
  plans: StepPlanSummary[];
  lanes: LaneState[];
  /** Rows still locked on the second pass over their range: left for the next run. */
  leftLocked: number;
  control?: PurgeControl;
  /** Time the lanes waited on the impact budget, in ms by reason (summed over lanes). */
  throttledMs?: Partial<Record<ThrottleKind, number>>;
}

/**
 * How a step of a purge walks its table, decided once from the live catalog before its first batch (see
 * activities/purge/plan.ts):
 * - `timestamp-index` where a valid btree index leads with the rule's timestamp: batches take the oldest
 *   matching rows in index order (they only ever read rows that match);
 * - `key-chunks` otherwise (Django's tables have no index on their expiry): batches take the next chunk of the
 *   key in key order and delete what matches in it, so the purge is one linear pass over the table.
 * The key (or timestamp) range is split into disjoint lanes that run concurrently, on any worker.
 */
export interface StepPlan {
  strategy: 'timestamp-index' | 'key-chunks';
  /** The index walked: the timestamp index, or the key's unique index. */
  index: string;
  key: string;
  keyType: string;
  /** Rows (timestamp walk) or keys (key chunks) of the first batch of each lane. */
  chunk: number;
  /** Fixed chunk (an explicit batch size) or adapting to the target batch duration. */
  adaptive: boolean;
  lanes: Array<{ from: string | null; to: string | null }>;
  estimatedRows: number;
  /** Where the walk begins and ends (oldest timestamp and cutoff, or smallest and largest integer key), for progress. */
  range?: { lo: string; hi: string };
  /** Why this walk, in words. */
  reason: string;
}

/** A step's plan as results, audit rows and the progress query show it. */
export interface StepPlanSummary extends StepPlan {
  step: string;
  /** The dry run's EXPLAIN of one batch. */
  explain?: string;
}

export interface ResolvedJob {
  job: string;
  /** The steps, in order; each runs to its end before the next starts. */
  steps?: RetentionRule[];
  params: PurgeParams;
  /** Digest of the steps, recorded at the run's start and checked by each continued run. */
  fingerprint?: string;
  /** The run's impact budget, resolved by the worker within its limits (absent in histories from before budgets). */
  budget?: BrakeSettings;
  /** The deployment's limits (MAINT_BRAKE_*, MAINT_MAX_PARALLEL) an operator's live change is checked against. */
  limits?: { brakes: BrakeSettings; maxParallel: number };
}

export interface BatchResult {
  deleted: number;
  /** Rows an update step changed; absent for delete steps. */
  updated?: number;
  children: Record<string, number>;
  durationMs: number;
  /** True when the ledger already held this batch: an earlier attempt committed it. */
  fromLedger: boolean;
  /** Newest timestamp among the rows of this batch: where the next batch of the step starts. */
  lastTs?: string | null;
  /** Planned walks: rows (or keys) the batch looked at, rows it skipped as locked, the key it reached. */
  examined?: number;
  skipped?: number;
  lastKey?: string | null;
  /** Application sessions that waited on this batch's row locks as it ended (the blocking brake; not in the ledger). */
  blocked?: number;
}

export interface MatchCount {
  matched: number;
  children: Record<string, number>;
  /** What an operator should know before the run (a dry run's owners of OAuth applications). */
  notes?: string[];
  /** Matched rows per step, when counted for several steps. */
  perStep?: number[];
}

/**
 * `skipped`: a scheduled run that found its job already running (one purge of a job at a time). `partial`: a run
 * that stopped cleanly before its end: its row cap or time limit (docs/purge-engine.md, "Circuit breakers") or a
 * critical threshold of its budget; the next run goes on from what is left.
 */
export type RunStatus = 'running' | 'completed' | 'partial' | 'cancelled' | 'failed' | 'skipped';

/** The circuit breakers a run keeps (the parameters of the same names), as its progress and result show them. */
export interface RunLimits {
  maxRows?: number;
  maxDurationSeconds?: number;
  /** When the time limit falls (ISO), from the run's start. */
  stopsAt?: string;
  maxFraction?: number;
}

export interface Progress {
  job: string;
  dryRun: boolean;
  phase: 'starting' | 'counting' | 'planning' | 'deleting' | 'vacuuming' | 'finishing' | 'done';
  cutoff: string | null;
  matched: number | null;
  deleted: number;
  children: Record<string, number>;
  batches: number;
  step?: number;
  steps?: number;
  /** The current step's plan and its lanes' positions. */
  plan?: StepPlanSummary | null;
  lanes?: Array<{ done: boolean; at: string | null; size: number }>;
  /** What an operator set (`maint control`): a pause, a fixed batch size. */
  control?: PurgeControl;
  /** Why lanes wait on the impact budget now (null: they do not), since when, and the time waited so far by reason. */
  throttle?: { reason: string | null; kind: ThrottleKind | null; since: string | null; totalMs: Partial<Record<ThrottleKind, number>> };
  /** The budget the lanes keep now, in the knobs' units (seconds, factors), and its preset's name. */
  budget?: (Required<BudgetKnobs> & { name: string }) | null;
  /** The run's circuit breakers, when it has any; `stopping`: the one that is ending it. */
  limits?: RunLimits;
  stopping?: StoppedBy;
}

export interface PurgeResult {
  runId: string;
  job: string;
  status: RunStatus;
  dryRun: boolean;
  cutoff: string;
  matched: number | null;
  deleted: number;
  /** Rows changed by update steps (e.g. tokens marked revoked). */
  updated?: number;
  children: Record<string, number>;
  /** Rows deleted or updated per step name (a dry run: that would be). */
  steps?: Record<string, number>;
  /** Each step's cutoff by step name, when the job has several steps (`cutoff` is the first's). */
  cutoffs?: Record<string, string>;
  batches: number;
  durationMs: number;
  /** Time an operator's pause held the run (`maint control --pause`), when it was paused: left out of `rowsPerSecond`. */
  pausedMs?: number;
  rowsPerSecond: number | null;
  /** How each step walked its table. */
  plans?: StepPlanSummary[];
  /** Rows left because another transaction held them on both passes; the next run takes them. */
  skippedLocked?: number;
  /** A dry run's remarks (who owns OAuth applications whose other users' tokens would go; the fraction guard's word). */
  notes?: string[];
  /** What a real run left behind: dead tuples, autovacuum, WAL, advice (patch `purge-aftermath`). */
  aftermath?: PurgeAftermath;
  /** The run's circuit breakers, when it has any. */
  limits?: RunLimits;
  /** A `partial` run: the limit that stopped it, and why, in words (also the audit row's `error`). */
  stopped?: { by: StoppedBy; reason: string };
  /** What the fraction guard measured of each step before the first batch, when it was on. */
  shares?: StepShare[];
}

/** The parameters only Django presets take, each a `maint run` flag of the jobs that list it. */
export const DJANGO_PARAMS = ['refreshTokenExpireSeconds', 'dotVersion', 'refreshTokenGracePeriodSeconds', 'refreshTokenReuseProtection', 'djangoTimeZone', 'userTable'] as const;
export type DjangoParam = (typeof DJANGO_PARAMS)[number];

export interface JobOptions {
  /** `--days`: the retention of the listed steps, in days. */
  days?: { default: number; steps: number[]; meaning: string };
  /** `--types`: rows whose `column` is one of the chosen types (all allowed types by default). */
  types?: { column: string; allowed: string[]; steps: number[] };
}

/** The purges a worker runs, by name (the catalogue is one); an unknown name is an InputError naming the allowed ones. */
export interface PurgeJobs {
  purge(name: string): JobDefinition;
}

export interface JobDefinition {
  name: string;
  description: string;
  /** Run in order; each step runs to its end before the next starts. */
  steps: RetentionRule[];
  options?: JobOptions;
  /** Targets tables another application owns (Django): only reads and deletes, never migrates. */
  preset?: string;
  /** Upstream versions whose behaviour a preset reproduces. */
  matches?: string;
  /**
   * Steps that depend on the run's parameters (the cleartokens preset: its refresh lifespan and version);
   * `steps` then shows the default shape.
   */
  stepsFor?: (params: PurgeParams) => RetentionRule[];
  /** Django-only parameters the job takes (`refreshTokenExpireSeconds`, `dotVersion`, `userTable`, ...). */
  djangoParams?: DjangoParam[];
  /**
   * Steps that depend on the database's foreign keys (HIdP's user deletion): the worker reads them from the
   * catalog before anything runs and builds the steps here; may refuse (an InputError) what it does not know.
   * `steps` then shows the shape on HIdP's reference schema.
   */
  stepsFromCatalog?: (catalog: ForeignKeyCatalog, params: PurgeParams, declared: readonly ForeignKeyDeclaration[]) => RetentionRule[];
  /** The config file's `foreignKeys:` declarations, handed to `stepsFromCatalog`. */
  declaredForeignKeys?: readonly ForeignKeyDeclaration[];
  /** Declared in the config file's `rules:` section. */
  custom?: boolean;
  defaultBatchSize?: number;
  /**
   * The fraction guard's default share (`maxFraction`) for this job: set for jobs that delete accounts, where a rule
   * that matches most of the table is a mistake, not a backlog. Unset: off unless a run asks for it.
   */
  maxFraction?: number;
}
