import { chmod, chown, mkdir } from 'node:fs/promises';

/**
 * The local environment's data dir holds every workflow input (the dev server's SQLite file), the embedded
 * database's password, the KEK and the database itself: only its owner may enter it (0700), whatever the umask
 * or an older version left.
 */
export async function securePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

/**
 * The dev server's SQLite file and its journal files, where they exist, made 0600 (a file an older version
 * created 0644 included). It cannot be created beforehand: the dev server sets up its schema only when the
 * file does not exist.
 */
export async function secureSqliteFile(file: string): Promise<void> {
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) {
    // A journal file comes and goes with each SQLite transaction: one gone since we looked is not an error.
    await chmod(f, 0o600).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
}

/**
 * Root runs the embedded PostgreSQL as the `postgres` system user, which must pass through the private dirs
 * above its data: give that user's group traversal only (0710: no listing, no reading of our files).
 */
export async function letGroupTraverse(dirs: string[], gid: number): Promise<void> {
  for (const dir of dirs) {
    await chown(dir, 0, gid);
    await chmod(dir, 0o710);
  }
}
