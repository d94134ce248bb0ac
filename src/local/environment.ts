import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What `npm start` brought up, for the `maint` CLI run from another terminal. Holds the embedded
 * database's URL (with its generated password), so it is written 0600 inside the git-ignored data dir.
 */
export interface LocalEnvironment {
  databaseUrl: string;
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  uiUrl?: string;
  pid: number;
}

function localEnvFile(dataDir: string): string {
  return join(dataDir, 'local-env.json');
}

export async function writeLocalEnvironment(dataDir: string, env: LocalEnvironment): Promise<void> {
  const file = localEnvFile(dataDir);
  await writeFile(file, JSON.stringify(env, null, 2), { mode: 0o600 });
  await chmod(file, 0o600);
}

export async function readLocalEnvironment(dataDir: string): Promise<LocalEnvironment | undefined> {
  try {
    return JSON.parse(await readFile(localEnvFile(dataDir), 'utf8')) as LocalEnvironment;
  } catch {
    return undefined;
  }
}
