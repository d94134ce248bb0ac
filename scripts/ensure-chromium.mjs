#!/usr/bin/env node
// Runs before `npm test`: the browser test drives Debian's Chromium (playwright-core cannot download one
// here). Installs it with apt-get when missing and this user may; otherwise says what to do.
import { existsSync } from 'node:fs';
import { aptInstall, canInstall } from './apt.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
if (existsSync(CHROMIUM) || process.env.MAINT_SKIP_BROWSER === '1') process.exit(0);

if (!canInstall()) {
  console.error(`Chromium not found at ${CHROMIUM}. Install it (Debian: sudo apt-get install -y chromium), ` +
    'set CHROMIUM_PATH, or set MAINT_SKIP_BROWSER=1 to skip the browser test.');
  process.exit(1);
}
console.error('Installing Debian chromium for the browser test (once; about a minute)...');
try {
  aptInstall(['chromium']);
} catch (err) {
  console.error(`${err.message}. Install Chromium (Debian: apt-get install -y chromium), set CHROMIUM_PATH, or set MAINT_SKIP_BROWSER=1.`);
  process.exit(1);
}
