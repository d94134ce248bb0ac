/**
 * Shapes of the signing-key lifecycle. Imported by workflow code, so this file holds types and pure data only.
 */

export const KEY_ALGS = ['RS256', 'ES256', 'EdDSA'] as const;
export type KeyAlg = (typeof KEY_ALGS)[number];

export const KEY_STATES = ['pending', 'published', 'active', 'retired', 'inactive', 'deleted'] as const;
export type KeyState = (typeof KEY_STATES)[number];

/** States whose public key is in the JWKS verifiers fetch. */
export const JWKS_STATES: readonly KeyState[] = ['published', 'active', 'retired'];

/** The durations and limits of the lifecycle, all in seconds so tests can use short ones. */
export interface KeyPolicy {
  alg: KeyAlg;
  /** How long verifiers cache the JWKS: a new key is published this long before it signs. */
  jwksCacheSeconds: number;
  /** Longest lifetime of a token signed by our keys: a retired key stays in the JWKS this long. */
  maxTokenLifetimeSeconds: number;
  /** Age of the signing key after which a (non-forced) rotation replaces it. */
  rotateAfterSeconds: number;
  /** How long an inactive key is kept (counted from its retirement) before it is deleted. */
  retentionSeconds: number;
  /** Most keys the JWKS may hold at once (published + active + retired). */
  maxActiveKeys: number;
  /** Start-to-close timeout of each step's activity. */
  stepTimeoutSeconds: number;
}

/** What the key activities need besides the database: the key-encryption key and this deployment's defaults. */
export interface KeysRuntime {
  /** MAINT_KEK; without it nothing that touches a private key runs (the failure says so). */
  kek?: Buffer;
  policy: KeyPolicy;
}

export type RotationParams = Partial<KeyPolicy> & {
  force?: boolean;
  /** Create and publish a key without making it the signing key (a standby the next rotation adopts). */
  standby?: boolean;
};

export interface RotationInput {
  params?: RotationParams;
  /** Who or what started the rotation: "cli", "schedule:<id>", ... */
  trigger?: string;
}

export type RotationStep = 'planning' | 'generate' | 'publish' | 'propagate' | 'test' | 'activate' | 'retire' | 'done';

export interface RotationProgress {
  step: RotationStep;
  kid: string | null;
  previousKid: string | null;
  /** ISO time a durable timer of this step fires. */
  waitingUntil: string | null;
}

export interface RotationPlan {
  rotate: boolean;
  /** "refused" when rotating would break an invariant (e.g. too many keys in the JWKS). */
  status: 'due' | 'not-due' | 'refused';
  reason: string;
  activeKid: string | null;
  /** When the current key becomes due (ISO), for "not-due". */
  dueAt: string | null;
}

export interface RotationResult {
  /** `standby`: a key was published, not activated (the `standby` parameter). */
  status: 'rotated' | 'standby' | 'not-due' | 'refused';
  reason: string;
  kid: string | null;
  alg: KeyAlg | null;
  previousKid: string | null;
  publishedAt: string | null;
  activatedAt: string | null;
  /** The old key leaves the JWKS at this time. */
  tokensExpireBy: string | null;
  /** Workflow that withdraws and later deletes the previous key. */
  retirementWorkflowId: string | null;
}

export interface RetirementInput {
  kid: string;
  retiredAt: string;
  tokensExpireBy: string;
  retentionSeconds: number;
  stepTimeoutSeconds: number;
}

export interface RetirementProgress {
  kid: string;
  step: 'retired' | 'withdrawn' | 'deleted';
  /** ISO time the current durable timer fires. */
  waitingUntil: string | null;
  reason: string | null;
}

export interface RetirementResult {
  kid: string;
  withdrawnAt: string;
  deletedAt: string;
}

/** The answer of a step that may have to wait because tokens still need the key. */
export interface StepOutcome {
  done: boolean;
  at: string | null;
  /** When not done: try again at this time (ISO). */
  retryAt: string | null;
  reason: string | null;
}

export interface KeyRow {
  kid: string;
  alg: KeyAlg;
  state: KeyState;
  createdAt: string;
  publishedAt: string | null;
  activatedAt: string | null;
  retiredAt: string | null;
  tokensExpireBy: string | null;
  withdrawnAt: string | null;
  deletedAt: string | null;
  supersededBy: string | null;
}

export interface CleanupParams {
  dryRun: boolean;
  retentionSeconds?: number;
}

export interface SweepResult {
  dryRun: boolean;
  withdrawn: string[];
  deleted: string[];
  kept: Array<{ kid: string; state: KeyState; reason: string }>;
}

/** One rotation at a time: every request uses this id, and joins the running rotation if there is one. */
export const ROTATION_WORKFLOW_ID = 'maint-key-rotation';

/** What a scheduled rotation check did: started the rotation under its id, or found one running and joined it. */
export interface ScheduledRotationResult {
  rotationWorkflowId: string;
  joined: boolean;
  /** The rotation's result when this run started it. */
  rotation: RotationResult | null;
}
