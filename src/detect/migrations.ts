/**
 * Which release first shipped each migration of the apps the presets know, read from each repository's tags
 * (`git ls-tree <tag> <app>/migrations/` for every release tag): a database whose newest applied migration of an
 * app is M runs a release from first(M) up to (not including) the first release of the next migration. Versions
 * before a squash (django-oauth-toolkit's at 1.3.0) are not told.
 */
export interface AppMigrations {
  /** The `app` of django_migrations. */
  app: string;
  /** The package, as its users name it. */
  package: string;
  /** Migration name -> the first release that shipped it, in order. */
  first: Array<[migration: string, release: string]>;
}

export const APP_MIGRATIONS: readonly AppMigrations[] = [
  {
    // django-oauth/django-oauth-toolkit, tags 1.3.0 to 3.4.1 (the history was squashed at 1.3.0).
    app: 'oauth2_provider',
    package: 'django-oauth-toolkit',
    first: [
      ['0002_auto_20190406_1805', '1.3.0'],
      ['0003_auto_20201211_1314', '1.4.0'],
      ['0004_auto_20200902_2022', '1.5.0'],
      ['0005_auto_20211222_2352', '1.6.2'],
      ['0006_alter_application_client_secret', '2.0.0'],
      ['0007_application_post_logout_redirect_uris', '2.3.0'],
      ['0008_alter_accesstoken_token', '2.4.0'],
      ['0009_add_hash_client_secret', '2.4.0'],
      ['0010_application_allowed_origins', '2.4.0'],
      ['0011_refreshtoken_token_family', '3.0.0'],
      ['0012_add_token_checksum', '3.0.0'],
      ['0013_alter_application_authorization_grant_type_device', '3.2.0'],
      ['0014_alter_help_text', '3.3.0'],
      ['0015_refreshtoken_token_checksum', '3.4.0'],
      ['0016_alter_devicegrant_scope', '3.4.0'],
      ['0017_application_dcr_created', '3.4.0'],
      ['0018_resource_indicators', '3.4.0'],
      ['0019_application_registration_source', '3.4.0'],
      ['0020_cimd_application_fields', '3.4.0'],
      ['0021_translatable_field_labels', '3.4.1'],
      ['0022_refreshtoken_token_family_index', '3.4.1'],
    ],
  },
  {
    // jazzband/djangorestframework-simplejwt, tags 2.0 to v5.5.1.
    app: 'token_blacklist',
    package: 'djangorestframework-simplejwt',
    first: [
      ['0001_initial', '2.0'],
      ['0007_auto_20171017_2214', '3.0'],
      ['0008_migrate_to_bigautofield', '4.7.0'],
      ['0010_fix_migrate_to_bigautofield', '4.7.1'],
      ['0011_linearizes_history', '4.7.1'],
      ['0012_alter_outstandingtoken_user', '5.1.0'],
      ['0013_alter_blacklistedtoken_options_and_more', '5.5.1'],
    ],
  },
  {
    // leukeleu/django-hidp, tags v1.0.0 to v2.0.0.
    app: 'hidp_accounts',
    package: 'django-hidp',
    first: [['0001_initial', '1.0.0']],
  },
  {
    app: 'hidp_federated',
    package: 'django-hidp',
    first: [
      ['0001_initial', '1.0.0'],
      ['0002_openidconnection_last_usage', '1.6.0'],
    ],
  },
];

/**
 * What the applied migrations of `app` say of its release: "django-oauth-toolkit 1.6.2 up to before 2.0.0" from
 * the newest applied migration the table knows, or undefined when they do not tell.
 */
export function impliedVersion(app: string, applied: readonly string[]): string | undefined {
  const known = APP_MIGRATIONS.find((a) => a.app === app);
  if (!known) return undefined;
  let newest = -1;
  for (const [i, [name]] of known.first.entries()) if (applied.includes(name)) newest = i;
  if (newest < 0) return undefined;
  const [name, release] = known.first[newest]!;
  const next = known.first.slice(newest + 1).find(([, r]) => r !== release)?.[1];
  return `${known.package} ${release}${next ? ` up to before ${next}` : ' or later'} (newest migration ${name})`;
}
