import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';
import type { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';

/**
 * A run's history replays against the current code; with RECORD_HISTORIES=1 it joins the fixtures
 * test/replay.test.ts replays on every run (docs/versioning.md), recorded as an operator would
 * (`temporal workflow show --output json`).
 */
export async function replays(client: Client, name: string, workflowId: string, runId: string): Promise<void> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, `${name}-${runId}`);
  if (process.env.RECORD_HISTORIES) {
    const json = execFileSync(inject('temporalCliPath'), ['workflow', 'show', '-w', workflowId, '-r', runId, '--address', inject('temporalAddress'), '--output', 'json']);
    await writeFile(join(import.meta.dirname, '..', 'fixtures', 'histories', `${name}-${runId}.json`), json);
  }
}
