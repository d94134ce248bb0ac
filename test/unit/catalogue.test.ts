import { describe, expect, it } from 'vitest';
import { BUDGET_FLAGS } from '../../src/catalogue/entry.js';
import * as workflows from '../../workflows/index.js';
import { Catalogue, WORKFLOW_NAMES } from '../../src/catalogue/index.js';
import { catalogueOf } from '../../src/settings/index.js';
import { jobAction, prepareStart } from '../../src/start-job.js';

const BUILT_IN = new Catalogue();

const labels = (pairs: Array<{ key: { name: string }; value: unknown }>) => Object.fromEntries(pairs.map((p) => [p.key.name, p.value]));

describe('the catalogue of jobs', () => {
  it('names a workflow of the bundle for every job, and every schedule once', () => {
    for (const e of BUILT_IN.entries) {
      expect(typeof (workflows as Record<string, unknown>)[e.workflow], e.name).toBe('function');
      if (e.singleton) expect(typeof (workflows as Record<string, unknown>)[e.singleton.scheduledWorkflow], e.name).toBe('function');
    }
    const ids = BUILT_IN.schedules().map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(BUILT_IN.names()).toEqual(expect.arrayContaining(['purge-expired-tokens', 'keypair-cleanup', 'scopes', 'refresh-jwks', 'key-rotation', 'health-report']));
  });

  it('names its workflows by string, exactly the workflow functions the bundle exports', () => {
    const exported = Object.entries(workflows).filter(([, v]) => typeof v === 'function').map(([k]) => k);
    expect([...WORKFLOW_NAMES].sort()).toEqual(exported.sort());
  });

  it("adds the config file's rules as purges with the purge flags", () => {
    const c = catalogueOf({ rules: { 'purge-sessions': { table: 'session', timestampColumn: 'expires_at' } } });
    const e = c.find('purge-sessions');
    expect(e).toMatchObject({ workflow: 'batchedPurge', purge: { custom: true }, schedules: [] });
    expect(e.flags).toEqual(['dryRun', 'batchSize', 'asOf', 'parallel', 'vacuum', 'maxRows', 'maxDuration', 'maxFraction', ...BUDGET_FLAGS]);
    expect(() => BUILT_IN.find('purge-sessions')).toThrow(/^job: unknown job "purge-sessions"; allowed: purge-expired-tokens/);
  });

  it('starts from a client and from a schedule with the same arguments and labels, parameters normalised', () => {
    const job = BUILT_IN.find('purge-verification-tokens');
    const fromClient = jobAction(job, { batchSize: '500', types: 'password_reset,password_reset', dryRun: true }, { trigger: 'cli' });
    expect(fromClient.workflowType).toBe('batchedPurge');
    // Text from flags arrives as numbers and lists; defaults are left to the worker.
    expect(fromClient.args).toEqual([{ job: 'purge-verification-tokens', params: { batchSize: 500, types: ['password_reset'], dryRun: true }, trigger: 'cli' }]);
    expect(fromClient.memo).toEqual({ parameters: { batchSize: 500, types: ['password_reset'], dryRun: true } });
    expect(labels(fromClient.typedSearchAttributes)).toEqual({ MaintJob: 'purge-verification-tokens', MaintDryRun: true, MaintTrigger: 'cli' });

    const fromSchedule = jobAction(job, { types: ['password_reset'] }, { trigger: 'schedule:s1', scheduled: true });
    // The workflow reads its trigger from the schedule that started it.
    expect(fromSchedule.args).toEqual([{ job: 'purge-verification-tokens', params: { types: ['password_reset'] } }]);
    expect(labels(fromSchedule.typedSearchAttributes)).toEqual({ MaintJob: 'purge-verification-tokens', MaintDryRun: false, MaintTrigger: 'schedule:s1' });
  });

  it('runs the rotation under its one id; its schedule goes through the joining workflow', () => {
    const rotation = BUILT_IN.find('key-rotation');
    expect(rotation.singleton?.workflowId).toBe('maint-key-rotation');
    expect(jobAction(rotation, { force: true }, { trigger: 'cli' }).workflowType).toBe('keyRotation');
    expect(jobAction(rotation, {}, { trigger: 'schedule:maint-key-rotation-weekly', scheduled: true }).workflowType).toBe('scheduledKeyRotation');
  });

  it('checks a start in full before anything is contacted', () => {
    const base = { job: 'purge-expired-tokens', taskQueue: 'q', trigger: 'script' };
    expect(prepareStart(base, BUILT_IN)).toMatchObject({ workflowType: 'batchedPurge', args: [{ job: 'purge-expired-tokens', params: {}, trigger: 'script' }] });
    expect(() => prepareStart({ ...base, job: 'purge-everything' }, BUILT_IN)).toThrow(/^job: unknown job "purge-everything"/);
    expect(() => prepareStart({ ...base, params: { batchSize: 0 } }, BUILT_IN)).toThrow(/^batchSize: 0 is not allowed; expected an integer from 1 to 100000$/);
    expect(() => prepareStart({ ...base, params: { days: 3 } }, BUILT_IN)).toThrow(/^days: job purge-expired-tokens takes no --days/);
    expect(() => prepareStart({ ...base, job: 'health-report', params: { verbose: true } }, BUILT_IN)).toThrow(/^params\.verbose: unknown parameter; this job takes none$/);
    expect(() => prepareStart({ ...base, trigger: 'a\nb' }, BUILT_IN)).toThrow(/^trigger: contains a control character/);
    expect(() => prepareStart({ ...base, workflowId: 'x'.repeat(256) }, BUILT_IN)).toThrow(/^workflowId: is 256 characters long/);
  });
});
