import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Debian's interpreter: the apt packages install the Django apps for it, not for any other python on PATH. */
export const PYTHON = process.env.MAINT_DJANGO_PYTHON || '/usr/bin/python3';
export const DJANGO_PROJECT = join(import.meta.dirname, '..', 'django');

/** The versions the conformance test is about (Debian 12's packages). */
export const EXPECTED = { django: '3.2', simplejwt: '5.2.2', dot: '1.7' };

/**
 * Why the conformance test cannot run here, or undefined when it can: the real Django apps must be importable
 * (`npm test` installs them with apt-get when missing and run as root: scripts/ensure-django.mjs).
 */
export async function djangoUnavailable(): Promise<string | undefined> {
  if (process.env.MAINT_SKIP_DJANGO === '1') return 'MAINT_SKIP_DJANGO=1';
  const probe = `
import django, oauth2_provider, psycopg2, rest_framework_simplejwt
from importlib.metadata import version
print(django.get_version(), version("djangorestframework-simplejwt"), version("django-oauth-toolkit"))`;
  try {
    const { stdout } = await run(PYTHON, ['-c', probe]);
    const [django, simplejwt, dot] = stdout.trim().split(/\s+/);
    if (!django?.startsWith(EXPECTED.django) || simplejwt !== EXPECTED.simplejwt || !dot?.startsWith(EXPECTED.dot)) {
      return `found Django ${django}, simplejwt ${simplejwt}, django-oauth-toolkit ${dot}; the test is written against ${EXPECTED.django}, ${EXPECTED.simplejwt}, ${EXPECTED.dot}`;
    }
    return undefined;
  } catch (err) {
    return `${PYTHON} cannot import Django, simplejwt, django-oauth-toolkit and psycopg2 (${(err as Error).message.split('\n').find((l) => /Error/.test(l)) ?? 'not found'}); ` +
      'install python3-django python3-djangorestframework-simplejwt python3-django-oauth-toolkit python3-psycopg2 (npm test does it when run as root)';
  }
}

/** `manage.py` of the test project against `databaseUrl`. */
export async function manage(databaseUrl: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run(PYTHON, ['manage.py', ...args], { cwd: DJANGO_PROJECT, env: { ...process.env, MAINT_DJANGO_DATABASE_URL: databaseUrl, ...env } });
  return stdout;
}

/** A management command run with Django's clock frozen at `now`. */
export async function frozenCommand(databaseUrl: string, now: Date, command: string, env: Record<string, string> = {}): Promise<void> {
  await run(PYTHON, ['frozen_command.py', now.toISOString().replace('Z', '+00:00'), command], {
    cwd: DJANGO_PROJECT,
    env: { ...process.env, MAINT_DJANGO_DATABASE_URL: databaseUrl, ...env },
  });
}
