#!/usr/bin/env node
// `npm run build`: compiles the service to dist/ and bundles the workflow code once, so the worker loads a
// prebuilt bundle instead of running webpack at every start.
import { spawnSync } from 'node:child_process';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const started = Date.now();

await mkdir(dist, { recursive: true });
// The stamp goes first, so a build that fails half way leaves dist/ stale rather than looking current.
await rm(join(dist, '.build-stamp'), { force: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: ['ignore', 2, 2] });
if (compiled.status !== 0) {
  process.stderr.write(`build: tsc failed (exit ${compiled.status})\n`);
  process.exit(1);
}

// Bundled as the tests bundle it (src/temporal/workflow-bundle.ts), from the code just compiled.
const { bundleWorkflows } = await import(join(dist, 'src', 'temporal', 'workflow-bundle.js'));
const { code } = await bundleWorkflows(join(dist, 'workflows', 'index.js'));
// Written aside and renamed, so a worker starting meanwhile never reads half a bundle.
const bundle = join(dist, 'workflow-bundle.js');
await writeFile(`${bundle}.tmp`, code);
await rename(`${bundle}.tmp`, bundle);
await writeFile(join(dist, '.build-stamp'), new Date().toISOString() + '\n');
process.stderr.write(`build: dist/ and dist/workflow-bundle.js in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
