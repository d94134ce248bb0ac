import { appTable, owner, ts } from './columns.js';

// The tables of the cleanup jobs beyond refresh tokens. Plain row shapes: the jobs work on them in SQL.

type Row = Record<string, unknown>;

export const AccountSchema = appTable<Row>('Account', 'account', {
  email: { type: 'string', length: 254, unique: 'account_email_key' },
  isVerified: { type: 'boolean', fieldName: 'is_verified', default: false },
  createdAt: ts('created_at', { defaultRaw: 'now()', index: 'account_created_at_idx' }),
  verifiedAt: ts('verified_at', { nullable: true }),
});

export const AccessTokenSchema = appTable<Row>('AccessToken', 'access_token', {
  token: { type: 'string', length: 255, unique: 'access_token_token_key' },
  user: owner('Account', 'user_id', true),
  createdAt: ts('created_at', { defaultRaw: 'now()' }),
  expiresAt: ts('expires_at', { index: 'access_token_expires_at_idx' }),
  revoked: { type: 'boolean', default: false },
  revokedAt: ts('revoked_at', { nullable: true, index: 'access_token_revoked_at_idx' }),
});

export const VerificationTokenSchema = appTable<Row>('VerificationToken', 'verification_token', {
  user: owner('Account', 'user_id', true),
  tokenType: { type: 'string', length: 50, fieldName: 'token_type' },
  token: { type: 'string', length: 255, unique: 'verification_token_token_key' },
  createdAt: ts('created_at', { defaultRaw: 'now()' }),
  expiresAt: ts('expires_at', { index: 'verification_token_expires_at_idx' }),
  usedAt: ts('used_at', { nullable: true }),
});

export const EmailChangeRequestSchema = appTable<Row>('EmailChangeRequest', 'email_change_request', {
  user: owner('Account', 'user_id', false),
  newEmail: { type: 'string', length: 254, fieldName: 'new_email' },
  token: { type: 'string', length: 255, unique: 'email_change_request_token_key' },
  createdAt: ts('created_at', { defaultRaw: 'now()', index: 'email_change_request_created_at_idx' }),
  completedAt: ts('completed_at', { nullable: true, index: 'email_change_request_completed_at_idx' }),
});

export const PendingRegistrationSchema = appTable<Row>('PendingRegistration', 'pending_registration', {
  email: { type: 'string', length: 254 },
  otpHash: { type: 'string', length: 255, fieldName: 'otp_hash' },
  createdAt: ts('created_at', { defaultRaw: 'now()' }),
  expiresAt: ts('expires_at', { index: 'pending_registration_expires_at_idx' }),
});

export const UserOtpSchema = appTable<Row>('UserOtp', 'user_otp', {
  user: owner('Account', 'user_id', true),
  purpose: { type: 'string', length: 50 },
  codeHash: { type: 'string', length: 255, fieldName: 'code_hash' },
  createdAt: ts('created_at', { defaultRaw: 'now()' }),
  expiresAt: ts('expires_at', { index: 'user_otp_expires_at_idx' }),
});

export const OauthIdTokenSchema = appTable<Row>('OauthIdToken', 'oauth_id_token', {
  jti: { type: 'uuid', unique: 'oauth_id_token_jti_key' },
  user: owner('Account', 'user_id', true),
  createdAt: ts('created_at', { defaultRaw: 'now()' }),
  expiresAt: ts('expires_at', { index: 'oauth_id_token_expires_at_idx' }),
});

export const OauthAccessTokenSchema = appTable<Row>('OauthAccessToken', 'oauth_access_token', {
  token: { type: 'string', length: 255, unique: 'oauth_access_token_token_key' },
  user: owner('Account', 'user_id', true),
  createdAt: ts('created_at', { defaultRaw: 'now()' }),
  expiresAt: ts('expires_at', { index: 'oauth_access_token_expires_at_idx' }),
  idToken: { kind: '1:1', entity: () => 'OauthIdToken', owner: true, fieldName: 'id_token_id', nullable: true, unique: 'oauth_access_token_id_token_id_key', deleteRule: 'no action', updateRule: 'no action' },
  sourceRefreshToken: {
    kind: '1:1',
    entity: () => 'OauthRefreshToken',
    owner: true,
    fieldName: 'source_refresh_token_id',
    nullable: true,
    unique: 'oauth_access_token_source_refresh_token_id_key',
    deleteRule: 'no action',
    updateRule: 'no action',
  },
});

export const OauthRefreshTokenSchema = appTable<Row>('OauthRefreshToken', 'oauth_refresh_token', {
  token: { type: 'string', length: 255 },
  user: owner('Account', 'user_id', true),
  accessToken: { kind: '1:1', entity: () => 'OauthAccessToken', owner: true, fieldName: 'access_token_id', nullable: true, unique: 'oauth_refresh_token_access_token_id_key', deleteRule: 'no action', updateRule: 'no action' },
  createdAt: ts('created_at', { defaultRaw: 'now()' }),
  revokedAt: ts('revoked_at', { nullable: true, index: 'oauth_refresh_token_revoked_at_idx' }),
});

export const OauthGrantSchema = appTable<Row>('OauthGrant', 'oauth_grant', {
  code: { type: 'string', length: 255, unique: 'oauth_grant_code_key' },
  user: owner('Account', 'user_id', true),
  createdAt: ts('created_at', { defaultRaw: 'now()' }),
  expiresAt: ts('expires_at', { index: 'oauth_grant_expires_at_idx' }),
});

export const retentionEntities = [
  AccountSchema,
  AccessTokenSchema,
  VerificationTokenSchema,
  EmailChangeRequestSchema,
  PendingRegistrationSchema,
  UserOtpSchema,
  OauthIdTokenSchema,
  OauthAccessTokenSchema,
  OauthRefreshTokenSchema,
  OauthGrantSchema,
];
