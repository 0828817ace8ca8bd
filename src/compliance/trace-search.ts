/**
 * The message trace search (`relaygate trace`, the admin API's /v1/trace): what a person asks for
 * (a tenant's name, an address or a domain, a status in Exchange Online's words, a time range as
 * a duration or ISO instants) checked and turned into the port's TraceFilter, then one page of
 * events, newest first, with the cursor of the next. An invalid or unknown input throws a
 * RelaygateError (`invalid`, `not-found`) before anything is read. Also one message's or one
 * refused transaction's whole story.
 *
 * There is no cap on the range or the number of pages: the port pages by a keyset cursor.
 */
import { isIP } from 'node:net';
import type { Clock } from '../core/clock.js';
import { normalizeDomain } from '../core/domain.js';
import { splitAddress } from '../core/address.js';
import { RelaygateError } from '../core/errors.js';
import { parseIpAddress } from '../core/ip-prefix.js';
import { parseInstant, parseSince } from '../core/time-bound.js';
import { historyTenant } from '../directory/find-tenant.js';
import type { DirectoryStore, StoredTraceEvent, TraceFilter, TraceStore } from '../store/ports.js';
import { traceEventKinds, traceStatuses, type TraceEventKind, type TraceStatus } from '../trace/events.js';

export interface TraceSearchInput {
  /** A tenant's name (any case), or the id of a removed tenant. */
  tenant?: string;
  /** An address (`alice@contoso.com`), a domain (`@contoso.com` or `contoso.com`), or `<>` for the null sender. */
  sender?: string;
  /** An address or a domain (`@fabrikam.com` or `fabrikam.com`). */
  recipient?: string;
  /** The Message-ID header field, with or without its angle brackets. */
  messageId?: string;
  queueId?: string;
  sessionId?: string;
  clientIp?: string;
  connector?: string;
  /** A client certificate name (the first name of the certificate that counted). */
  certificateName?: string;
  /** Any of these, in Exchange Online's words (any case): Delivered, Failed, Pending, Expanded, Refused, Deferred. */
  status?: readonly string[];
  /** Any of these event kinds (`refused`, `attempt`, ...). */
  event?: readonly string[];
  /** The decision rule or the outcome's reason (`nobody`, `hygiene`, a delivery outcome's enhanced status code such as `5.1.1`, ...). */
  reason?: string;
  ruleSet?: string;
  /** A duration back from now (`2h`, `30d`) or an ISO 8601 date or instant; not with `start`. */
  since?: string;
  /** ISO 8601 date or instant: events at or after it. */
  start?: string;
  /** ISO 8601 date or instant: events before it. */
  end?: string;
  /** The `next` of the previous page. */
  cursor?: string | null;
  /** Events per page, 1 to 10,000 (default 100). */
  limit?: number;
}

/** The search as it was run: the tenant named, and the range as instants (null: open). */
export interface TraceSearchQuery {
  tenant: { id: string; name: string | null } | null;
  start: string | null;
  end: string | null;
  filter: TraceFilter;
}

export interface TraceSearchResult {
  query: TraceSearchQuery;
  /** Newest first. */
  events: StoredTraceEvent[];
  /** The cursor of the next (older) page; null when this page was the last. */
  next: string | null;
}

export interface TraceStory {
  /** The id asked for: a queue id (a message) or a session id (a connection, with its refusals). */
  id: string;
  kind: 'message' | 'session';
  /** Oldest first. */
  events: StoredTraceEvent[];
}

export const TRACE_DEFAULT_LIMIT = 100;
export const TRACE_MAX_LIMIT = 10_000;
const TOKEN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const RULE_SETS = ['2023-11', 'legacy'] as const;

export class TraceSearchService {
  constructor(
    private readonly ports: { trace: TraceStore; directory: DirectoryStore },
    private readonly clock: Clock,
  ) {}

