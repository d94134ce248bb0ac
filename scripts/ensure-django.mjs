#!/usr/bin/env node
// Runs before `npm test`: the Django conformance test runs Django's own flushexpiredtokens and cleartokens,
// from Debian's packages (Django 3.2, djangorestframework-simplejwt 5.2.2, django-oauth-toolkit 1.7) for
// Debian's python3. Installs them with apt-get when missing and this user may; otherwise says why the test
// will be skipped. Never fails the run: the test itself reports the skip and its reason.
import { execFileSync } from 'node:child_process';
import { aptInstall, canInstall } from './apt.mjs';

const PYTHON = process.env.MAINT_DJANGO_PYTHON || '/usr/bin/python3';
const PACKAGES = ['python3-django', 'python3-djangorestframework-simplejwt', 'python3-django-oauth-toolkit', 'python3-psycopg2'];

function importable() {
  try {
    execFileSync(PYTHON, ['-c', 'import django, rest_framework_simplejwt, oauth2_provider, psycopg2'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

if (process.env.MAINT_SKIP_DJANGO === '1' || importable()) process.exit(0);

if (!canInstall()) {
  console.error(`The Django conformance test will be skipped: ${PYTHON} cannot import the Django apps and this user cannot ` +
    `install them. Install them (Debian: sudo apt-get install -y ${PACKAGES.join(' ')}), or set MAINT_SKIP_DJANGO=1 to silence this.`);
  process.exit(0);
}
console.error(`Installing ${PACKAGES.join(', ')} for the Django conformance test (once; about a minute)...`);
try {
  aptInstall(PACKAGES);
} catch (err) {
  console.error(`${err.message}; the Django conformance test will be skipped and say so.`);
}
