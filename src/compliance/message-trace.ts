import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import ipaddr from 'ipaddr.js';
import { findTenant } from '../directory/find-tenant.js';
import type { Directory } from '../directory/model.js';
import { buildSnapshot, evaluate } from '../policy/index.js';
import type { CertificateFacts, Remedy } from '../policy/types.js';
import { ImpactGrouping, impactOf, isRefused, p1DomainOf, type ImpactGroup } from './impact-grouping.js';
import { CsvError, readCsvRecords } from './message-trace-csv.js';
import { parseReceived } from './message-trace-date.js';
import { DecisionMemo, slim, type TraceDecision } from './message-trace-memo.js';
import { RelaygateError } from '../core/errors.js';

/**
 * `relaygate check --message-trace`: every row of a Get-MessageTrace / Get-MessageTraceV2 CSV export
 * is evaluated by the policy engine as a connection from FromIP with P1 = SenderAddress and that
 * recipient, at the row's Received instant, and counted in the impact report's groups. The file is
 * streamed: memory holds one row and the groups, whatever the number of rows.
 *
 * What a trace does not tell: the client certificate (give it per source IP with certNames), and
 * the header From (P2). P2 is left unknown, so the verdict before 2023-11-01 is `pending` where only
 * the From: header could have allowed the relay (condition 1c).
 */
export const REQUIRED_COLUMNS = ['Received', 'SenderAddress', 'RecipientAddress', 'FromIP'] as const;
type Column = (typeof REQUIRED_COLUMNS)[number];
const NO_REMEDIES: readonly Remedy[] = Object.freeze([]);

export interface MessageTraceCheckOptions {
  directory: Directory;
  /** The tenant the trace belongs to; the rows are evaluated against this tenant alone. */
  tenant: string;
  /** Source IP → the certificate name its server presents (from `--cert-name IP=NAME`). */
  certNames?: ReadonlyMap<string, string>;
  /** Called every `progressEvery` rows and at the end with the rows read so far. */
  onProgress?: (rows: number) => void;
  progressEvery?: number;
}

export interface MessageTraceReport {
  tenant: string;
  /** Data rows in the file (header excluded). */
  rows: number;
  /** Recipient evaluations (a row may name several recipients separated by `;`). */
  evaluated: number;
  /** Rows without FromIP: mail submitted inside Exchange Online (mailboxes), not over a connector. */
  skippedNoSourceIp: number;
  /** Evaluations refused under the 2023-11 rule. */
  refusedNow: number;
  /** Refused now but accepted (or accepted depending on the From: header) before 2023-11-01. */
  newlyRefused: number;
  groups: ImpactGroup[];
}

export class MessageTraceError extends RelaygateError {
  constructor(message: string, code: 'invalid' | 'not-found' = 'invalid') {
    super(code, message);
    this.name = 'MessageTraceError';
  }
}

/** The canonical text of an IP address (IPv4-mapped IPv6 as IPv4), or null if it is not one. */
export function canonicalIp(text: string): string | null {
  const t = text.trim();
  if (!ipaddr.IPv4.isValidFourPartDecimal(t) && !ipaddr.IPv6.isValid(t)) return null;
  const addr = ipaddr.process(t);
  return addr.kind() === 'ipv6' ? (addr as ipaddr.IPv6).toRFC5952String() : addr.toString();
}

export async function checkMessageTraceFile(
  file: string,
  options: MessageTraceCheckOptions & { onBytes?: (bytesRead: number, totalBytes: number) => void },
): Promise<MessageTraceReport> {
  let total: number;
  try {
    total = (await stat(file)).size;
  } catch (err) {
    throw new MessageTraceError(`${file}: cannot read the file: ${err instanceof Error ? err.message : String(err)}`);
  }
  const stream = createReadStream(file, { highWaterMark: 1 << 16 });
  let read = 0;
  async function* counted(): AsyncGenerator<Buffer> {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      read += chunk.length;
      options.onBytes?.(read, total);
      yield chunk;
    }
  }
  try {
    return await checkMessageTrace(counted(), options, file);
  } finally {
    stream.destroy();
  }
}

