import { InputError, Problems } from '../kernel/errors.js';
import { configIssues, HTTPS_OR_LOOPBACK, httpsOrLoopback } from '../kernel/validate.js';
import { NOTIFICATIONS_SECTION, type Channel, type NotificationsConfig, type NotificationsSection } from '../notify/channels.js';

function webhookUrl(value: string, field: string): string {
  // The value may embed a secret: never echo it.
  if (!URL.canParse(value)) throw new InputError(field, `is not a URL; ${HTTPS_OR_LOOPBACK}`);
  const url = new URL(value);
  if (!httpsOrLoopback(url)) throw new InputError(field, `${url.protocol}// is not allowed; ${HTTPS_OR_LOOPBACK}`);
  return url.toString();
}

/**
 * The `notifications:` section of the config file, checked (every mistake at once, each naming its path), with the
 * secrets read from the environment variables it names. `secrets: false` (a process that delivers nothing, the CLI)
 * leaves out the channels whose secret it would need. No section: no channels, nothing is sent.
 */
export function loadNotifications(config: unknown, env: NodeJS.ProcessEnv, jobs: readonly string[], opts: { secrets?: boolean } = {}): NotificationsConfig {
  const raw = (config as { notifications?: unknown } | undefined)?.notifications;
  const parsed = configIssues(NOTIFICATIONS_SECTION, raw ?? {}, 'notifications');
  const problems = new Problems();
  problems.add(...parsed.issues);
  problems.throwIfAny();
  const n = parsed.value as NotificationsSection;
  for (const job of Object.keys(n.deletionThreshold.jobs)) {
    if (!jobs.includes(job)) problems.add(new InputError(`notifications.deletionThreshold.jobs.${job}`, `unknown job; allowed: ${jobs.join(', ')}`));
  }
  const secret = (name: string, field: string): string | undefined => {
    const value = env[name];
    if (!value && opts.secrets !== false) problems.add(new InputError(field, `the environment variable ${name} is not set`));
    return value || undefined;
  };
  const channels: Channel[] = [];
  if (n.email) {
    const e = n.email;
    const password = e.passwordEnv ? secret(e.passwordEnv, 'notifications.email.passwordEnv') : undefined;
    if (!e.passwordEnv || password) channels.push({ type: 'email', name: 'email', events: e.events ?? n.events, host: e.host, port: e.port, tls: e.tls, allowSelfSigned: e.allowSelfSigned, user: e.user, password, from: e.from, to: e.to });
  }
  const seen = new Set<string>(['email']);
  n.webhooks.forEach((w, i) => {
    const field = `notifications.webhooks[${i}]`;
    if (seen.has(w.name)) problems.add(new InputError(`${field}.name`, `"${w.name}" is used twice (or is the reserved name "email")`));
    seen.add(w.name);
    const url = w.urlEnv ? secret(w.urlEnv, `${field}.urlEnv`) : w.url;
    if (url === undefined) return;
    const checked = problems.take(() => webhookUrl(url, w.urlEnv ? `${field}.urlEnv (${w.urlEnv})` : `${field}.url`), undefined);
    if (checked) channels.push({ type: 'webhook', name: w.name, events: w.events ?? n.events, format: w.format, url: checked });
  });
  problems.throwIfAny();
  return { channels, deletionThreshold: n.deletionThreshold, oidcFailingDays: n.oidcFailingDays, schedulePollSeconds: n.schedulePollSeconds, ...(n.environment ? { environment: n.environment } : {}) };
}
