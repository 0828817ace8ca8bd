/**
 * How `relaygate trace` prints: a page of events as a table for people, as JSON or CSV records
 * with Exchange Online's column names (compliance/trace-record.ts), and one message's or session's
 * story. A refusal's decision is told by the renderer `relaygate check` prints with
 * (compliance/check-report.ts): the same chart walk, warnings and remedies.
 */
import { csvField } from '../compliance/impact-report-output.js';
import { attributionLine, decisionLines } from '../compliance/check-report.js';
import type { StoredTraceEvent } from '../store/ports.js';
import type { TraceSearchResult, TraceStory } from '../compliance/trace-search.js';
import { TRACE_RECORD_COLUMNS, traceRecord, type TraceRecord } from '../compliance/trace-record.js';
import type { CliWriter } from './io.js';

const TABLE_COLUMNS: ReadonlyArray<readonly [heading: string, value: (r: TraceRecord) => string]> = [
  ['TIME', (r) => r.origin_timestamp],
  ['EVENT', (r) => r.event],
  ['STATUS', (r) => r.status ?? ''],
  ['SENDER', (r) => (r.sender_address === null ? '' : r.sender_address === '' ? '<>' : r.sender_address)],
  ['RECIPIENT', (r) => r.recipient_address ?? ''],
  ['CLIENT IP', (r) => r.original_client_ip ?? ''],
  ['CONNECTOR', (r) => r.connector_id ?? ''],
  ['TRACE ID', (r) => r.message_trace_id ?? ''],
  ['REPLY', (r) => r.reply ?? ''],
];

