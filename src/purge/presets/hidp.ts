import { MAX_FRACTION } from '../breakers.js';
import { InputError } from '../../kernel/errors.js';
import { DAY_MS } from '../../kernel/time.js';
import { closureOf, type KnownForeignKey } from '../foreign-keys.js';
import type { Condition, ForeignKeyCatalog, ForeignKeyDeclaration, JobDefinition, PurgeParams, RetentionRule } from '../types.js';

/**
 * HIdP's cleanup commands (django-hidp v2.0.0) on HIdP's own tables:
 * - `remove_stale_unverified_accounts` (packages/hidp/hidp/accounts/email_verification.py,
 *   `remove_stale_unverified_accounts`): `UserModel.objects.email_unverified().filter(date_joined__lt=now -
 *   timedelta(days))`, `email_unverified()` being `email_verified IS NULL` (accounts/models.py, UserQuerySet), then
 *   `.delete()`: Django's collector deletes what references the users, app by app (below). Default 90 days.
 * - `remove_complete_and_stale_email_change_requests` (packages/hidp/hidp/accounts/email_change.py):
 *   `Q(confirmed_by_current_email=True, confirmed_by_proposed_email=True) | Q(created_at__lt=now - timedelta(days))`.
 *   Default 7 days.
 * The user model is the project's AUTH_USER_MODEL (a subclass of HIdP's BaseUser, uuid keys, usually
 * `accounts_user`); its table is the one `hidp_accounts_emailchangerequest.user_id` references, or `--user-table`.
 */

const EMAIL_CHANGE = 'hidp_accounts_emailchangerequest';
const APP = 'oauth2_provider_application';
const T = { access: 'oauth2_provider_accesstoken', refresh: 'oauth2_provider_refreshtoken', idToken: 'oauth2_provider_idtoken', grant: 'oauth2_provider_grant' };
const user = (root: string) => root;

/**
 * What Django's collector does with each row that references a deleted user (every one of these foreign keys is
 * DEFERRABLE INITIALLY DEFERRED with no ON DELETE in the database), read from the sources:
 * - django-hidp v2.0.0: accounts/models.py `EmailChangeRequest.user` and federated/models.py
 *   `OpenIdConnection.user`, on_delete=CASCADE;
 * - Django (3.2.25, django/contrib/auth/models.py, PermissionsMixin): the many-to-many tables `<user>_groups` and
 *   `<user>_user_permissions` lose the user's rows; django/contrib/admin/models.py `LogEntry.user` CASCADE;
 * - django-otp v1.7.0: src/django_otp/models.py `Device.user` CASCADE (static, TOTP, HOTP and email devices),
 *   plugins/otp_static/models.py `StaticToken.device` CASCADE;
 * - django-oauth-toolkit 3.0.1 and 3.4.1, oauth2_provider/models.py: `Application.user`, the `user` and
 *   `application` of Grant, AccessToken, RefreshToken and IDToken, and `AccessToken.id_token`, CASCADE;
 *   `AccessToken.source_refresh_token` and `RefreshToken.access_token` SET_NULL; from 3.2.0 `DeviceGrant.user`
 *   CASCADE. Deleting a user thus deletes every application it owns, with every other user's tokens and grants on it.
 */
