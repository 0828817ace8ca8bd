/**
 * Standard Webhooks signing (standardwebhooks.com): the secret is `whsec_` + base64 of its key;
 * `webhook-signature` is a space-separated list of `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`,
 * one per secret in use (two during a rotation's grace period), so a receiver that knows either
 * secret accepts the message.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { RelaygateError } from '../core/errors.js';

const PREFIX = 'whsec_';
/** 24 random bytes: within Standard Webhooks' 24-64. */
export const SECRET_BYTES = 24;

export function newSecret(random: (size: number) => Uint8Array): string {
  return PREFIX + Buffer.from(random(SECRET_BYTES)).toString('base64');
}

function key(secret: string): Buffer {
  if (!secret.startsWith(PREFIX)) throw new RelaygateError('invalid', 'a webhook secret starts with whsec_', { details: { field: 'secret' } });
  return Buffer.from(secret.slice(PREFIX.length), 'base64');
}

/** `v1,<signature>` of one message under one secret; `timestamp` in seconds. */
export function sign(secret: string, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', key(secret)).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

export interface WebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** The headers of one message, signed with every secret given. */
export function signedHeaders(secrets: readonly string[], id: string, timestamp: number, body: string): WebhookHeaders {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((s) => sign(s, id, timestamp, body)).join(' '),
  };
}

/**
 * What a receiver does (docs/webhooks.md has the same in a few lines): true when one of the
 * signatures is the message's under `secret`. The receiver also checks the timestamp is recent.
 */
export function verifySignature(secret: string, headers: { id: string; timestamp: string; signature: string }, body: string): boolean {
  const expected = Buffer.from(sign(secret, headers.id, Number(headers.timestamp), body));
  return headers.signature.split(' ').some((s) => {
    const given = Buffer.from(s);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