export async function checkMessageTrace(
  source: AsyncIterable<Buffer | string>,
  options: MessageTraceCheckOptions,
  name = 'message trace',
): Promise<MessageTraceReport> {
  const tenant = findTenant(options.directory, options.tenant);
  if (!tenant) {
    const known = options.directory.tenants.map((t) => t.name).join(', ') || 'none';
    throw new MessageTraceError(`no tenant named ${options.tenant} in the directory (tenants: ${known})`, 'not-found');
  }
  const snapshot = buildSnapshot({ tenants: [tenant] });
  const certificates = new Map<string, CertificateFacts>();
  for (const [ip, certName] of options.certNames ?? []) {
    certificates.set(canonicalIp(ip) ?? ip, { names: [certName.toLowerCase()], trusted: true });
  }
  const memo = new DecisionMemo();
  const decide = (ip: string, certificate: CertificateFacts | null, mailFrom: string, recipients: string[], at: Date): TraceDecision => {
    const key = memo.key(ip, certificate, mailFrom, recipients, at);
    const cached = key === null ? undefined : memo.get(key);
    if (cached) return cached;
    // Mail in a trace was received, so a connector's RequireTls was met: the session counts as TLS.
    const decision = slim(evaluate(snapshot, { connection: { ip, tls: true, certificate }, message: { mailFrom, recipients }, at }));
    if (key !== null) memo.set(key, decision);
    return decision;
  };
  const grouping = new ImpactGrouping();
  const report: MessageTraceReport = {
    tenant: tenant.name,
    rows: 0,
    evaluated: 0,
    skippedNoSourceIp: 0,
    refusedNow: 0,
    newlyRefused: 0,
    groups: [],
  };
  const every = options.progressEvery ?? 10_000;
  let columns: Record<Column, number> | null = null;
  try {
    for await (const record of readCsvRecords(source)) {
      if (columns === null) {
        if (record.line === 1 && record.fields[0]?.startsWith('#TYPE')) continue; // Export-Csv's type line
        columns = findColumns(record.fields, name);
        continue;
      }
      report.rows++;
      if (report.rows % every === 0) options.onProgress?.(report.rows);
      const cell = (c: Column): string => record.fields[columns![c]] ?? '';
      const fromIp = cell('FromIP').trim();
      if (fromIp === '') {
        report.skippedNoSourceIp++;
        continue;
      }
      const ip = canonicalIp(fromIp);
      if (ip === null) throw new MessageTraceError(`${name}: line ${record.line}: FromIP ${JSON.stringify(fromIp)} is not an IP address`);
      const at = parseReceived(cell('Received'));
      if (at === null) {
        throw new MessageTraceError(
          `${name}: line ${record.line}: Received ${JSON.stringify(cell('Received'))} is not a date (ISO 8601, M/d/yyyy h:mm:ss AM/PM, or d.M.yyyy H:mm:ss)`,
        );
      }
      const sender = cell('SenderAddress').trim();
      const mailFrom = sender === '<>' ? '' : sender;
      const recipients = cell('RecipientAddress').split(';').map((r) => r.trim()).filter((r) => r !== '');
      if (recipients.length === 0) throw new MessageTraceError(`${name}: line ${record.line}: RecipientAddress is empty`);
      const certificate = certificates.get(ip) ?? null;
      const decision = decide(ip, certificate, mailFrom, recipients, at);
      for (const r of decision.recipients) {
        report.evaluated++;
        const refused = isRefused(r.currentVerdict);
        if (refused) report.refusedNow++;
        // What the relay applied is unknown here (Exchange Online received every row): no verdictApplied.
        const observed = { verdictNow: r.currentVerdict, verdictBefore: r.legacyVerdict, verdictApplied: null };
        if (impactOf(observed) !== null) report.newlyRefused++;
        grouping.add({
          ...observed,
          sourceIp: ip,
          certificateName: decision.certificateName,
          p1Domain: p1DomainOf(mailFrom),
          // A trace does not carry the header From.
          p2Domain: null,
          tenant: decision.tenant,
          // Inbound mail crossed no connector of the tenant's own: name the Partner connector that applied.
          connector: decision.connector ?? r.partnerConnector,
          attribution: decision.attribution,
          remedies: refused || r.legacyVerdict === 'pending' ? decision.remedies : NO_REMEDIES,
          at: at.getTime(),
        });
      }
    }
  } catch (err) {
    if (err instanceof CsvError) throw new MessageTraceError(`${name}: ${err.message}`);
    throw err;
  }
  if (columns === null) throw new MessageTraceError(`${name}: the file is empty (no header row)`);
  options.onProgress?.(report.rows);
  report.groups = grouping.sorted();
  return report;
}

function findColumns(header: string[], name: string): Record<Column, number> {
  const index = new Map(header.map((h, i) => [h.trim().toLowerCase(), i] as const));
  const missing = REQUIRED_COLUMNS.filter((c) => !index.has(c.toLowerCase()));
  if (missing.length > 0) {
    throw new MessageTraceError(
      `${name}: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (the header has: ${header.join(', ') || 'nothing'}); ` +
        'export with Get-MessageTraceV2 ... | Export-Csv -NoTypeInformation',
    );
  }
  return Object.fromEntries(REQUIRED_COLUMNS.map((c) => [c, index.get(c.toLowerCase())!])) as Record<Column, number>;
}
