import { z } from 'zod';
import { InputError } from '../kernel/errors.js';

/** What operators can be told about. */
export const EVENT_KINDS = [
  'run-failed',
  'schedule-paused',
  'deletions-over-threshold',
  'key-rotated',
  'key-rotation-failed',
  'oidc-provider-failing',
  'report',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const email = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(587),
  /** `tls`: TLS from the first byte (465); `starttls`: upgrade required; `none`: plain (local relays only). */
  tls: z.enum(['tls', 'starttls', 'none']).default('starttls'),
  /** Accept a self-signed certificate (local relays). */
  allowSelfSigned: z.boolean().default(false),
  user: z.string().min(1).optional(),
  /** Name of the environment variable holding the SMTP password: the password never sits in the file. */
  passwordEnv: z.string().regex(ENV_NAME, 'expected an environment variable name').optional(),
  from: z.string().min(3),
  to: z.array(z.string().min(3)).min(1),
  events: z.array(z.enum(EVENT_KINDS)).optional(),
});

const webhook = z
  .strictObject({
    name: z.string().regex(NAME, 'expected 1-100 letters, digits, ".", "_", "-"'),
    /** `json`: our event as JSON; `slack`: `{"text": ...}` for Slack (and Mattermost, Rocket.Chat) incoming webhooks. */
    format: z.enum(['json', 'slack']).default('json'),
    /** Name of the environment variable holding the URL (it usually embeds a secret). */
    urlEnv: z.string().regex(ENV_NAME, 'expected an environment variable name').optional(),
    url: z.string().optional(),
    events: z.array(z.enum(EVENT_KINDS)).optional(),
  })
  .refine((w) => Boolean(w.url) !== Boolean(w.urlEnv), { message: 'give either url or urlEnv, not both and not neither', path: ['urlEnv'] });

const notificationsSchema = z.strictObject({
  email: email.optional(),
  webhooks: z.array(webhook).default([]),
  /** Event kinds sent when a channel does not list its own; all of them by default. */
  events: z.array(z.enum(EVENT_KINDS)).default([...EVENT_KINDS]),
  /** Rows deleted in one run above which `deletions-over-threshold` fires: a default and per-job values. */
  deletionThreshold: z.strictObject({ default: z.number().int().min(1).optional(), jobs: z.record(z.string(), z.number().int().min(1)).default({}) }).default({ jobs: {} }),
  /** How many days an OIDC provider must have been failing before `oidc-provider-failing` fires. */
  oidcFailingDays: z.number().min(0).max(365).default(1),
  /** How often the worker looks for schedules paused by a failure. */
  schedulePollSeconds: z.number().int().min(5).max(86_400).default(60),
  /** Name of this deployment, in subjects: `[auth-maintenance prod] ...`. */
  environment: z.string().max(50).optional(),
});

export type NotificationsFile = z.infer<typeof notificationsSchema>;

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

function fieldOf(path: PropertyKey[]): string {
  return ['notifications', ...path].map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '').replace(/\.\[/g, '[');
}

function parseUrl(value: string, field: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // The value may embed a secret: never echo it.
    throw new InputError(field, 'is not a URL; expected https://host/path (http:// only for localhost)');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname))) {
    throw new InputError(field, `${url.protocol}// is not allowed; expected https:// (http:// only for localhost)`);
  }
  return url.toString();
}

/**
 * The `notifications:` section of the config file, validated (the error names the field), with secrets read from
 * the environment variables it names. No section: no channels, nothing is sent.
 */
export function loadNotifications(config: unknown, env: NodeJS.ProcessEnv, jobs: readonly string[]): NotificationsConfig {
  const raw = (config as { notifications?: unknown } | undefined)?.notifications;
  const parsed = notificationsSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(fieldOf(issue.path), issue.message);
  }
  const n = parsed.data;
  for (const job of Object.keys(n.deletionThreshold.jobs)) {
    if (!jobs.includes(job)) throw new InputError(`notifications.deletionThreshold.jobs.${job}`, `unknown job; allowed: ${jobs.join(', ')}`);
  }
  const channels: Channel[] = [];
  if (n.email) {
    const e = n.email;
    let password: string | undefined;
    if (e.passwordEnv) {
      password = env[e.passwordEnv];
      if (!password) throw new InputError('notifications.email.passwordEnv', `the environment variable ${e.passwordEnv} is not set`);
    }
    channels.push({ type: 'email', name: 'email', events: e.events ?? n.events, host: e.host, port: e.port, tls: e.tls, allowSelfSigned: e.allowSelfSigned, user: e.user, password, from: e.from, to: e.to });
  }
  const seen = new Set<string>(['email']);
  n.webhooks.forEach((w, i) => {
    const field = `notifications.webhooks[${i}]`;
    if (seen.has(w.name)) throw new InputError(`${field}.name`, `"${w.name}" is used twice (or is the reserved name "email")`);
    seen.add(w.name);
    let url = w.url;
    if (w.urlEnv) {
      url = env[w.urlEnv];
      if (!url) throw new InputError(`${field}.urlEnv`, `the environment variable ${w.urlEnv} is not set`);
    }
    channels.push({ type: 'webhook', name: w.name, events: w.events ?? n.events, format: w.format, url: parseUrl(url!, w.urlEnv ? `${field}.urlEnv (${w.urlEnv})` : `${field}.url`) });
  });
  return { channels, deletionThreshold: n.deletionThreshold, oidcFailingDays: n.oidcFailingDays, schedulePollSeconds: n.schedulePollSeconds, ...(n.environment ? { environment: n.environment } : {}) };
}

export const NO_NOTIFICATIONS: NotificationsConfig = { channels: [], deletionThreshold: { jobs: {} }, oidcFailingDays: 1, schedulePollSeconds: 60 };
