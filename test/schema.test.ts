import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrate } from '../src/orm/index.js';
import { createTestDatabase, type TestDatabase } from './support/env.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.close();
});

it('the migration creates exactly what the entities describe', async () => {
  const diff = await db.orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false });
  expect(diff.trim()).toBe('');
});

it('migrating again is a no-op', async () => {
  expect(await migrate(db.orm)).toEqual([]);
});

it('has simplejwt semantics: jti unique, expires_at indexed, blacklist rows reference their token', async () => {
  await db.pool.query(`INSERT INTO outstanding_token (jti, token, expires_at) VALUES ('a', 't', now())`);
  await expect(db.pool.query(`INSERT INTO outstanding_token (jti, token, expires_at) VALUES ('a', 't2', now())`)).rejects.toThrow(/outstanding_token_jti_key/);
  await expect(db.pool.query(`INSERT INTO blacklisted_token (token_id) VALUES (999999)`)).rejects.toThrow(/foreign key/);
  const { rows } = await db.pool.query(`SELECT indexdef FROM pg_indexes WHERE tablename = 'outstanding_token'`);
  expect(rows.map((r) => r.indexdef).join('\n')).toMatch(/\(expires_at\)/);
  // Deleting a token that is still blacklisted is refused: the purge must delete children first.
  const { rows: [t] } = await db.pool.query(`SELECT id FROM outstanding_token WHERE jti = 'a'`);
  await db.pool.query('INSERT INTO blacklisted_token (token_id) VALUES ($1)', [t.id]);
  await expect(db.pool.query('DELETE FROM outstanding_token WHERE id = $1', [t.id])).rejects.toThrow(/foreign key/);
});
