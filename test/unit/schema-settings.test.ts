import { describe, expect, it } from 'vitest';
import { searchPathOption } from '../../src/db/schema.js';
import { maintSchema, nativeTablesWanted } from '../../src/settings/environment.js';

describe('schema settings', () => {
  it('MAINT_SCHEMA: auth_maintenance by default; a plain lower-case name of our own otherwise', () => {
    expect(maintSchema({})).toBe('auth_maintenance');
    expect(maintSchema({ MAINT_SCHEMA: 'maint_2' })).toBe('maint_2');
    expect(() => maintSchema({ MAINT_SCHEMA: 'public' })).toThrow(/MAINT_SCHEMA: "public" is not allowed; choose a schema of this tool's own/);
    expect(() => maintSchema({ MAINT_SCHEMA: 'Maint; drop' })).toThrow(/MAINT_SCHEMA: "Maint; drop" is not allowed; expected lower-case letters/);
    expect(() => maintSchema({ MAINT_SCHEMA: 'pg_temp' })).toThrow(/MAINT_SCHEMA/);
    expect(searchPathOption('maint_2')).toBe('-c search_path=maint_2,public');
  });

  it('MAINT_NATIVE_TABLES: on for the local environment, off when DATABASE_URL names the database, else as said', () => {
    expect(nativeTablesWanted({})).toBe(true);
    expect(nativeTablesWanted({ DATABASE_URL: 'postgres://x@h/db' })).toBe(false);
    expect(nativeTablesWanted({ DATABASE_URL: 'postgres://x@h/db', MAINT_NATIVE_TABLES: 'true' })).toBe(true);
    expect(nativeTablesWanted({ MAINT_NATIVE_TABLES: 'false' })).toBe(false);
    expect(() => nativeTablesWanted({ MAINT_NATIVE_TABLES: 'yes' })).toThrow(/MAINT_NATIVE_TABLES: "yes" is not allowed; expected true or false/);
  });
});
