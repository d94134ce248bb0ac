import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `maint` exactly as a user would (the package's bin), with a clean environment of our own. */
export function maint(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/maint.mjs', ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, MAINT_DATA_DIR: '/nonexistent-maint-data', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/**
 * Inserts `total` outstanding tokens, the first `expired` of them expired an hour ago, into the database that
 * `npm start` recorded in `dataDir`, as a user seeding the local environment would.
 */
export async function seedLocalEnvironment(dataDir: string, opts: { expired: number; total: number; jtiPrefix: string }): Promise<void> {
  const local = JSON.parse(await readFile(join(dataDir, 'local-env.json'), 'utf8'));
  const client = new pg.Client({ connectionString: local.databaseUrl });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO outstanding_token (jti, token, expires_at)
       SELECT $1 || g, 't', now() + CASE WHEN g <= $2 THEN interval '-1 hour' ELSE interval '1 hour' END FROM generate_series(1, $3::int) g`,
      [opts.jtiPrefix, opts.expired, opts.total],
    );
  } finally {
    await client.end();
  }
}
