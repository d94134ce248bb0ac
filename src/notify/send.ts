import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { Channel } from './channels.js';
import type { NotificationEvent } from './events.js';
import { LabelledError } from '../kernel/errors.js';

/** What the outbox holds for one (event, channel): the event itself, enough to send it again identically. */
export type OutboxMessage = Omit<NotificationEvent, 'id' | 'kind'> & { eventId: string; kind: string };

/** The Message-ID of an event's email: derived from the event id, so a resend after a crash is the same message. */
export function messageIdOf(eventId: string): string {
  return `<${createHash('sha256').update(eventId).digest('hex').slice(0, 40)}@auth-maintenance>`;
}

/** Removes every secret of the channels from a text (an error from a library may quote what it was given). */
export function redactSecrets(text: string, channels: readonly Channel[]): string {
  let out = text;
  for (const c of channels) {
    const secrets = c.type === 'email' ? [c.password] : [c.url, c.url.replace(/\/$/, ''), pathOf(c.url)];
    for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('***');
  }
  return out;
}

/** A webhook URL's path and query: where services such as Slack put the secret. */
function pathOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.pathname.length > 1 || u.search ? u.pathname + u.search : undefined;
  } catch {
    return undefined;
  }
}

/** A delivery error whose message is safe to record, log and show: it names the channel, never its URL or password. */
export class DeliveryError extends LabelledError {
  constructor(
    readonly channel: string,
    message: string,
  ) {
    super(channel, message);
    this.name = 'DeliveryError';
  }
}

/** Sends one message on one channel; `close` lets go of what it holds open (SMTP connections). */
export interface Sender {
  send(channel: Channel, m: OutboxMessage, opts: { subjectPrefix: string }): Promise<void>;
  close(): void;
}

type EmailChannel = Extract<Channel, { type: 'email' }>;

function createTransport(c: EmailChannel): nodemailer.Transporter {
  return nodemailer.createTransport({
    host: c.host,
      port: c.port,
      secure: c.tls === 'tls',
      requireTLS: c.tls === 'starttls',
      ignoreTLS: c.tls === 'none',
      ...(c.user ? { auth: { user: c.user, pass: c.password ?? '' } } : {}),
      tls: { rejectUnauthorized: !c.allowSelfSigned },
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
  });
}

async function sendEmail(transport: nodemailer.Transporter, c: EmailChannel, m: OutboxMessage, subjectPrefix: string): Promise<void> {
  await transport.sendMail({
    from: c.from,
    to: c.to,
    subject: `${subjectPrefix} ${m.subject}`,
    text: m.text,
    ...(m.html ? { html: m.html } : {}),
    messageId: messageIdOf(m.eventId),
    headers: { 'X-Maint-Event-Id': m.eventId, 'X-Maint-Event': m.kind },
  });
}

async function postWebhook(c: Extract<Channel, { type: 'webhook' }>, m: OutboxMessage, subjectPrefix: string): Promise<void> {
  const body =
    c.format === 'slack'
      ? { text: `*${subjectPrefix} ${m.subject}*\n\`\`\`\n${m.text.trim()}\n\`\`\`` }
      : { id: m.eventId, kind: m.kind, job: m.job, runId: m.runId, subject: `${subjectPrefix} ${m.subject}`, text: m.text, data: m.data };
  const res = await fetch(c.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': m.eventId, 'x-maint-event': m.kind, 'user-agent': 'auth-maintenance' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
    redirect: 'error',
  });
  await res.arrayBuffer().catch(() => undefined);
  if (!res.ok) throw new DeliveryError(c.name, `the receiver answered HTTP ${res.status}`);
}

/**
 * The sender of one notifier: one SMTP transport per email channel, by the channel's name (no secret in any key),
 * made when first used and closed by `close`; any failure becomes a DeliveryError with the secrets removed.
 */
export function createSender(): Sender {
  const transports = new Map<string, nodemailer.Transporter>();
  const transportOf = (c: EmailChannel) => {
    let t = transports.get(c.name);
    if (!t) transports.set(c.name, (t = createTransport(c)));
    return t;
  };
  return {
    async send(channel, m, { subjectPrefix }) {
      try {
        if (channel.type === 'email') await sendEmail(transportOf(channel), channel, m, subjectPrefix);
        else await postWebhook(channel, m, subjectPrefix);
      } catch (err) {
        if (err instanceof DeliveryError) throw err;
        const e = err as Error & { cause?: Error; code?: string };
        const detail = [e.message, e.cause?.message, e.code].filter(Boolean).join(': ');
        throw new DeliveryError(channel.name, redactSecrets(detail || String(err), [channel]));
      }
    },
    close() {
      for (const t of transports.values()) t.close();
      transports.clear();
    },
  };
}
