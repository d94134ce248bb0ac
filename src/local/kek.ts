import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseKek } from '../keys/policy.js';

/**
 * The local environment's key-encryption key: generated once into the git-ignored data dir (mode 0600), like the
 * embedded database's password. Deployments set MAINT_KEK instead; losing this file makes the stored private
 * keys unreadable (rotate to get a new signing key).
 */
export async function loadOrCreateLocalKek(dataDir: string): Promise<Buffer> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, 'kek');
  if (existsSync(file)) {
    await chmod(file, 0o600);
    return parseKek(await readFile(file, 'utf8'), file);
  }
  const kek = randomBytes(32);
  await writeFile(file, kek.toString('base64') + '\n', { mode: 0o600 });
  await chmod(file, 0o600);
  return kek;
}
