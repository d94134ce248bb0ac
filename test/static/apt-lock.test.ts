import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { expect, it } from 'vitest';

/*
 * `npm test` installs Debian packages first (Chromium, Django's apps). Another apt-get holding the package
 * manager's locks (unattended upgrades) must make it wait and say so, not fail.
 */
const LOCKS = ['/var/lib/apt/lists/lock', '/var/lib/dpkg/lock-frontend', '/var/lib/dpkg/lock'];
const canRun = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get') && spawnSync('python3', ['--version']).status === 0;

it.skipIf(!canRun)('the pretest install waits for a package-manager lock another process holds, and says so', async () => {
  // What apt-get and dpkg take (fcntl locks), held for a few seconds by another process.
  const holder = spawn('python3', ['-c', `
import fcntl, os, sys, time
fds = [os.open(p, os.O_RDWR | os.O_CREAT, 0o640) for p in sys.argv[1:]]
for fd in fds: fcntl.lockf(fd, fcntl.LOCK_EX)
print('held', flush=True)
time.sleep(6)
`, ...LOCKS], { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(holder.stdout!, 'data');
  const started = Date.now();
  // An installed package: apt-get takes its locks and has nothing to download.
  const install = spawnSync(process.execPath, ['-e', "import('./scripts/apt.mjs').then((m) => m.aptInstall(['apt']))"], { encoding: 'utf8', timeout: 240_000 });
  const waited = Date.now() - started;
  holder.kill();
  expect(install.status, install.stderr).toBe(0);
  expect(install.stderr).toMatch(/waiting for another apt-get to release its lock \(held by process \d+ \(python3\)\)/);
  expect(waited).toBeGreaterThanOrEqual(4_000);
}, 300_000);
