import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, inject, it } from 'vitest';
import { freePorts, portInUse } from '../src/local/ports.js';
import { maint, seedLocalEnvironment } from './support/cli.js';

// Longer than a readiness probe's exponential reconnect backoff takes to grow past the seconds a dev server needs
// to start; the first start on a fresh machine builds the CLI for minutes, the same thing only longer.
const BUILD_SECONDS = 90;

const dirs: string[] = [];
let child: ChildProcess | undefined;
afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGINT');
    await once(child, 'exit');
  }
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

it(
  'the first `npm start` on a machine with an empty CLI cache builds the CLI for minutes, then reaches the banner, purges through the CLI and stops on Ctrl-C',
  async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'auth-maintenance-first-start-'));
    await chmod(scratch, 0o755); // the embedded PostgreSQL runs as the postgres user when tests run as root
    dirs.push(scratch);
    const [dataDir, cache, fakeBin] = ['data', 'cache', 'bin'].map((d) => join(scratch, d)) as [string, string, string];
    for (const d of [dataDir, cache, fakeBin]) await mkdir(d);
    // A stand-in `go` whose `go install` takes minutes, then leaves the real CLI in $GOBIN like the real build.
    await writeFile(
      join(fakeBin, 'go'),
      `#!/bin/sh\n[ "$1" = install ] || exit 2\necho "go: downloading go.temporal.io/server v1.29.1" >&2\nsleep ${BUILD_SECONDS}\ncp "${inject('temporalCliPath')}" "$GOBIN/temporal"\n`,
      { mode: 0o755 },
    );
    const [temporalPort, uiPort, pgPort] = (await freePorts(3)).map(String);
    const ports = { TEMPORAL_PORT: temporalPort!, TEMPORAL_UI_PORT: uiPort!, MAINT_PG_PORT: pgPort! };
    child = spawn(process.execPath, ['bin/start.mjs'], {
      // No temporal on PATH, no TEMPORAL_CLI_PATH, an empty cache: what a fresh machine has.
      env: { PATH: `${fakeBin}:/usr/bin:/bin`, HOME: process.env.HOME, XDG_CACHE_HOME: cache, MAINT_DATA_DIR: dataDir, LOG_FORMAT: 'json', ...ports },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const deadline = Date.now() + (BUILD_SECONDS + 150) * 1000;
    while (!out.includes('Temporal Web UI')) {
      if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}:\n${out}`);
      if (Date.now() > deadline) throw new Error(`npm start did not reach the banner:\n${out}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(out).toContain('Building the Temporal CLI v1.5.1 with Go');
    expect(out).toMatch(/"msg":"Temporal CLI built"/);
    expect(out).toContain(`Temporal Web UI   http://127.0.0.1:${ports.TEMPORAL_UI_PORT}`);
    // The readiness check answered as soon as the dev server did, not after a backoff left by the first probe.
    const ready = JSON.parse(out.split('\n').find((l) => l.includes('"msg":"Temporal dev server answers"'))!);
    expect(ready.readyMs).toBeLessThan(30_000);

    await seedLocalEnvironment(dataDir, { expired: 7, total: 10, jtiPrefix: 'f' });
    const r = await maint(['run', 'purge-expired-tokens', '--wait', '--json'], { MAINT_DATA_DIR: dataDir });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'completed', deleted: 7 });

    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    for (const p of Object.values(ports)) expect(await portInUse(Number(p)), `port ${p} released`).toBe(false);
  },
  (BUILD_SECONDS + 300) * 1000,
);
