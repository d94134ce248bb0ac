import {
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../../activities/index.js';
import type { ResolvedRotation } from '../../activities/keys.js';
import type { RotationInput, RotationProgress, RotationResult, RotationStep } from '../../src/keys/types.js';
import { parseRotationInput } from '../../src/keys/inputs.js';
import { recordRun, short, errorMessage, acceptInput, sleepUntil, triggerOf } from '../job-run.js';
import { rotationProgressQuery } from '../../src/temporal/queries.js';
import { signingKeyRetirement } from './retirement.js';

export function retirementWorkflowId(kid: string): string {
  return `maint-key-retirement-${kid}`;
}

/**
 * Rotates the JWT signing key: generate → publish (and wait the verifiers' JWKS cache lifetime) → test →
 * activate (the old key retires in the same transaction) → hand the old key to its retirement workflow, which
 * keeps it in the JWKS until its tokens have expired and deletes it after the retention. Started with a fixed
 * workflow id so a second request joins a running rotation instead of racing it. Every step is an idempotent
 * activity; the waits are durable timers.
 */
export async function keyRotation(raw: RotationInput): Promise<RotationResult> {
  const input = await acceptInput('key-rotation', raw, parseRotationInput);
  const info = workflowInfo();
  const startedAt = new Date().toISOString();
  const trigger = triggerOf(input.trigger);
  const progress: RotationProgress = { step: 'planning', kid: null, previousKid: null, waitingUntil: null };
  setHandler(rotationProgressQuery, () => progress);
  const enter = (step: RotationStep, details: string) => {
    progress.step = step;
    progress.waitingUntil = null;
    setCurrentDetails(`**${step}**: ${details}`);
  };

  const result: RotationResult = {
    status: 'rotated',
    reason: '',
    kid: null,
    alg: null,
    previousKid: null,
    publishedAt: null,
    activatedAt: null,
    tokensExpireBy: null,
    retirementWorkflowId: null,
  };
  let policy: ResolvedRotation | undefined;
  const record = (status: 'completed' | 'failed' | 'cancelled', error?: string) =>
    CancellationScope.nonCancellable(() =>
      recordRun({
        job: 'key-rotation',
        parameters: policy ? { ...policy } : { ...input.params },
        trigger,
        dryRun: false,
        status,
        startedAt,
        matched: null,
        deleted: 0,
        counts: { rotated: result.status === 'rotated' && status === 'completed' ? 1 : 0, ...(result.status === 'standby' ? { standby: 1 } : {}) },
        error: error ?? (result.status === 'rotated' || result.status === 'standby' ? null : `${result.status}: ${result.reason}`),
      }),
    );

  try {
    enter('planning', 'is a rotation due?');
    const pol = await short.resolveRotation({ params: input.params });
    policy = pol;
    // Steps retry until they succeed or fail for good: giving up half-way would strand a published key.
    const steps = proxyActivities<Activities>({
      startToCloseTimeout: `${pol.stepTimeoutSeconds} seconds`,
      retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
    });
    // A standby key is made whether or not a rotation is due (the JWKS limit still holds). The parameter is new, so
    // no running history took this branch: the commands of every other run are unchanged.
    const standby = input.params?.standby === true;
    const plan = await steps.planRotation({ policy: standby ? { ...pol, force: true } : pol });
    if (!plan.rotate) {
      Object.assign(result, { status: plan.status === 'refused' ? 'refused' : 'not-due', reason: plan.reason });
      enter('done', plan.reason);
      await record('completed');
      return result;
    }
    result.reason = plan.reason;

    enter('generate', `a new ${pol.alg} keypair`);
    // The first run id names this rotation uniquely across retries (and it always fits the column).
    const gen = await steps.generateSigningKey({ rotationId: info.firstExecutionRunId, alg: pol.alg });
    Object.assign(result, { kid: gen.kid, alg: gen.alg });
    progress.kid = gen.kid;

    enter('publish', `${gen.kid} joins the JWKS`);
    const pub = await steps.publishSigningKey({ kid: gen.kid });
    result.publishedAt = pub.publishedAt;

    if (standby) {
      Object.assign(result, { status: 'standby', reason: `${gen.kid} is in the JWKS and does not sign; the next rotation makes it the signing key` });
      enter('done', result.reason);
      await record('completed');
      return result;
    }

    const propagated = Date.parse(pub.publishedAt) + pol.jwksCacheSeconds * 1000;
    enter('propagate', `verifiers' JWKS caches expire (${pol.jwksCacheSeconds} s)`);
    progress.waitingUntil = new Date(propagated).toISOString();
    await sleepUntil(propagated, `verifiers refresh their JWKS (cache ${pol.jwksCacheSeconds} s)`);

    enter('test', `sign and verify a probe token with ${gen.kid}`);
    try {
      await steps.testSigningKey({ kid: gen.kid });
    } catch (err) {
      if (isCancellation(err)) throw err;
      await CancellationScope.nonCancellable(() => steps.discardSigningKey({ kid: gen.kid, reason: errorMessage(err) }));
      throw ApplicationFailure.nonRetryable(`the new key ${gen.kid} failed its test and was discarded: ${errorMessage(err)}`, 'KeyTestFailed');
    }

    enter('activate', `${gen.kid} becomes the signing key`);
    // Once activation started it runs to its end: a half-handled cancellation must not leave two stories.
    const act = await CancellationScope.nonCancellable(() =>
      steps.activateSigningKey({ kid: gen.kid, jwksCacheSeconds: pol.jwksCacheSeconds, maxTokenLifetimeSeconds: pol.maxTokenLifetimeSeconds }),
    );
    Object.assign(result, { activatedAt: act.activatedAt, previousKid: act.previousKid, tokensExpireBy: act.tokensExpireBy });
    progress.previousKid = act.previousKid;

    if (act.previousKid && act.retiredAt && act.tokensExpireBy) {
      enter('retire', `${act.previousKid} verifies until ${act.tokensExpireBy}, then leaves the JWKS`);
      result.retirementWorkflowId = retirementWorkflowId(act.previousKid);
      try {
        await CancellationScope.nonCancellable(() =>
          startChild(signingKeyRetirement, {
            workflowId: retirementWorkflowId(act.previousKid!),
            // The old key's retirement outlives this rotation by design (token lifetime, then retention).
            parentClosePolicy: ParentClosePolicy.ABANDON,
            args: [{ kid: act.previousKid!, retiredAt: act.retiredAt!, tokensExpireBy: act.tokensExpireBy!, retentionSeconds: pol.retentionSeconds, stepTimeoutSeconds: pol.stepTimeoutSeconds }],
          }),
        );
      } catch (err) {
        // Already started by another run for the same key: that one carries on.
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
    }
    enter('done', `${gen.kid} is the signing key`);
    await record('completed');
    return result;
  } catch (err) {
    if (isCancellation(err)) {
      await record('cancelled');
      throw err;
    }
    await record('failed', errorMessage(err));
    throw err instanceof ApplicationFailure ? err : ApplicationFailure.nonRetryable(`key rotation failed: ${errorMessage(err)}`, 'RotationFailed');
  }
}
