import { type Orm, dbFromOrm } from '../orm/index.js';
import type { Logger } from '../logger.js';
import type { Channel, NotificationsConfig } from './channels.js';
import type { NotificationEvent } from './events.js';
import { createSender, DeliveryError, redactSecrets, type OutboxMessage, type Sender } from './send.js';

export interface DeliveryHooks {
  /** Test hook: called after a message was sent and before it is marked sent (where a crash would resend it). */
  afterSend?: (info: { eventId: string; channel: string }) => void | Promise<void>;
}

export interface Notifier {
  readonly config: NotificationsConfig;
  /** Records events for every channel that wants them; an event recorded before is left as it is. */
  enqueue(events: NotificationEvent[]): Promise<number>;
  /** Sends unsent messages (of these events, or all), each marked sent once delivered. */
  deliver(eventIds?: string[]): Promise<DeliveryReport>;
  /** Closes the connections it holds (SMTP); a process calls it when it stops. */
  close(): void;
}

export interface DeliveryReport {
  sent: number;
  failed: Array<{ eventId: string; channel: string; error: string }>;
}

interface Row {
  event_id: string;
  channel: string;
  kind: string;
  job: string | null;
  run_id: string | null;
  subject: string;
  payload: { text: string; html?: string; data: Record<string, unknown> };
}

/**
 * The notification outbox. An event is recorded once per channel under its stable id; delivery claims a row with
 * FOR UPDATE SKIP LOCKED (so two deliverers never send it at the same time), sends it with the event id as the
 * Message-ID / Idempotency-Key, and marks it sent in that transaction. A crash between the send and the commit
 * leaves it unsent: it goes again with the same id, which receivers use to drop the duplicate.
 */
export function createNotifier(deps: { orm: Orm; logger: Logger; config: NotificationsConfig; send?: Sender; hooks?: DeliveryHooks }): Notifier {
  const { orm, config } = deps;
  const log = deps.logger.child({ component: 'notifications' });
  const sender = deps.send ?? createSender();
  const db = dbFromOrm(orm);
  const channels = new Map<string, Channel>(config.channels.map((c) => [c.name, c]));
  const subjectPrefix = `[auth-maintenance${config.environment ? ` ${config.environment}` : ''}]`;

  return {
    config,

    async enqueue(events) {
      let recorded = 0;
      for (const e of events) {
        for (const c of config.channels.filter((ch) => ch.events.includes(e.kind))) {
          const rows = await db.query(
            `INSERT INTO notification_outbox (event_id, channel, kind, job, run_id, subject, payload) VALUES (?, ?, ?, ?, ?, ?, ?::jsonb)
             ON CONFLICT (event_id, channel) DO NOTHING RETURNING 1`,
            [e.id, c.name, e.kind, e.job, e.runId, e.subject, JSON.stringify({ text: e.text, ...(e.html ? { html: e.html } : {}), data: e.data })],
          );
          recorded += rows.length;
        }
      }
      return recorded;
    },

    async deliver(eventIds) {
      const report: DeliveryReport = { sent: 0, failed: [] };
      if (eventIds && !eventIds.length) return report;
      const pending = await db.query<{ event_id: string; channel: string }>(
        `SELECT event_id, channel FROM notification_outbox WHERE sent_at IS NULL ${eventIds ? `AND event_id IN (${eventIds.map(() => '?').join(', ')})` : ''} ORDER BY created_at LIMIT 500`,
        eventIds ?? [],
      );
      for (const p of pending) {
        const channel = channels.get(p.channel);
        // A channel removed from the configuration keeps its rows unsent; they go if it comes back.
        if (!channel) continue;
        try {
          await db.transaction(async (tx) => {
            const [row] = await tx.query<Row>(
              `SELECT event_id, channel, kind, job, run_id, subject, payload FROM notification_outbox
                WHERE event_id = ? AND channel = ? AND sent_at IS NULL FOR UPDATE SKIP LOCKED`,
              [p.event_id, p.channel],
            );
            if (!row) return; // sent meanwhile, or being sent by another deliverer
            const message: OutboxMessage = { eventId: row.event_id, kind: row.kind, job: row.job, runId: row.run_id, subject: row.subject, ...row.payload };
            await sender.send(channel, message, { subjectPrefix });
            await deps.hooks?.afterSend?.({ eventId: row.event_id, channel: row.channel });
            await tx.query(`UPDATE notification_outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE event_id = ? AND channel = ?`, [row.event_id, row.channel]);
            report.sent += 1;
            log.info({ eventId: row.event_id, kind: row.kind, channel: row.channel }, 'notification sent');
          });
        } catch (err) {
          const error = err instanceof DeliveryError ? err.message : redactSecrets(`${p.channel}: ${(err as Error)?.message ?? String(err)}`, config.channels);
          report.failed.push({ eventId: p.event_id, channel: p.channel, error });
          await db
            .query(`UPDATE notification_outbox SET attempts = attempts + 1, last_error = ? WHERE event_id = ? AND channel = ?`, [error, p.event_id, p.channel])
            .catch(() => undefined);
          log.warn({ eventId: p.event_id, channel: p.channel, error }, 'notification not delivered; it will be retried');
        }
      }
      return report;
    },

    close() {
      sender.close();
    },
  };
}
