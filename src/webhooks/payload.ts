/**
 * The body of a webhook (Standard Webhooks' shape): `{ "type", "timestamp", "data" }`, where
 * `data` is the trace event as the trace API shows it (store/trace-rows.ts reads the row the
 * outbox copied), with its trace id; a test event's or a health warning's data is what was written.
 */
import { fromTraceRow, type TraceRow } from '../store/trace-rows.js';
import type { WebhookOutboxRecord } from '../store/ports.js';

export interface WebhookPayload {
  type: string;
  /** ISO 8601: when the event happened. */
  timestamp: string;
  data: Record<string, unknown>;
}

export function webhookPayload(row: Pick<WebhookOutboxRecord, 'eventType' | 'event' | 'createdAt' | 'traceId'>): WebhookPayload {
  const parsed = JSON.parse(row.event) as Record<string, unknown>;
  // A trace event's row, or what was written as the data itself (a test event, a health warning).
  const data = row.traceId === null ? parsed : (fromTraceRow(parsed as unknown as TraceRow) as unknown as Record<string, unknown>);
  return { type: row.eventType, timestamp: new Date(row.createdAt).toISOString(), data };
}

/** The `webhook-id`: the same for every attempt and replay of one outbox row. */
export function webhookMessageId(outboxId: number): string {
  return `msg_${outboxId}`;
}
