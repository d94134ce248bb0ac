import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { asciiOnly } from '../src/temporal/workflow-bundle.js';
import { connectTestClient, createTestDatabase, startTestWorker, uniqueName, type TestDatabase, type TestWorker } from './support/env.js';

/**
 * The workflow bundle the worker loads (built by the tests' setup as `npm run build` builds it): lean in memory,
 * and still mapped to our sources, so a workflow's failure names the TypeScript file and line it came from.
 */

const MAP_PREFIX = '//# sourceMappingURL=data:application/json;charset=utf-8;base64,';
let bundle: string;

beforeAll(async () => {
  bundle = await readFile(inject('workflowBundlePath'), 'utf8');
});

describe('the workflow bundle', () => {
  it('is ASCII only, so V8 keeps it one byte per character', () => {
    expect(bundle.length).toBeGreaterThan(100_000);
    expect(bundle.match(/[^\x00-\x7f]/g) ?? []).toEqual([]);
  });

  it("maps to our sources without carrying the sources' text", () => {
    const at = bundle.lastIndexOf(MAP_PREFIX);
    expect(at).toBeGreaterThan(0);
    const map = JSON.parse(Buffer.from(bundle.slice(at + MAP_PREFIX.length).trim(), 'base64').toString()) as { sources: string[]; sourcesContent?: unknown[]; mappings: string };
    expect(map.sourcesContent ?? []).toEqual([]);
    expect(map.sources.some((s) => /workflows\/purge\/batched-purge\.ts$/.test(s))).toBe(true);
    expect(map.mappings.length).toBeGreaterThan(10_000);
  });

  it('escapes exactly the characters outside ASCII, as JavaScript reads them', () => {
    const source = "const s = `a · b — c ✖ 😀`; // Baagøe";
    const escaped = asciiOnly(source);
    expect(escaped).toMatch(/^[\x00-\x7f]*$/);
    expect(new Function(`${escaped}\nreturn s;`)()).toBe('a · b — c ✖ 😀');
    expect(asciiOnly('plain ascii')).toBe('plain ascii');
  });
});

describe('a workflow failure from the bundle', () => {
  let client: Client;
  let db: TestDatabase;
  let worker: TestWorker;
  beforeAll(async () => {
    client = await connectTestClient();
    db = await createTestDatabase();
    worker = await startTestWorker(db);
  });
  afterAll(async () => {
    await worker?.stop();
    await client?.connection.close();
    await db?.close();
  });

  it('names the TypeScript source it was thrown in', async () => {
    const handle = await client.workflow.start('batchedPurge', { taskQueue: worker.taskQueue, workflowId: uniqueName('bundle-stack'), args: [{ job: 42 }] });
    const err = await handle.result().then(
      () => new Error('the run completed'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const stack = String((err as WorkflowFailedError).cause?.stack);
    expect(stack).toMatch(/workflows\/[\w/-]+\.ts:\d+:\d+/);
  });
});
