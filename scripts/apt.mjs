// Debian packages a test needs, installed with apt-get by the scripts `npm test` runs first.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** How long apt-get waits for a package-manager lock another apt-get (say, unattended upgrades) holds. */
export const LOCK_TIMEOUT_SECONDS = 600;

/** apt-get is there and this user may install with it. */
export function canInstall() {
  return process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
}

function aptGet(args) {
  const r = spawnSync('apt-get', ['-o', `DPkg::Lock::Timeout=${LOCK_TIMEOUT_SECONDS}`, ...args], {
    stdio: ['ignore', 'inherit', 'pipe'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    encoding: 'utf8',
  });
  if (r.stderr) process.stderr.write(r.stderr);
  return { ok: r.status === 0, stderr: r.stderr ?? '', status: r.status };
}

/**
 * `apt-get update`, then installs `packages`. Another apt-get holding a lock is waited for (apt-get's own
 * DPkg::Lock::Timeout), and said so, rather than failing the run. Throws when apt-get fails otherwise.
 */
export function aptInstall(packages) {
  console.error(`(if another apt-get or dpkg holds the package manager's lock, this waits for it, up to ${LOCK_TIMEOUT_SECONDS / 60} minutes)`);
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', ...packages]]) {
    const r = waitingForLists(args);
    if (!r.ok) throw new Error(`apt-get ${args[0]} exited ${r.status}: ${r.stderr.trim().split('\n').pop() ?? ''}`);
  }
}

/**
 * DPkg::Lock::Timeout covers dpkg's locks; `apt-get update` (apt 2.6) gives up at once on the lock of its
 * package lists, so that one is retried here until the same timeout.
 */
function waitingForLists(args) {
  const deadline = Date.now() + LOCK_TIMEOUT_SECONDS * 1000;
  for (;;) {
    const r = aptGet(args);
    if (r.ok || !/Could not get lock/.test(r.stderr) || Date.now() > deadline) return r;
    console.error(`waiting for another apt-get to release its lock (${/held by process \d+ \([^)]*\)/.exec(r.stderr)?.[0] ?? 'lock held'})...`);
    spawnSync('sleep', ['5']);
  }
}
