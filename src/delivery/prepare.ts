/**
 * Turns a queued message into what goes on the wire: the envelope sender (SRS-rewritten when the
 * tenant relays for a sender domain that is not its own) and the content (DKIM-signed with the
 * tenant's key for the From domain), streamed from the spool file.
 */
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { domainOf } from '../core/address.js';
import type { Clock } from '../core/clock.js';
import type { QueuedEnvelope } from '../core/envelope.js';
import { dkimSignatureFor, findSigningKey, type DkimKeySource } from './dkim.js';
import { DeliveryError, LocalFailures } from './outcome.js';
import { Srs } from './srs.js';

export interface SrsPolicy {
  /** Per-tenant switch and rewrite domain (null: `defaultRewriteDomain`). */
  settingFor(tenant: string): { enabled: boolean; rewriteDomain: string | null };
  /** Whether `domain` is an accepted domain of `tenant` (answered by the policy engine). */
  senderDomainAccepted(tenant: string, domain: string): Promise<boolean>;
  secrets: readonly string[];
  defaultRewriteDomain: string;
}

export interface PrepareDeps {
  spoolRoot: string;
  dkimKeys: DkimKeySource;
  srs: SrsPolicy | null;
  clock: Clock;
  log?: (message: string) => void;
}

export interface PreparedMessage {
  from: string;
  /** True when the content carries our DKIM signature. */
  signed: boolean;
  open(): Readable;
}

/** The envelope sender after SRS (the null sender and DSNs are never rewritten). */
export async function envelopeSender(message: QueuedEnvelope, srs: SrsPolicy | null, clock: Clock): Promise<string> {
  if (!srs || message.mailFrom === '' || message.kind === 'dsn' || message.tenant === null) return message.mailFrom;
  const domain = domainOf(message.mailFrom);
  if (domain === null) return message.mailFrom;
  const setting = srs.settingFor(message.tenant);
  if (!setting.enabled) return message.mailFrom;
  if (await srs.senderDomainAccepted(message.tenant, domain)) return message.mailFrom;
  const rewriter = new Srs({ secrets: srs.secrets, rewriteDomain: setting.rewriteDomain ?? srs.defaultRewriteDomain }, clock);
  return rewriter.forward(message.mailFrom);
}

export async function prepareMessage(message: QueuedEnvelope, deps: PrepareDeps): Promise<PreparedMessage> {
  const path = join(deps.spoolRoot, message.spoolPath);
  try {
    await access(path);
  } catch (err) {
    throw new DeliveryError(LocalFailures.spoolUnreadable(err instanceof Error ? err.message : String(err)));
  }
  const from = await envelopeSender(message, deps.srs, deps.clock);
  const fromDomain = message.headerFrom ? domainOf(message.headerFrom) : null;
  const key = message.tenant && fromDomain ? findSigningKey(deps.dkimKeys, message.tenant, fromDomain) : null;
  let header = '';
  if (key) {
    const signed = await dkimSignatureFor(createReadStream(path), key, deps.clock.now());
    if (signed.errors.length > 0) deps.log?.(`DKIM signing of ${message.id} failed: ${signed.errors.join('; ')}`);
    header = signed.header;
  }
  const prefix = Buffer.from(header);
  return {
    from,
    signed: header !== '',
    open: () =>
      prefix.length === 0
        ? createReadStream(path)
        : Readable.from(
            (async function* () {
              yield prefix;
              for await (const chunk of createReadStream(path)) yield chunk as Buffer;
            })(),
          ),
  };
}