export function writeTraceTable(result: TraceSearchResult, out: CliWriter): void {
  if (result.events.length === 0) {
    out.write('No trace events match.\n');
    return;
  }
  const rows = result.events.map((e) => {
    const r = traceRecord(e);
    return TABLE_COLUMNS.map(([, value]) => value(r));
  });
  const widths = TABLE_COLUMNS.map(([heading], i) => Math.max(heading.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  out.write(line(TABLE_COLUMNS.map(([h]) => h)) + '\n');
  for (const row of rows) out.write(line(row) + '\n');
  out.write(
    result.next === null
      ? `${count(result.events.length)}; no more.\n`
      : `${count(result.events.length)}; more: add --cursor ${result.next}\n`,
  );
}

/** `{"events":[records],"next":cursor}`. */
export function writeTraceJson(result: TraceSearchResult, out: CliWriter): void {
  out.write(`{"events":[${result.events.map((e) => '\n' + JSON.stringify(traceRecord(e))).join(',')}${result.events.length ? '\n' : ''}],"next":${JSON.stringify(result.next)}}\n`);
}

/** A header and a record per event; the next cursor, not being a record, goes to stderr. */
export function writeTraceCsv(result: TraceSearchResult, out: CliWriter, err: CliWriter): void {
  out.write(TRACE_RECORD_COLUMNS.join(',') + '\r\n');
  for (const e of result.events) {
    const r = traceRecord(e);
    out.write(TRACE_RECORD_COLUMNS.map((c) => csvField(r[c] === null ? '' : String(r[c]))).join(',') + '\r\n');
  }
  if (result.next !== null) err.write(`relaygate: more events: add --cursor ${result.next}\n`);
}

export function writeStoryJson(story: TraceStory, out: CliWriter): void {
  out.write(JSON.stringify({ id: story.id, kind: story.kind, events: story.events }, null, 2) + '\n');
}

/** The whole story, oldest first: connection, decisions with the chart walk, message, every attempt, the DSN. */
export function writeStory(story: TraceStory, out: CliWriter): void {
  const first = story.events[0]!;
  const tenant = story.events.find((e) => e.tenant !== null);
  const whose = tenant ? ` (tenant ${tenant.tenant}${tenant.connector ? `, connector ${tenant.connector}` : ''})` : '';
  out.write(`${story.kind === 'message' ? 'Message' : 'Session'} ${story.id}${whose}, ${story.events.length} events from ${iso(first.at)}\n`);
  for (const e of story.events) {
    const other = e.queueId !== null && story.kind === 'message' && e.queueId !== story.id ? `[${e.queueId}] ` : '';
    const [head, ...more] = eventLines(e);
    out.write(`\n${iso(e.at)}  ${e.kind.padEnd(16)} ${other}${head}\n`);
    for (const l of more) out.write(l === '' ? '\n' : `    ${l}\n`);
  }
}

function eventLines(e: StoredTraceEvent): string[] {
  const to = e.recipient !== null ? `<${e.recipient}>` : '';
  switch (e.kind) {
    case 'connected': {
      const lines = [
        `${e.clientIp ?? e.peerIp}${e.viaProxy ? ` (PROXY from ${e.peerIp})` : ''} on ${e.listener}, EHLO ${e.helo ?? '(none)'}, session ${e.sessionId ?? '-'}`,
        e.tls ? `TLS ${e.tls.version} ${e.tls.cipher}` : 'no TLS',
      ];
      const c = e.certificate;
      if (c === null) lines.push('no client certificate');
      else {
        lines.push(
          `client certificate ${c.subject}, names ${c.sans.length ? c.sans.join(', ') : '(none)'}`,
          `  issuer ${c.issuer}; valid ${c.validFrom} to ${c.validTo}`,
          `  fingerprint ${c.fingerprint}; ${c.trusted ? 'trusted' : `not trusted (${c.untrustedReason ?? 'unknown reason'})`}`,
        );
      }
      return lines;
    }
    case 'refused': {
      const what = e.stage === 'mail' ? `MAIL FROM:<${e.sender ?? ''}>` : e.stage === 'rcpt' ? `RCPT TO:${to}` : `end of DATA for ${to}`;
      const d = e.decision;
      return [
        `${what}: ${e.reply}`,
        `why: ${e.detail}`,
        ...(e.suppressedBefore > 0 ? [`(${e.suppressedBefore} refusals from this source before this one went unrecorded)`] : []),
        attributionLine(d),
        ...decisionLines({ ...d, recipients: e.recipientDecision ? [e.recipientDecision] : [] }, { headingWithoutRecipients: false }),
      ];
    }
    case 'received':
      return [
        `from <${e.sender ?? ''}>, Message-ID ${e.messageIdHeader ?? '(none)'}, ${e.size.toLocaleString('en-US')} bytes, subject ${JSON.stringify(e.subject ?? '')}`,
        `header From ${e.headerFrom ?? '(none)'}; ${e.recipients} recipient${e.recipients === 1 ? '' : 's'} queued${e.refusedAtData ? `, ${e.refusedAtData} refused at end of DATA` : ''}; ${e.directionality}, attributed by ${e.attribution}`,
      ];
    case 'queued':
      return [`${to}: ${e.verdict} (${e.rule}, ${e.directionality}, rule set ${e.ruleSet ?? '-'})`, e.explanation];
    case 'attempt':
      return [
        `${to} via ${e.nextHop}${e.mxHost ? ` (${e.mxHost}${e.mxIp ? ` ${e.mxIp}` : ''})` : ''}, ${e.tls ?? 'no TLS'}, ${e.durationMs} ms: ${e.result}`,
        `${e.remote ? 'remote' : 'relaygate'} reply: ${e.reply}`,
      ];
    case 'deferred':
      return [`${to}: next attempt at ${iso(e.nextAttemptAt)} (after ${e.attempts} attempt${e.attempts === 1 ? '' : 's'})`, `reply: ${e.reply}`];
    case 'delivered':
      return [`${to} by ${e.remoteMta ?? '-'} after ${e.attempts} attempt${e.attempts === 1 ? '' : 's'}`, `reply: ${e.reply}`];
    case 'failed':
    case 'expired':
      return [`${to} after ${e.attempts} attempt${e.attempts === 1 ? '' : 's'}${e.dsn ? `; DSN ${e.dsn}` : ''}`, `reply: ${e.reply}`];
    case 'dsn-queued':
      return [`${e.dsnKind} DSN ${e.dsnQueueId} for ${to} to <${e.notified}>`];
    case 'held':
    case 'released':
      return [`${to || 'message'} by ${e.by}`];
    case 'operator-bounced':
      return [`${to} by ${e.by}; DSN ${e.dsn}`, `reply: ${e.reply}`];
    case 'deleted':
      return [`by ${e.by}; ${e.unfinished} recipient${e.unfinished === 1 ? '' : 's'} unfinished`];
    case 'srs-returned':
      return [`bounce to ${e.srsAddress} returned to ${to}`];
  }
}

function iso(at: number): string {
  return new Date(at).toISOString();
}

function count(n: number): string {
  return `${n.toLocaleString('en-US')} event${n === 1 ? '' : 's'}`;
}
