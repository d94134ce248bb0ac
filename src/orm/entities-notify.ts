import { EntitySchema } from '@mikro-orm/core';

/** One notification for one channel, kept until delivered (and after, as the record that it was). */
export interface NotificationOutbox {
  eventId: string;
  channel: string;
  kind: string;
  job?: string | null;
  runId?: string | null;
  subject: string;
  payload: Record<string, unknown>;
  createdAt: Date;
  sentAt?: Date | null;
  attempts: number;
  lastError?: string | null;
}

export const NotificationOutboxSchema = new EntitySchema<NotificationOutbox>({
  name: 'NotificationOutbox',
  tableName: 'notification_outbox',
  indexes: [{ name: 'notification_outbox_unsent_idx', properties: ['sentAt', 'createdAt'] }],
  properties: {
    eventId: { type: 'string', length: 300, primary: true, fieldName: 'event_id' },
    channel: { type: 'string', length: 100, primary: true },
    kind: { type: 'string', length: 50 },
    job: { type: 'string', length: 100, nullable: true },
    runId: { type: 'string', length: 100, nullable: true, fieldName: 'run_id' },
    subject: { type: 'text' },
    payload: { type: 'json', columnType: 'jsonb' },
    createdAt: { type: 'Date', columnType: 'timestamptz', fieldName: 'created_at', defaultRaw: 'now()' },
    sentAt: { type: 'Date', columnType: 'timestamptz', nullable: true, fieldName: 'sent_at' },
    attempts: { type: 'integer', default: 0 },
    lastError: { type: 'text', nullable: true, fieldName: 'last_error' },
  },
});

export const notifyEntities = [NotificationOutboxSchema];