export const HIDP_KNOWN_FOREIGN_KEYS: readonly KnownForeignKey[] = [
  { table: EMAIL_CHANGE, column: 'user_id', references: user, action: 'delete' },
  { table: 'hidp_federated_openidconnection', column: 'user_id', references: user, action: 'delete' },
  { table: (root) => `${root}_groups`, column: 'user_id', references: user, action: 'delete' },
  { table: (root) => `${root}_user_permissions`, column: 'user_id', references: user, action: 'delete' },
  { table: 'django_admin_log', column: 'user_id', references: user, action: 'delete' },
  { table: 'otp_static_staticdevice', column: 'user_id', references: user, action: 'delete' },
  { table: 'otp_static_statictoken', column: 'device_id', references: 'otp_static_staticdevice', action: 'delete' },
  { table: 'otp_totp_totpdevice', column: 'user_id', references: user, action: 'delete' },
  { table: 'otp_hotp_hotpdevice', column: 'user_id', references: user, action: 'delete' },
  { table: 'otp_email_emaildevice', column: 'user_id', references: user, action: 'delete' },
  { table: APP, column: 'user_id', references: user, action: 'delete' },
  ...Object.values(T).flatMap((table) => [
    { table, column: 'user_id', references: user, action: 'delete' as const },
    { table, column: 'application_id', references: APP, action: 'delete' as const },
  ]),
  { table: T.access, column: 'id_token_id', references: T.idToken, action: 'delete' },
  { table: T.access, column: 'source_refresh_token_id', references: T.refresh, action: 'set-null' },
  { table: T.refresh, column: 'access_token_id', references: T.access, action: 'set-null' },
  { table: 'oauth2_provider_devicegrant', column: 'user_id', references: user, action: 'delete' },
];

/** The user table: given, or the one HIdP's email change request references. */
function userTableOf(catalog: ForeignKeyCatalog, given: string | undefined): string {
  if (given !== undefined) {
    if (!catalog.tables.includes(given)) throw new InputError('userTable', `table "${given}" does not exist in this database`);
    return given;
  }
  const fk = catalog.foreignKeys.find((f) => f.table === EMAIL_CHANGE && f.columns.length === 1 && f.columns[0] === 'user_id');
  if (!fk) {
    throw new InputError('userTable', `no foreign key ${EMAIL_CHANGE}.user_id in this database to find the user table from (is HIdP installed?); give the AUTH_USER_MODEL's table with --user-table`);
  }
  return fk.references;
}

/**
 * The stale-account step on this database: the user table, its key, the rows Django's collector deletes with a
 * user, and the users a declared `protect` keeps. Refuses (an InputError) any foreign key it does not know.
 */
export function staleAccountSteps(catalog: ForeignKeyCatalog, params: Pick<PurgeParams, 'userTable'>, declared: readonly ForeignKeyDeclaration[]): RetentionRule[] {
  const table = userTableOf(catalog, params.userTable);
  const primaryKey = catalog.primaryKeys[table];
  if (!primaryKey) throw new InputError('userTable', `table "${table}" has no single-column primary key`);
  const { cascade, protect } = closureOf(table, catalog, HIDP_KNOWN_FOREIGN_KEYS, declared, 'foreignKeys');
  const owning = cascade.edges.some((e) => e.table === APP && e.parent === table && e.action === 'delete');
  const dependents = Object.values(T)
    .filter((t) => cascade.edges.some((e) => e.table === t && e.column === 'application_id' && e.parent === APP))
    .map((t) => ({ table: t, column: 'application_id', ownerColumn: 'user_id' }));
  const where: Condition[] = [{ column: 'email_verified', op: 'is_null' }, ...protect.map((p) => ({ op: 'not_referenced' as const, table: p.table, foreignKey: p.column }))];
  return [
    {
      name: `${table} (email_verified IS NULL, date_joined before now - days)`,
      table,
      primaryKey,
      timestampColumn: 'date_joined',
      retentionMs: 90 * DAY_MS,
      where,
      children: [],
      cascade: { ...cascade, ...(owning ? { owners: { table: APP, column: 'user_id', label: 'email', dependents } } : {}) },
    },
  ];
}

/**
 * The email change request steps: completed ones (both confirmations, any age: created before the run's reference
 * time, at it too), then those created before now - days whatever their state. Nothing references these rows in
 * HIdP; a foreign key to them that is not declared stops the run.
 */
