/**
 * Turns a queued message into what goes on the wire: the envelope sender of each transaction
 * (SRS-rewritten only for recipients the tenant relayed to outside domains, with a sender domain
 * that is not its own) and the content (for relayed recipients without our X-Relaygate-* fields
 * unless the tenant keeps them; DKIM-signed with the tenant's key for the From domain), streamed
 * from the body store.
 */
import { Readable } from 'node:stream';
import { domainOf } from '../core/address.js';
import type { Clock } from '../core/clock.js';
import type { QueuedEnvelope, RecipientRef } from '../core/envelope.js';
import { defaultSrsSetting, type BodyStore, type SrsMintedStore } from '../store/ports.js';
import { dkimSignatureFor, findSigningKey, type DkimKeySource } from './dkim.js';
import { DeliveryError, LocalFailures } from './outcome.js';
import { withoutOurHeaders } from './our-headers.js';
import { Srs } from './srs.js';

/** Tenants are named by id here: the one a queued message keeps, whatever the tenant is called now. */
export interface SrsPolicy {
  /** Per-tenant switch and rewrite domain (null: `defaultRewriteDomain`). */
  settingFor(tenantId: string): { enabled: boolean; rewriteDomain: string | null };
  /** Whether `domain` is an accepted domain of the tenant (answered by the policy engine). */
  senderDomainAccepted(tenantId: string, domain: string): Promise<boolean>;
  secrets: readonly string[];
  defaultRewriteDomain: string;
  /** Every rewritten sender is recorded with its message before it is used: bounces to it are checked against it. */
  minted: SrsMintedStore;
}

export interface PrepareDeps {
  bodies: BodyStore;
  dkimKeys: DkimKeySource;
  srs: SrsPolicy | null;
  clock: Clock;
  log?: (message: string) => void;
  /**
   * Whether mail the tenant relays to outside recipients keeps our X-Relaygate-* fields; relayed mail
   * without a tenant any more goes without them. Absent: every recipient gets them.
   */
  keepsOurHeadersWhenRelayed?: (tenantId: string) => boolean;
}

export interface PreparedContent {
  /** True when the content carries our DKIM signature. */
  signed: boolean;
  open(): Readable;
}

export interface PreparedMessage {
  /** The envelope sender of a transaction to these recipients (all relayed, or none: see Job). */
  senderFor(recipients: readonly RecipientRef[]): Promise<string>;
  /**
   * The content of a transaction to these recipients. For recipients the tenant relayed to outside
   * domains it goes without our X-Relaygate-* fields unless the tenant keeps them; they are removed
   * before signing, so the signature covers what is sent. Made once per kind, then reused.
   */
  contentFor(recipients: readonly RecipientRef[]): Promise<PreparedContent>;
}

/**
 * The envelope sender of a transaction after SRS: rewritten only for recipients the attributed
 * tenant relayed to outside domains (the policy's `relay` verdict at acceptance), with a P1 domain
 * the tenant does not accept. Inbound mail to an accepted domain and a tenant's internal mail keep
 * their P1, and so do the null sender and DSNs. Relayed mail of a tenant removed since it was
 * queued (no tenant id) gets the server's default: rewritten with the default domain, as no tenant
 * accepts its sender domain any more. A rewritten sender is recorded with the message before it is
 * returned.
 */
export async function envelopeSender(message: QueuedEnvelope, recipients: readonly RecipientRef[], srs: SrsPolicy | null, clock: Clock): Promise<string> {
  if (!srs || message.mailFrom === '' || message.kind === 'dsn') return message.mailFrom;
  if (!recipients.some((r) => r.relayed)) return message.mailFrom;
  const domain = domainOf(message.mailFrom);
  if (domain === null) return message.mailFrom;
  const tenantId = message.tenantId;
  const setting = tenantId === null ? defaultSrsSetting : srs.settingFor(tenantId);
  if (!setting.enabled) return message.mailFrom;
  if (tenantId !== null && (await srs.senderDomainAccepted(tenantId, domain))) return message.mailFrom;
  const rewriter = new Srs({ secrets: srs.secrets, rewriteDomain: setting.rewriteDomain ?? srs.defaultRewriteDomain }, clock);
  const rewritten = rewriter.forward(message.mailFrom);
  if (rewritten !== message.mailFrom) {
    await srs.minted.record({ address: rewritten, messageId: message.id, outsideRecipients: message.outsideRecipients, at: clock.now().getTime() });
  }
  return rewritten;
}

/** The body of a message, or a DeliveryError when it cannot be read (the recipients are deferred). */
async function openBody(bodies: BodyStore, id: string): Promise<Readable> {
  let body: Readable | null;
  try {
    body = await bodies.open(id);
  } catch (err) {
    throw new DeliveryError(LocalFailures.spoolUnreadable(err instanceof Error ? err.message : String(err)));
  }
  if (!body) throw new DeliveryError(LocalFailures.spoolUnreadable(`no body stored for ${id}`));
  return body;
}

export function prepareMessage(message: QueuedEnvelope, deps: PrepareDeps): PreparedMessage {
  // A message whose tenant was removed has no choice left to follow: the default (strip) applies.
  const keeps = deps.keepsOurHeadersWhenRelayed;
  const strips = keeps !== undefined && !(message.tenantId !== null && keeps(message.tenantId));
  const variants = new Map<boolean, Promise<PreparedContent>>();
  return {
    senderFor: (recipients) => envelopeSender(message, recipients, deps.srs, deps.clock),
    contentFor: (recipients) => {
      const withoutOurs = strips && recipients.some((r) => r.relayed);
      let content = variants.get(withoutOurs);
      if (!content) {
        content = preparedContent(message, deps, withoutOurs);
        variants.set(withoutOurs, content);
      }
      return content;
    },
  };
}

/** The content as it goes on the wire: our fields removed first when asked, then signed. */
async function preparedContent(message: QueuedEnvelope, deps: PrepareDeps, withoutOurs: boolean): Promise<PreparedContent> {
  const bodies = deps.bodies;
  const read = async (): Promise<Readable> => {
    const body = await openBody(bodies, message.id);
    return withoutOurs ? withoutOurHeaders(body) : body;
  };
  let header = '';
  const fromDomain = message.headerFrom ? domainOf(message.headerFrom) : null;
  const key = message.tenantId && fromDomain ? findSigningKey(deps.dkimKeys, message.tenantId, fromDomain) : null;
  if (key) {
    const first = await read();
    try {
      const signed = await dkimSignatureFor(first, key, deps.clock.now());
      if (signed.errors.length > 0) deps.log?.(`DKIM signing of ${message.id} failed: ${signed.errors.join('; ')}`);
      header = signed.header;
    } finally {
      first.destroy();
    }
  }
  const prefix = Buffer.from(header);
  return {
    signed: header !== '',
    // Each attempt reads the body afresh (a hop may fail halfway and the next one starts over).
    open: () =>
      Readable.from(
        (async function* () {
          if (prefix.length > 0) yield prefix;
          for await (const chunk of await read()) yield chunk as Buffer;
        })(),
      ),
  };
}
