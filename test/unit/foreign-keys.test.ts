import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/settings/index.js';
import { Catalogue } from '../../src/catalogue/index.js';
import { parsePurgeParams } from '../../src/purge/params.js';
import { applyJobParams } from '../../src/purge/rules.js';
import { closureOf } from '../../src/purge/foreign-keys.js';
import { deletionOrder } from '../../src/purge/cascade.js';
import { HIDP_KNOWN_FOREIGN_KEYS, staleAccountSteps } from '../../src/purge/presets/hidp.js';
import type { ForeignKeyCatalog } from '../../src/purge/types.js';

function settingsWith(yaml: string) {
  const dir = mkdtempSync(join(tmpdir(), 'fk-config-'));
  const file = join(dir, 'maint.config.yaml');
  writeFileSync(file, yaml);
  return loadSettings({ MAINT_CONFIG: file }, { notificationSecrets: false });
}

const fk = (table: string, column: string, references: string, nullable = false) => ({ name: `${table}_${column}_fk`, table, columns: [column], references, referencedColumns: ['id'], nullable });

/** accounts_user with HIdP's email change request and one app's table HIdP does not know. */
function catalog(extra: ForeignKeyCatalog['foreignKeys'] = []): ForeignKeyCatalog {
  const foreignKeys = [fk('hidp_accounts_emailchangerequest', 'user_id', 'accounts_user'), fk('accounts_user_groups', 'user_id', 'accounts_user'), ...extra];
  const tables = [...new Set(foreignKeys.flatMap((f) => [f.table, f.references]))];
  return { foreignKeys, tables, primaryKeys: Object.fromEntries(tables.map((t) => [t, 'id'])) };
}

describe("the config file's foreignKeys: section", () => {
  it('declares cascade, set-null or protect per table.column, and the HIdP presets get the declarations', () => {
    const s = settingsWith('foreignKeys:\n  shop_order.buyer_id: cascade\n  audit_event.actor_id: set-null\n  invoice.user_id: protect\n');
    const job = s.catalogue.purge('hidp-remove-stale-unverified-accounts');
    expect(job.declaredForeignKeys).toEqual([
      { table: 'shop_order', column: 'buyer_id', onDelete: 'cascade' },
      { table: 'audit_event', column: 'actor_id', onDelete: 'set-null' },
      { table: 'invoice', column: 'user_id', onDelete: 'protect' },
    ]);
    // Other purges do not take them.
    expect(s.catalogue.purge('purge-expired-tokens').declaredForeignKeys).toBeUndefined();
  });

  it.each([
    ['foreignKeys:\n  shop_order.buyer_id: delete\n', /foreignKeys\.shop_order\.buyer_id: .*"delete" is not allowed; allowed: cascade, set-null, protect/],
    ['foreignKeys:\n  shop_order: cascade\n', /foreignKeys\.shop_order: must be a mapping of table\.column/],
    ['foreignKeys:\n  - shop_order.buyer_id\n', /foreignKeys: .*must be a mapping of table\.column .*to cascade, set-null or protect/],
  ])('refuses %j naming the entry', (yaml, message) => {
    expect(() => settingsWith(yaml)).toThrow(message);
  });
});

