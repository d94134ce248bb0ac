import type { Command } from 'commander';
import type { Client, ScheduleDescription, ScheduleHandle } from '@temporalio/client';
import { InputError } from '../../kernel/errors.js';
import { OVERLAP_POLICIES, type OverlapPolicy } from '../../catalogue/schedules.js';
import { parseTaskQueueFlag, parseTimeFlag, resolveTemporal, type ConnectionFlags, type SettingsSource } from '../context.js';
import { table } from '../../kernel/text.js';

function parseOverlap(value: string): OverlapPolicy {
  const v = value.toUpperCase();
  if (!(OVERLAP_POLICIES as readonly string[]).includes(v)) throw new InputError('--overlap', `"${value}" is not one of ${OVERLAP_POLICIES.join(', ')}`);
  return v as OverlapPolicy;
}

function parseTime(flag: string) {
  return parseTimeFlag(flag);
}

function withConnection(cmd: Command): Command {
  return cmd.option('--address <host:port>', 'Temporal frontend address').option('--namespace <ns>', 'Temporal namespace').option('--json', 'print JSON');
}

async function withClient<T>(settings: SettingsSource, flags: ConnectionFlags, fn: (client: Client, taskQueue: string) => Promise<T>): Promise<T> {
  const target = await resolveTemporal(await settings(), flags);
  const { connectClient } = await import('../../temporal/connect.js');
  const client = await connectClient(target);
  try {
    return await fn(client, target.taskQueue);
  } finally {
    await client.connection.close();
  }
}

/** A handle on an existing schedule, or an error that says which ones exist. */
async function existing(client: Client, id: string): Promise<ScheduleHandle> {
  const handle = client.schedule.getHandle(id);
  try {
    await handle.describe();
    return handle;
  } catch (err) {
    const { ScheduleNotFoundError } = await import('@temporalio/client');
    if (!(err instanceof ScheduleNotFoundError)) throw err;
    const known: string[] = [];
    for await (const s of client.schedule.list()) known.push(s.scheduleId);
    throw new InputError('schedule', `"${id}" does not exist; known: ${known.sort().join(', ') || '(none)'}`);
  }
}

/** The action that started last (a backfill's actions carry old scheduled times, so order by when they were taken). */
function newestAction(d: ScheduleDescription) {
  return [...d.info.recentActions].sort((a, b) => a.takenAt.getTime() - b.takenAt.getTime()).at(-1);
}

/** Cron, interval and jitter as declared (sync records them with the action); the server keeps only calendars. */
function declaredSpec(d: ScheduleDescription): { cron: string[]; every: string | null; jitter: string | null } {
  const memo = d.action.type === 'startWorkflow' ? (d.action.memo?.scheduleDeclared as { cron?: string[]; every?: string | null; jitter?: string | null } | undefined) : undefined;
  const jitterMs = typeof d.spec.jitter === 'number' ? d.spec.jitter : undefined;
  return {
    cron: memo?.cron ?? [],
    every: memo?.every ?? (d.spec.intervals?.[0] ? `${Math.round(Number(d.spec.intervals[0].every) / 1000)}s` : null),
    jitter: memo?.jitter ?? (jitterMs ? `${Math.round(jitterMs / 1000)}s` : null),
  };
}

function print(json: boolean | undefined, value: unknown, text: string): void {
  process.stdout.write((json ? JSON.stringify(value) : text) + '\n');
}

type Flags = ConnectionFlags & { json?: boolean };

