import * as z from 'zod/mini';
import { int, LABEL, LABEL_EXPECTED } from '../kernel/validate.js';

/** What operators can be told about. */
export const EVENT_KINDS = [
  'run-failed',
  'run-partial',
  'schedule-paused',
  'deletions-over-threshold',
  'key-rotated',
  'key-rotation-failed',
  'oidc-provider-failing',
  'report',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const envName = z.string().check(z.regex(ENV_NAME, { error: '{value} is not allowed; expected an environment variable name' }));
const events = z.array(z.enum(EVENT_KINDS));
const atLeast = (n: number) => z.string().check(z.minLength(n));

const email = z.strictObject({
  host: atLeast(1),
  port: z._default(int({ min: 1, max: 65535 }), 587),
  /** `tls`: TLS from the first byte (465); `starttls`: upgrade required; `none`: plain (local relays only). */
  tls: z._default(z.enum(['tls', 'starttls', 'none']), 'starttls'),
  /** Accept a self-signed certificate (local relays). */
  allowSelfSigned: z._default(z.boolean(), false),
  user: z.optional(atLeast(1)),
  /** Name of the environment variable holding the SMTP password: the password never sits in the file. */
  passwordEnv: z.optional(envName),
  from: atLeast(3),
  to: z.array(atLeast(3)).check(z.minLength(1)),
  events: z.optional(events),
});

const webhook = z
  .strictObject({
    name: z.string().check(z.regex(LABEL, { error: `{value} is not allowed; expected ${LABEL_EXPECTED}` })),
    /** `json`: our event as JSON; `slack`: `{"text": ...}` for Slack (and Mattermost, Rocket.Chat) incoming webhooks. */
    format: z._default(z.enum(['json', 'slack']), 'json'),
    /** Name of the environment variable holding the URL (it usually embeds a secret). */
    urlEnv: z.optional(envName),
    url: z.optional(z.string()),
    events: z.optional(events),
  })
  .check(z.refine((w) => Boolean(w.url) !== Boolean(w.urlEnv), { error: 'give either url or urlEnv, not both and not neither', path: ['urlEnv'] }));

/** The config file's `notifications:` section. */
export const NOTIFICATIONS_SECTION = z.strictObject({
  email: z.optional(email),
  webhooks: z._default(z.array(webhook), []),
  /** Event kinds sent when a channel does not list its own; all of them by default. */
  events: z._default(events, [...EVENT_KINDS]),
  /** Rows deleted in one run above which `deletions-over-threshold` fires: a default and per-job values. */
  deletionThreshold: z._default(z.strictObject({ default: z.optional(int({ min: 1, max: Number.MAX_SAFE_INTEGER }, 'a positive integer')), jobs: z._default(z.record(z.string(), int({ min: 1, max: Number.MAX_SAFE_INTEGER }, 'a positive integer')), {}) }), { jobs: {} }),
  /** How many days an OIDC provider must have been failing before `oidc-provider-failing` fires. */
  oidcFailingDays: z._default(z.number().check(z.gte(0), z.lte(365)), 1),
  /** How often the worker looks for schedules paused by a failure. */
  schedulePollSeconds: z._default(int({ min: 5, max: 86_400 }), 60),
  /** Name of this deployment, in subjects: `[auth-maintenance prod] ...`. */
  environment: z.optional(z.string().check(z.maxLength(50))),
});
export type NotificationsSection = z.output<typeof NOTIFICATIONS_SECTION>;

/** A channel with its secret resolved: built in the worker, never sent to a workflow. */
export type Channel =
  | { type: 'email'; name: 'email'; events: EventKind[]; host: string; port: number; tls: 'tls' | 'starttls' | 'none'; allowSelfSigned: boolean; user?: string; password?: string; from: string; to: string[] }
  | { type: 'webhook'; name: string; events: EventKind[]; format: 'json' | 'slack'; url: string };

export interface NotificationsConfig {
  channels: Channel[];
  deletionThreshold: { default?: number; jobs: Record<string, number> };
  oidcFailingDays: number;
  schedulePollSeconds: number;
  environment?: string;
}