  /** One page of the events that match every given field. */
  async search(input: TraceSearchInput): Promise<TraceSearchResult> {
    const { filter, start, end } = this.rangeOf(input);
    const limit = input.limit ?? TRACE_DEFAULT_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > TRACE_MAX_LIMIT) {
      throw invalid('limit', `the page size (limit) must be a whole number from 1 to ${TRACE_MAX_LIMIT.toLocaleString('en-US')}, not ${String(input.limit)}`);
    }
    if (input.cursor !== undefined && input.cursor !== null && !/^\d{1,16}\.\d{1,16}$/.test(input.cursor)) {
      throw invalid('cursor', `${JSON.stringify(input.cursor)} is not a trace cursor (give the next cursor a previous page printed)`);
    }
    const address = (field: 'sender' | 'recipient', value: string | undefined): void => {
      if (value === undefined) return;
      const a = addressFilter(field, value);
      if (a.kind === 'domain') filter[field === 'sender' ? 'senderDomain' : 'recipientDomain'] = a.value;
      else filter[field] = a.value;
    };
    address('sender', input.sender);
    address('recipient', input.recipient);
    if (input.messageId !== undefined) filter.messageIdHeader = messageIdOf(input.messageId);
    if (input.queueId !== undefined) filter.queueId = token('queueId', 'queue id', input.queueId);
    if (input.sessionId !== undefined) filter.sessionId = token('sessionId', 'session id', input.sessionId);
    if (input.clientIp !== undefined) filter.clientIp = ipOf(input.clientIp);
    if (input.connector !== undefined) filter.connector = text('connector', 'connector', input.connector);
    if (input.certificateName !== undefined) filter.certName = certificateNameOf(input.certificateName);
    if (input.status !== undefined) filter.status = input.status.map(statusOf);
    if (input.event !== undefined) filter.kind = input.event.map(kindOf);
    if (input.reason !== undefined) filter.reason = token('reason', 'reason', input.reason);
    if (input.ruleSet !== undefined) filter.ruleSet = ruleSetOf(input.ruleSet);
    let tenant: TraceSearchQuery['tenant'] = null;
    if (input.tenant !== undefined) {
      tenant = historyTenant(await this.ports.directory.load(), text('tenant', 'tenant', input.tenant));
      filter.tenantId = tenant.id;
    }
    const page = await this.ports.trace.search(filter, { cursor: input.cursor ?? null, limit });
    return {
      query: { tenant, start: start === undefined ? null : new Date(start).toISOString(), end: end === undefined ? null : new Date(end).toISOString(), filter },
      events: page.events,
      next: page.next,
    };
  }

  /** Everything recorded of one message (queue id) or one connection (session id); `not-found` when neither. */
  async story(id: string): Promise<TraceStory> {
    const given = token('id', 'trace id', id);
    const events = await this.ports.trace.story(given);
    if (events.length === 0) {
      throw new RelaygateError('not-found', `nothing is recorded in the trace for ${given} (a queue id or a session id, as the search prints them)`, {
        details: { field: 'id', id: given },
      });
    }
    return { id: given, kind: events.some((e) => e.queueId === given) ? 'message' : 'session', events };
  }

  private rangeOf(input: TraceSearchInput): { filter: TraceFilter; start: number | undefined; end: number | undefined } {
    if (input.since !== undefined && input.start !== undefined) throw invalid('since', 'give either since or start, not both');
    const now = this.clock.now().getTime();
    const start =
      input.since !== undefined
        ? parseSince(input.since, now, { name: 'since', field: 'since' })
        : input.start !== undefined
          ? parseInstant(input.start, { name: 'start', field: 'start' })
          : undefined;
    const end = input.end !== undefined ? parseInstant(input.end, { name: 'end', field: 'end' }) : undefined;
    if (start !== undefined && end !== undefined && start >= end) {
      throw invalid('end', `the range is empty: end ${new Date(end).toISOString()} is not after its start ${new Date(start).toISOString()}`);
    }
    const filter: TraceFilter = {};
    if (start !== undefined) filter.from = start;
    if (end !== undefined) filter.to = end;
    return { filter, start, end };
  }
}

function invalid(field: string, message: string): RelaygateError {
  return new RelaygateError('invalid', message, { details: { field } });
}

function text(field: string, what: string, value: string): string {
  const v = value.trim();
  if (v === '' || v.length > 320 || /[\u0000-\u001f\u007f]/.test(v)) throw invalid(field, `${JSON.stringify(value)} is not a ${what}`);
  return v;
}

function token(field: string, what: string, value: string): string {
  const v = value.trim();
  if (!TOKEN.test(v)) throw invalid(field, `${JSON.stringify(value)} is not a ${what}`);
  return v;
}

/** An address is matched as given (any case); a domain by its canonical form (A-label, lower case). */
export function addressFilter(field: 'sender' | 'recipient', value: string): { kind: 'address' | 'domain'; value: string } {
  const v = value.trim();
  if (field === 'sender' && (v === '<>' || v === '')) return { kind: 'address', value: '' };
  const bare = v.startsWith('<') && v.endsWith('>') ? v.slice(1, -1) : v;
  const parts = splitAddress(bare);
  const domainText = parts === null ? bare : parts.local === '' ? parts.domain : null;
  if (domainText !== null) {
    const domain = normalizeDomain(domainText);
    if (domain === null) throw invalid(field, `${JSON.stringify(value)} is neither an address nor a domain (alice@contoso.com, @contoso.com, contoso.com)`);
    return { kind: 'domain', value: domain };
  }
  if (/[\s\u0000-\u001f\u007f<>]/.test(bare) || parts!.domain === '' || bare.length > 320) {
    throw invalid(field, `${JSON.stringify(value)} is neither an address nor a domain (alice@contoso.com, @contoso.com, contoso.com)`);
  }
  return { kind: 'address', value: bare };
}

function messageIdOf(value: string): string {
  const v = text('messageId', 'Message-ID', value);
  return v.startsWith('<') ? v : `<${v}>`;
}

function ipOf(value: string): string {
  const v = value.trim();
  const ip = isIP(v) !== 0 ? parseIpAddress(v) : null;
  if (ip === null) throw invalid('clientIp', `${JSON.stringify(value)} is not an IP address`);
  return ip;
}

function certificateNameOf(value: string): string {
  const v = value.trim();
  const wildcard = v.startsWith('*.');
  const name = normalizeDomain(wildcard ? v.slice(2) : v);
  if (name === null) throw invalid('certificateName', `${JSON.stringify(value)} is not a certificate name (a host name such as mail.contoso.com)`);
  return wildcard ? `*.${name}` : name;
}

function statusOf(value: string): TraceStatus {
  const found = traceStatuses.find((s) => s.toLowerCase() === value.trim().toLowerCase());
  if (!found) throw invalid('status', `${JSON.stringify(value)} is not a trace status (${traceStatuses.join(', ')})`);
  return found;
}

function kindOf(value: string): TraceEventKind {
  const found = traceEventKinds.find((k) => k === value.trim().toLowerCase());
  if (!found) throw invalid('event', `${JSON.stringify(value)} is not a trace event (${traceEventKinds.join(', ')})`);
  return found;
}

function ruleSetOf(value: string): (typeof RULE_SETS)[number] {
  const found = RULE_SETS.find((r) => r === value.trim().toLowerCase());
  if (!found) throw invalid('ruleSet', `${JSON.stringify(value)} is not a rule set (${RULE_SETS.join(', ')})`);
  return found;
}