describe('following foreign keys from the catalog', () => {
  it('refuses a foreign key it does not know, naming table, column and how to declare it', () => {
    expect(() => staleAccountSteps(catalog([fk('shop_order', 'buyer_id', 'accounts_user')]), {}, [])).toThrow(
      /^foreignKeys: foreign key shop_order\.buyer_id \(constraint shop_order_buyer_id_fk, references accounts_user\) is not one the preset knows; nothing was deleted\. To run, declare .*foreignKeys: \{ shop_order\.buyer_id: cascade \| set-null \| protect \}$/,
    );
  });

  it('tells every unknown key at once, and refuses set-null on a NOT NULL column', () => {
    const c = catalog([fk('a_t', 'user_id', 'accounts_user'), fk('b_t', 'user_id', 'accounts_user')]);
    expect(() => staleAccountSteps(c, {}, [])).toThrow(/a_t\.user_id[\s\S]*\n.*b_t\.user_id/);
    expect(() => staleAccountSteps(catalog([fk('a_t', 'user_id', 'accounts_user', false)]), {}, [{ table: 'a_t', column: 'user_id', onDelete: 'set-null' }])).toThrow(/declared set-null but a_t\.user_id is NOT NULL/);
  });

  it('finds the user table from the email change request, or refuses without one', () => {
    expect(staleAccountSteps(catalog(), {}, [])[0]!.table).toBe('accounts_user');
    const none: ForeignKeyCatalog = { foreignKeys: [], tables: ['users'], primaryKeys: { users: 'id' } };
    expect(() => staleAccountSteps(none, {}, [])).toThrow(/^userTable: no foreign key hidp_accounts_emailchangerequest\.user_id .*--user-table/);
    expect(() => staleAccountSteps(none, { userTable: 'people' }, [])).toThrow(/^userTable: table "people" does not exist/);
  });

  it("follows DOT's graph: applications before their tokens, ID tokens before access tokens; refresh and access tokens unlinked, not deleted", () => {
    const root = 'accounts_user';
    const name = (v: string | ((r: string) => string)) => (typeof v === 'string' ? v : v(root));
    const fks = HIDP_KNOWN_FOREIGN_KEYS.map((k) => fk(name(k.table), k.column, name(k.references), true));
    const tables = [...new Set(fks.flatMap((f) => [f.table, f.references]))];
    const { cascade } = closureOf(root, { foreignKeys: fks, tables, primaryKeys: Object.fromEntries(tables.map((t) => [t, 'id'])) }, HIDP_KNOWN_FOREIGN_KEYS, [], 'foreignKeys');
    const order = deletionOrder(root, cascade);
    const before = (a: string, b: string) => expect(order.indexOf(a)).toBeLessThan(order.indexOf(b));
    before('oauth2_provider_application', 'oauth2_provider_accesstoken');
    before('oauth2_provider_idtoken', 'oauth2_provider_accesstoken');
    before('otp_static_staticdevice', 'otp_static_statictoken');
    expect(cascade.edges.filter((e) => e.action === 'set-null').map((e) => `${e.table}.${e.column}`).sort()).toEqual([
      'oauth2_provider_accesstoken.source_refresh_token_id',
      'oauth2_provider_refreshtoken.access_token_id',
    ]);
  });

  it('refuses a cycle of declared cascades', () => {
    const c = catalog([fk('a_t', 'user_id', 'accounts_user'), fk('b_t', 'a_id', 'a_t'), fk('a_t', 'b_id', 'b_t')]);
    const declared = [
      { table: 'a_t', column: 'user_id', onDelete: 'cascade' as const },
      { table: 'b_t', column: 'a_id', onDelete: 'cascade' as const },
      { table: 'a_t', column: 'b_id', onDelete: 'cascade' as const },
    ];
    expect(() => staleAccountSteps(c, {}, declared)).toThrow(/^foreignKeys: cascade of accounts_user: the delete edges into a_t, b_t form a cycle.*declare one of them set-null or protect/);
  });
});

describe('--user-table', () => {
  it('takes a plain identifier only, and only on the stale-account preset', () => {
    expect(() => parsePurgeParams({ userTable: 'accounts_user; DROP TABLE x' })).toThrow(/^userTable: .*is not allowed; expected the user model's table, a plain SQL identifier/);
    const c = new Catalogue();
    expect(() => applyJobParams(c.purge('purge-expired-tokens'), parsePurgeParams({ userTable: 'accounts_user' }))).toThrow(/^userTable: job purge-expired-tokens takes no userTable; jobs that do: hidp-remove-stale-unverified-accounts$/);
    expect(() => applyJobParams(c.purge('hidp-remove-complete-and-stale-email-change-requests'), parsePurgeParams({ userTable: 'accounts_user' }))).toThrow(/^userTable: /);
    expect(applyJobParams(c.purge('hidp-remove-stale-unverified-accounts'), parsePurgeParams({ userTable: 'accounts_user', days: 30 }))[0]!.retentionMs).toBe(30 * 86_400_000);
  });
});