export function registerSchedules(program: Command, settings: SettingsSource): void {
  const schedules = program.command('schedules').description('Temporal Schedules: sync the declarations, inspect and operate them');

  withConnection(schedules.command('sync').description('make the server match temporal-schedules/ (and the config file)'))
    .option('--dry-run', 'print the plan; change nothing')
    .option('--reset-pauses', "unpause schedules an operator paused (default: keep the pause and its note)")
    .option('--task-queue <name>', 'task queue the scheduled runs go to', parseTaskQueueFlag)
    .option('--take-over', 'move managed schedules whose runs go to another task queue to this one (default: leave them; also MAINT_SCHEDULES_TAKE_OVER)')
    .action(async (flags: Flags & { dryRun?: boolean; resetPauses?: boolean; takeOver?: boolean }) => {
      const { describePlan, syncSchedules } = await import('../../../temporal-schedules/sync.js');
      const { schedules: declarations, disabledSchedules, catalogue, config } = await settings();
      await withClient(settings, flags, async (client, taskQueue) => {
        const plan = await syncSchedules(client, declarations, { taskQueue, catalogue, dryRun: flags.dryRun, resetPauses: flags.resetPauses, disabled: disabledSchedules, takeOver: flags.takeOver || config.schedulesTakeOver });
        print(flags.json, plan, (flags.dryRun ? 'plan (nothing changed):\n' : '') + describePlan(plan).join('\n'));
      });
    });

  withConnection(schedules.command('list').description('all schedules on the server, ours marked'))
    .action(async (flags: Flags) =>
      withClient(settings, flags, async (client) => {
        const { MANAGED_BY } = await import('../../temporal/labels.js');
        const rows = [];
        for await (const s of client.schedule.list()) {
          const d = await client.schedule.getHandle(s.scheduleId).describe();
          const last = newestAction(d);
          rows.push({
            id: s.scheduleId,
            managed: s.memo?.managedBy === MANAGED_BY,
            workflowType: d.action.workflowType,
            paused: d.state.paused,
            note: d.state.note ?? '',
            nextRun: d.info.nextActionTimes[0]?.toISOString() ?? null,
            // When the newest run started: a backfill's runs carry old scheduled times.
            lastRun: last ? last.takenAt.toISOString() : null,
          });
        }
        rows.sort((a, b) => a.id.localeCompare(b.id));
        print(flags.json, rows, table(['schedule', 'ours', 'workflow', 'paused', 'next run', 'last run', 'note'], rows.map((r) => [r.id, r.managed ? 'yes' : '', r.workflowType, r.paused ? 'PAUSED' : '', r.nextRun, r.lastRun, r.note])));
      }),
    );

  withConnection(schedules.command('describe').description('spec, policies, next runs and recent actions with their outcome').argument('<id>'))
    .action(async (id: string, flags: Flags) =>
      withClient(settings, flags, async (client) => {
        const d = await (await existing(client, id)).describe();
        const recent = [];
        for (const a of d.info.recentActions) {
          const wf = a.action.type === 'startWorkflow' ? a.action.workflow : undefined;
          let status = 'unknown';
          if (wf) status = (await client.workflow.getHandle(wf.workflowId, wf.firstExecutionRunId).describe().catch(() => undefined))?.status.name ?? 'unknown';
          recent.push({ scheduledAt: a.scheduledAt.toISOString(), takenAt: a.takenAt.toISOString(), workflowId: wf?.workflowId, status });
        }
        const declared = declaredSpec(d);
        const out = {
          id,
          owner: d.action.type === 'startWorkflow' ? { namespace: client.options.namespace, taskQueue: d.action.taskQueue } : null,
          cron: declared.cron,
          every: declared.every,
          jitter: declared.jitter,
          workflowType: d.action.workflowType,
          args: d.action.args,
          calendars: d.spec.calendars,
          intervals: d.spec.intervals,
          timezone: d.spec.timezone,
          overlap: d.policies.overlap,
          catchupWindowMs: d.policies.catchupWindow,
          pauseOnFailure: d.policies.pauseOnFailure,
          paused: d.state.paused,
          note: d.state.note,
          actionsTaken: d.info.numActionsTaken,
          nextRuns: d.info.nextActionTimes.slice(0, 5).map((t) => t.toISOString()),
          recentActions: recent,
        };
        const text = [
          `schedule        ${id}`,
          `workflow        ${out.workflowType} ${JSON.stringify(out.args)}`,
          `runs on         ${out.owner ? `task queue ${out.owner.taskQueue}, namespace ${out.owner.namespace}` : '-'}`,
          `when            ${out.cron.length ? `cron ${out.cron.join(' | ')}` : out.every ? `every ${out.every}` : 'calendar spec: see --json'}   jitter ${out.jitter ?? 'none'}`,
          `time zone       ${out.timezone ?? 'UTC'}`,
          `overlap         ${out.overlap}   catch-up window ${Math.round(out.catchupWindowMs / 60_000)} min   pause on failure ${out.pauseOnFailure}`,
          `state           ${out.paused ? 'PAUSED' : 'active'}${out.note ? ` — ${out.note}` : ''}`,
          `actions taken   ${out.actionsTaken}`,
          `next runs       ${out.nextRuns.join('\n                ') || '-'}`,
          'recent actions',
          recent.length ? table(['scheduled', 'started', 'workflow', 'outcome'], recent.map((r) => [r.scheduledAt, r.takenAt, r.workflowId, r.status])) : '  (none)',
        ].join('\n');
        print(flags.json, out, text);
      }),
    );

  withConnection(schedules.command('pause').description('pause a schedule, with a note saying why').argument('<id>'))
    .requiredOption('--note <text>', 'why it is paused (shown in the Web UI and kept by sync)')
    .action(async (id: string, flags: Flags & { note: string }) =>
      withClient(settings, flags, async (client) => {
        await (await existing(client, id)).pause(flags.note);
        print(flags.json, { id, paused: true, note: flags.note }, `paused ${id}: ${flags.note}`);
      }),
    );

  withConnection(schedules.command('unpause').description('resume a paused schedule').argument('<id>'))
    .option('--note <text>', 'note to leave (default: the note the schedule is declared with)')
    .action(async (id: string, flags: Flags & { note?: string }) =>
      withClient(settings, flags, async (client) => {
        // A pause replaces the note; unpausing puts the declared one back rather than leaving the pause's words for good.
        // (An empty note would not unpause at all: the server reads it as "no unpause".)
        const declared = (await settings()).schedules.find((d) => d.id === id)?.note;
        await (await existing(client, id)).unpause(flags.note || declared || 'unpaused with maint schedules unpause');
        print(flags.json, { id, paused: false }, `unpaused ${id}`);
      }),
    );

  withConnection(schedules.command('trigger').description("run a schedule's action now, under its overlap policy").argument('<id>'))
    .option('--overlap <policy>', `override: ${OVERLAP_POLICIES.join(', ')}`, parseOverlap)
    .action(async (id: string, flags: Flags & { overlap?: OverlapPolicy }) =>
      withClient(settings, flags, async (client) => {
        const handle = await existing(client, id);
        // The SDK would default to ALLOW_ALL; a trigger must respect the schedule's own policy.
        const overlap = flags.overlap ?? (await handle.describe()).policies.overlap;
        await handle.trigger(overlap);
        print(flags.json, { id, triggered: true, overlap }, `triggered ${id} (overlap ${overlap})`);
      }),
    );

  withConnection(schedules.command('backfill').description('run the actions a schedule would have taken in a past window').argument('<id>'))
    .requiredOption('--from <time>', 'start of the window (ISO 8601)', parseTime('--from'))
    .requiredOption('--to <time>', 'end of the window (ISO 8601)', parseTime('--to'))
    .option('--overlap <policy>', `override: ${OVERLAP_POLICIES.join(', ')}`, parseOverlap)
    .action(async (id: string, flags: Flags & { from: Date; to: Date; overlap?: OverlapPolicy }) => {
      if (flags.from >= flags.to) throw new InputError('--from', `${flags.from.toISOString()} must be before --to ${flags.to.toISOString()}`);
      if (flags.to.getTime() > Date.now() + 60_000) throw new InputError('--to', 'a backfill window must lie in the past');
      await withClient(settings, flags, async (client) => {
        const handle = await existing(client, id);
        const overlap = flags.overlap ?? (await handle.describe()).policies.overlap;
        await handle.backfill({ start: flags.from, end: flags.to, overlap });
        print(flags.json, { id, from: flags.from, to: flags.to, overlap }, `backfilled ${id} from ${flags.from.toISOString()} to ${flags.to.toISOString()} (overlap ${overlap})`);
      });
    });
}
