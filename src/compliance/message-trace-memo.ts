import { splitAddress } from '../core/address.js';
import type { CertificateFacts, RecipientVerdict, Remedy, TransactionDecision } from '../policy/types.js';
import { RULE_CHANGE_AT } from '../policy/index.js';

/**
 * A memo of the policy engine's decisions for a message trace, where the same source sends the same
 * kind of mail thousands of times. It stores what the engine answered; it decides nothing itself.
 *
 * The key holds everything the report reads from a decision: source IP, certificate name, the P1
 * domain (or null sender), the recipient domain, and which side of 2023-11-01 the row falls on.
 * Local parts are left out of the key only when they are plain dot-atoms without `%` or `!`
 * (address hygiene can only refuse other forms, and those always go to the engine). Only the parts
 * of a decision the report reads are kept, and the memo empties itself when full: bounded memory.
 */
const PLAIN_LOCAL = /^[A-Za-z0-9#$&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9#$&'*+/=?^_`{|}~-]+)*$/;
const PLAIN_DOMAIN = /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;
const MAX_ENTRIES = 20_000;

function plainDomain(address: string): string | null {
  const parts = splitAddress(address);
  if (!parts) return null;
  return PLAIN_LOCAL.test(parts.local) && PLAIN_DOMAIN.test(parts.domain) ? parts.domain.toLowerCase() : null;
}

/** What the impact report reads from a decision. */
export interface TraceDecision {
  tenant: string | null;
  connector: string | null;
  attribution: string;
  /** The certificate name that counted (the first the engine judged trusted and valid). */
  certificateName: string | null;
  remedies: Remedy[];
  recipients: Array<{ currentVerdict: RecipientVerdict; legacyVerdict: RecipientVerdict; partnerConnector: string | null }>;
}

export function slim(d: TransactionDecision): TraceDecision {
  return {
    tenant: d.tenant,
    connector: d.connector,
    attribution: d.attribution,
    certificateName: d.certificate.names[0] ?? null,
    remedies: d.remedies.map((r) => ({ rank: r.rank, text: r.text })),
    recipients: d.recipients.map((r) => ({ currentVerdict: r.currentVerdict, legacyVerdict: r.legacyVerdict, partnerConnector: r.partnerConnector })),
  };
}

export class DecisionMemo {
  private readonly entries = new Map<string, TraceDecision>();

  /** The memo key, or null when this transaction must go to the engine every time. */
  key(ip: string, certificate: CertificateFacts | null, mailFrom: string, recipients: readonly string[], at: Date): string | null {
    if (recipients.length !== 1) return null;
    const rcpt = plainDomain(recipients[0]!);
    const p1 = mailFrom === '' ? '<>' : plainDomain(mailFrom);
    if (rcpt === null || p1 === null) return null;
    const side = at.getTime() >= RULE_CHANGE_AT.getTime() ? 'new' : 'old';
    return `${ip} ${certificate?.names.join(',') ?? ''} ${p1} ${rcpt} ${side}`;
  }

  get(key: string): TraceDecision | undefined {
    return this.entries.get(key);
  }

  set(key: string, decision: TraceDecision): void {
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(key, decision);
  }
}
