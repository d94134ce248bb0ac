import type { KeyPolicy, RotationPlan } from './types.js';

export interface KeySetState {
  active: { kid: string; activatedAt: string } | null;
  /** Keys verifiers see now (published + active + retired). */
  inJwks: number;
  /** A key already on its way in (left by a rotation that was terminated): it is adopted, not duplicated. */
  next: { kid: string; state: 'pending' | 'published' } | null;
}

/**
 * Whether a rotation should run now. Pure, so the weekly check's rules are unit-tested: rotate when there is no
 * signing key, when it is older than rotateAfter, or when forced; never when that would put more keys in the
 * JWKS than maxActiveKeys (a key removed early would strand the tokens it signed).
 */
export function decideRotation(state: KeySetState, policy: Pick<KeyPolicy, 'rotateAfterSeconds' | 'maxActiveKeys'>, force: boolean, nowMs: number): RotationPlan {
  const activeKid = state.active?.kid ?? null;
  // A pending key is not in the JWKS yet; publishing it adds one.
  const afterPublish = state.inJwks + (state.next?.state === 'published' ? 0 : 1);
  if (afterPublish > policy.maxActiveKeys) {
    return {
      rotate: false,
      status: 'refused',
      reason:
        `publishing a new key would put ${afterPublish} keys in the JWKS; at most ${policy.maxActiveKeys} allowed (MAX_ACTIVE_KEYS). ` +
        'Retired keys leave the JWKS once their tokens have expired (`maint run keypair-cleanup`), or raise MAX_ACTIVE_KEYS',
      activeKid,
      dueAt: null,
    };
  }
  if (!state.active) return { rotate: true, status: 'due', reason: 'there is no signing key yet', activeKid, dueAt: null };
  const dueAtMs = Date.parse(state.active.activatedAt) + policy.rotateAfterSeconds * 1000;
  const dueAt = new Date(dueAtMs).toISOString();
  if (force) return { rotate: true, status: 'due', reason: 'forced', activeKid, dueAt };
  if (nowMs >= dueAtMs) {
    return { rotate: true, status: 'due', reason: `the signing key ${activeKid} is older than ${policy.rotateAfterSeconds} s`, activeKid, dueAt };
  }
  return { rotate: false, status: 'not-due', reason: `the signing key ${activeKid} is due for rotation at ${dueAt}`, activeKid, dueAt };
}