export function emailChangeSteps(catalog: ForeignKeyCatalog, declared: readonly ForeignKeyDeclaration[]): RetentionRule[] {
  if (!catalog.tables.includes(EMAIL_CHANGE)) throw new InputError('job', `table "${EMAIL_CHANGE}" does not exist in this database (is HIdP installed?)`);
  const { cascade, protect } = closureOf(EMAIL_CHANGE, catalog, [], declared, 'foreignKeys');
  const kept: Condition[] = protect.map((p) => ({ op: 'not_referenced' as const, table: p.table, foreignKey: p.column }));
  const extra = cascade.edges.length ? { cascade } : {};
  return [
    {
      name: `${EMAIL_CHANGE} (confirmed by both addresses)`,
      table: EMAIL_CHANGE,
      primaryKey: 'id',
      timestampColumn: 'created_at',
      cutoffInclusive: true,
      retentionMs: 0,
      where: [{ column: 'confirmed_by_current_email', op: 'is_true' }, { column: 'confirmed_by_proposed_email', op: 'is_true' }, ...kept],
      children: [],
      ...extra,
    },
    {
      name: `${EMAIL_CHANGE} (created before now - days)`,
      table: EMAIL_CHANGE,
      primaryKey: 'id',
      timestampColumn: 'created_at',
      retentionMs: 7 * DAY_MS,
      // Not the completed ones: the step before took them (and a dry run counts each request once).
      where: [{ column: 'confirmed_by_current_email', op: 'not_all_true', also: ['confirmed_by_proposed_email'] }, ...kept],
      children: [],
      ...extra,
    },
  ];
}

/** HIdP's reference schema (shared/reference/hidp: core.sql and extra.sql) as a catalog, for the steps `maint jobs` shows. */
function referenceCatalog(root: string): ForeignKeyCatalog {
  const name = (v: string | ((r: string) => string)) => (typeof v === 'string' ? v : v(root));
  const known = HIDP_KNOWN_FOREIGN_KEYS.filter((k) => !/^otp_(hotp|email)_|devicegrant$/.test(name(k.table)));
  const foreignKeys = known.map((k) => ({ name: 'reference', table: name(k.table), columns: [k.column], references: name(k.references), referencedColumns: ['id'], nullable: true }));
  const tables = [...new Set(foreignKeys.flatMap((f) => [f.table, f.references]))];
  return { foreignKeys, tables, primaryKeys: Object.fromEntries(tables.map((t) => [t, 'id'])) };
}

const MATCHES = 'django-hidp v2.0.0 (read at the tag); the deletion follows Django, django-otp 1.7 and django-oauth-toolkit 3.0.1 to 3.4.1';

export const HIDP_PURGES: readonly JobDefinition[] = [
  {
    name: 'hidp-remove-stale-unverified-accounts',
    description:
      "Preset for HIdP's remove_stale_unverified_accounts: users with email_verified NULL who joined more than --days ago, with everything Django deletes with them (OAuth applications they own included)",
    preset: 'django-hidp accounts',
    matches: MATCHES,
    steps: staleAccountSteps(referenceCatalog('accounts_user'), {}, []),
    stepsFromCatalog: (catalog, params, declared) => staleAccountSteps(catalog, params, declared),
    options: { days: { default: 90, steps: [0], meaning: 'users who joined longer ago than this and never verified their email' } },
    djangoParams: ['userTable'],
    // It deletes users: a run that would take most of them stops before its first batch (--max-fraction).
    maxFraction: MAX_FRACTION.accounts,
  },
  {
    name: 'hidp-remove-complete-and-stale-email-change-requests',
    description: "Preset for HIdP's remove_complete_and_stale_email_change_requests: requests confirmed by both addresses, and any created more than --days ago",
    preset: 'django-hidp accounts',
    matches: MATCHES,
    steps: emailChangeSteps(referenceCatalog('accounts_user'), []),
    stepsFromCatalog: (catalog, _params, declared) => emailChangeSteps(catalog, declared),
    options: { days: { default: 7, steps: [1], meaning: 'requests created longer ago than this, whatever their state' } },
  },
];
