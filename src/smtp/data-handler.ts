/**
 * End of the transaction: the DATA stream goes through the bare CR/LF and NUL guard, mailsplit (for the
 * header From and the stamping) and into a spool file; the legacy rule set's pending recipients are
 * decided as soon as the header block has arrived; then the message is made durable and only then
 * answered `250 2.0.0 OK <id>`.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Joiner, Splitter } from 'mailsplit';
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { Replies, formatReply, type SmtpReply } from '../core/reply.js';
import type { Clock } from '../core/clock.js';
import { domainOf } from '../core/address.js';
import type { MessageAcceptor } from '../queue/accept.js';
import { StorageError } from '../queue/accept.js';
import type { AcceptedMessage, AcceptedRecipient } from '../store/ports.js';
import { sessionFailure } from './error-reply.js';
import { newQueueId } from '../queue/queue-id.js';
import type { RecipientDecision } from '../policy/types.js';
import { connectionFacts, heloOf, type ConnectionContext, type Transaction, type TransactionRecipient } from './connection-context.js';
import { recipientRecord, type DecisionBase, type DecisionLog } from './decision-log.js';
import { HeaderStamper, type HeaderFacts } from './header-stamper.js';
import { BareLineEndingError, LineEndingGuard, NulCharacterError } from './line-ending-guard.js';
import type { SessionPolicy } from './policy-source.js';
import type { SrsReturnFacts } from './srs-return-facts.js';
import { receivedHeader } from './received-header.js';
import { acceptedEvents, connectedEvents, refusedEvent } from './session-trace.js';
import type { TraceEvent } from '../trace/events.js';
import { RelaygateError } from '../core/errors.js';

export interface DataDeps {
  acceptor: MessageAcceptor;
  /** Facts (and counted returns) of bounces to SRS addresses of ours; absent: no SRS front end. */
  srsReturns?: SrsReturnFacts;
  policy: SessionPolicy;
  decisions: DecisionLog;
  clock: Clock;
  hostname: string;
  /** More `Received:` fields than this and the message is refused as looping (limits.maxHops). */
  maxHops: number;
  onError(err: unknown, ctx: ConnectionContext | undefined): void;
}

/** `closed`: the connection is closing; `refused` when a refusal was sent first (a bare CR/LF, a NUL). */
export type DataOutcome = { kind: 'reply'; reply: SmtpReply } | { kind: 'closed'; refused?: SmtpReply };

class MessageTooBigError extends RelaygateError {
  constructor(message: string) {
    super('invalid', message);
  }
}
class TooManyHopsError extends RelaygateError {
  constructor(message: string) {
    super('invalid', message);
  }
}
class ClientGoneError extends RelaygateError {
  constructor(message: string) {
    super('unavailable', message);
  }
}

/** A header block (of any MIME part) larger than this is refused: headers are held in memory. */
const MAX_HEADER_BYTES = 1024 * 1024;

/** The recipients' fate once the header From is known. */
interface Outcome {
  accepted: TransactionRecipient[];
  /** Refused at end of DATA (legacy rule set, P2 not accepted). */
  refused: TransactionRecipient[];
  facts: HeaderFacts;
}

export async function receiveData(
  deps: DataDeps,
  ctx: ConnectionContext,
  tx: Transaction,
  session: SMTPServerSession,
  stream: SMTPServerDataStream,
): Promise<DataOutcome> {
  const receivedAt = deps.clock.now();
  const queueId = newQueueId(receivedAt);
  let file;
  try {
    file = await deps.acceptor.open(queueId);
  } catch (err) {
    const reply = sessionFailure(deps, err, ctx);
    recordAccepts(deps, ctx, tx, null);
    await drain(stream);
    return { kind: 'reply', reply };
  }
  // The client left while the body was being opened: smtp-server destroyed the stream and its
  // 'close' came before anyone listened, so nothing below would ever end. Finish it here.
  if (stream.destroyed && !stream.readableEnded) {
    await deps.acceptor.abandon(file);
    recordAccepts(deps, ctx, tx, null);
    return { kind: 'closed' };
  }

  let outcome: Outcome | null = null;
  const stamp = async (facts: HeaderFacts): Promise<string[]> => {
    // Postfix's hopcount_limit: a message that has passed this many relays is in a loop. Refused as
    // soon as its header block is read; the reply waits for the end of DATA.
    if (facts.received > deps.maxHops) throw new TooManyHopsError(`${facts.received} Received: fields (limit ${deps.maxHops})`);
    outcome = await decideAtHeaders(deps, ctx, tx, facts);
    const first = outcome.accepted[0]?.decision;
    return [
      receivedHeader({
        helo: heloOf(session),
        clientIp: ctx.ip,
        proxyIp: ctx.ip !== ctx.peerIp ? ctx.peerIp : null,
        hostname: deps.hostname,
        protocol: session.transmissionType || (ctx.tls ? 'ESMTPS' : 'ESMTP'),
        tls: ctx.tls,
        queueId,
        recipients: outcome.accepted.map((r) => r.address),
        at: receivedAt,
      }),
      `X-Relaygate-Tenant: ${first?.tenant ?? 'none'}`,
      `X-Relaygate-Connector: ${first?.connector ?? 'none'}`,
      `X-Relaygate-Attribution: ${first?.attribution ?? 'none'}`,
      `X-Relaygate-Directionality: ${first?.directionality ?? 'Incoming'}`,
    ];
  };

  const sizeLimit = new SizeLimit(ctx.listener.maxMessageSize);
  // Only the top-level header block matters here: embedded messages are not parsed, and a message
  // with many MIME parts is not refused for it.
  const splitter = new Splitter({ ignoreEmbedded: true, maxHeadSize: MAX_HEADER_BYTES, maxChildNodes: Number.MAX_SAFE_INTEGER });
  const sink = pipeline(sizeLimit, new LineEndingGuard(ctx.bareLineEndings), splitter, new HeaderStamper(stamp), new Joiner(), file.writable());
  stream.pipe(sizeLimit);
  // pipe() does not pass on a source that is destroyed (the client went away mid-DATA): do it here,
  // so the pipeline fails and the partial file is removed.
  stream.on('error', () => undefined);
  stream.once('close', () => {
    if (!stream.readableEnded) sizeLimit.destroy(new ClientGoneError('client disconnected during DATA'));
  });
  try {
    await sink;
  } catch (err) {
    stream.unpipe(sizeLimit);
    await deps.acceptor.abandon(file);
    recordAccepts(deps, ctx, tx, null);
    if (err instanceof BareLineEndingError || err instanceof NulCharacterError) {
      // Nothing after a bare line ending or a NUL can be trusted to belong to this message: answer and close now.
      const reply = err instanceof NulCharacterError ? Replies.nulCharacter : Replies.bareLineEnding;
      traceDataRefusal(deps, ctx, tx, reply, err instanceof NulCharacterError ? 'nul-character' : 'bare-line-ending', err.message);
      ctx.replies?.sendNow(reply, true);
      stream.resume();
      return { kind: 'closed', refused: reply };
    }
    if (err instanceof ClientGoneError) return { kind: 'closed' };
    await drain(stream);
    if (err instanceof MessageTooBigError) return { kind: 'reply', reply: traceDataRefusal(deps, ctx, tx, Replies.messageTooBig, 'message-size', err.message) };
    if (err instanceof TooManyHopsError) return { kind: 'reply', reply: traceDataRefusal(deps, ctx, tx, Replies.tooManyHops, 'hop-count', err.message) };
    if ((err as { code?: unknown }).code === 'EMAXLEN') {
      return { kind: 'reply', reply: traceDataRefusal(deps, ctx, tx, Replies.headerTooLarge, 'header-size', `a header block exceeds ${MAX_HEADER_BYTES} bytes`) };
    }
    if (stream.destroyed && !stream.readableEnded) return { kind: 'closed' };
    return { kind: 'reply', reply: sessionFailure(deps, err, ctx) };
  }

  const decided = outcome as Outcome | null;
  if (!decided || decided.accepted.length === 0) {
    await deps.acceptor.abandon(file);
    recordAccepts(deps, ctx, tx, null);
    // relay-policy.md §4 (timing): no recipient remains after the header From failed 1c → 5.7.64,
    // whatever rule the re-evaluation fell through to.
    return { kind: 'reply', reply: Replies.relayDenied };
  }

  const first = decided.accepted[0]!.decision;
  const trace = (m: AcceptedMessage): TraceEvent[] => [
    ...connectedEvents(ctx, tx.helo, decided.accepted[0]!.transaction, tx.at.getTime()),
    ...acceptedEvents(ctx, tx, m, decided.accepted, decided.refused.length),
    ...decided.refused.map((r) => dataRefusal(ctx, tx, r, m.id, m.messageIdHeader)),
  ];
  try {
    await deps.acceptor.accept(file, {
      id: queueId,
      tenantId: first.tenantId,
      tenant: first.tenant,
      connector: first.connector,
      attribution: first.attribution,
      directionality: first.directionality,
      mailFrom: tx.mailFrom,
      envId: tx.envId,
      ret: tx.ret,
      bodyType: tx.bodyType,
      smtputf8: tx.smtputf8,
      clientIp: ctx.ip,
      clientHelo: heloOf(session),
      tls: ctx.tls ? `${ctx.tls.protocol} ${ctx.tls.cipher}` : null,
      headerFrom: decided.facts.headerFrom,
      subject: decided.facts.subject,
      messageIdHeader: decided.facts.messageId,
      receivedAt: receivedAt.getTime(),
      recipients: [...decided.accepted.map((r) => queued(r)), ...decided.refused.map((r) => refusedAtData(r, tx))],
    }, tx.unrecordedAccepts.map((r) => recipientRecord(logBase(ctx, tx), r.transaction, r.decision, queueId)), trace);
  } catch (err) {
    if (!(err instanceof StorageError)) throw err;
    const reply = sessionFailure(deps, err, ctx);
    recordAccepts(deps, ctx, tx, null);
    return { kind: 'reply', reply };
  }
  tx.unrecordedAccepts = [];
  ctx.trace.connected = true;
  return { kind: 'reply', reply: Replies.accepted(queueId) };
}

/** A recipient the legacy rule set refused at end of DATA (the header From did not make it pass). */
function dataRefusal(ctx: ConnectionContext, tx: Transaction, r: TransactionRecipient, queueId: string | null, messageIdHeader: string | null): TraceEvent {
  const reply = r.decision.reply.code >= 400 ? r.decision.reply : Replies.relayDenied;
  return refusedEvent({ ctx, tx, at: tx.at.getTime(), stage: 'data', decision: r.transaction, recipient: r.decision, reply, queueId, messageIdHeader });
}

/**
 * A message refused at end of DATA by a limit or a guard, not by the policy: traced for each
 * recipient under the refusals' rate limit, with the reason only the trace keeps. Returns the reply.
 */
function traceDataRefusal(deps: DataDeps, ctx: ConnectionContext, tx: Transaction, reply: SmtpReply, reason: string, detail: string): SmtpReply {
  const at = deps.clock.now().getTime();
  const events: TraceEvent[] = [
    ...connectedEvents(ctx, tx.helo, tx.mailDecision, at),
    ...tx.recipients.map((r) => refusedEvent({ ctx, tx, at, stage: 'data', decision: r.transaction, recipient: r.decision, reply, reason, detail })),
  ];
  if (deps.decisions.refusal(ctx.ip, at, events)) ctx.trace.connected = true;
  return reply;
}

/**
 * Pending recipients (legacy rule set: only the header From can still allow them) are decided now,
 * with P2 known. Everything else keeps the decision it had at RCPT.
 */
async function decideAtHeaders(deps: DataDeps, ctx: ConnectionContext, tx: Transaction, facts: HeaderFacts): Promise<Outcome> {
  tx.headerFrom = facts.headerFrom;
  const pending = tx.recipients.filter((r) => r.decision.verdict === 'pending');
  const accepted = tx.recipients.filter((r) => r.decision.verdict !== 'pending');
  const refused: TransactionRecipient[] = [];
  if (pending.length === 0) return { accepted, refused, facts };
  const decision = await deps.policy.evaluate({
    connection: connectionFacts(ctx),
    message: { mailFrom: tx.mailFrom, recipients: pending.map((r) => r.address), headerFrom: facts.headerFrom },
    at: tx.at,
  });
  pending.forEach((r, i) => {
    const final: RecipientDecision | undefined = decision.recipients[i];
    const resolved = { ...r, decision: final ?? r.decision, transaction: decision };
    if (final && final.verdict !== 'rejected' && final.verdict !== 'pending') accepted.push(resolved);
    else refused.push(resolved);
  });
  // The end-of-DATA decisions replace the provisional ones in the log.
  tx.unrecordedAccepts = tx.unrecordedAccepts.filter((u) => u.decision.verdict !== 'pending');
  tx.unrecordedAccepts.push(...accepted.filter((a) => pending.some((p) => p.address === a.address)), ...refused);
  return { accepted, refused, facts };
}

/**
 * Logs the accepts; with no message id the transaction queued nothing, so its counted returns are
 * given back. Recipients the end of DATA refused are traced as refusals.
 */
function recordAccepts(deps: DataDeps, ctx: ConnectionContext, tx: Transaction, messageId: string | null): void {
  if (messageId === null) deps.srsReturns?.release(tx.recipients.map((r) => r.srsReturn?.reservation ?? null));
  for (const r of tx.unrecordedAccepts) {
    const refused = r.decision.verdict === 'rejected';
    const events = refused ? [...connectedEvents(ctx, tx.helo, r.transaction, tx.at.getTime()), dataRefusal(ctx, tx, r, messageId, null)] : [];
    if (deps.decisions.recipient(logBase(ctx, tx), r.transaction, r.decision, messageId, events) && refused) ctx.trace.connected = true;
  }
  tx.unrecordedAccepts = [];
}

function logBase(ctx: ConnectionContext, tx: Transaction): DecisionBase {
  return { at: tx.at.getTime(), sessionId: ctx.id, clientIp: ctx.ip, mailFrom: tx.mailFrom, headerFrom: tx.headerFrom ?? null };
}

function queued(r: TransactionRecipient): AcceptedRecipient {
  const verdict = r.decision.verdict === 'pending' ? 'rejected' : r.decision.verdict;
  return { address: r.address, domain: routingDomain(r), notify: r.notify, orcpt: r.orcpt, state: 'queued', lastReply: null, dsnStatus: null, verdict };
}

/** A recipient refused at end of DATA: stored failed, with a DSN owed unless the sender cannot get one. */
function refusedAtData(r: TransactionRecipient, tx: Transaction): AcceptedRecipient {
  const notify = r.notify?.toUpperCase().split(',') ?? null;
  const suppressed = tx.mailFrom === '' || (notify !== null && !notify.includes('FAILURE'));
  return {
    address: r.address,
    domain: routingDomain(r),
    notify: r.notify,
    orcpt: r.orcpt,
    state: 'failed',
    lastReply: formatReply(r.decision.reply.code >= 400 ? r.decision.reply : Replies.relayDenied),
    dsnStatus: suppressed ? 'suppressed' : 'owed',
    verdict: 'rejected',
  };
}

function routingDomain(r: TransactionRecipient): string {
  return r.decision.domain ?? domainOf(r.address) ?? '';
}

/** Counts the DATA bytes (after dot-unstuffing) and fails the message past the listener's limit. */
class SizeLimit extends Transform {
  private bytes = 0;
  constructor(private readonly max: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.max) return done(new MessageTooBigError(`message exceeds ${this.max} bytes`));
    done(null, chunk);
  }
}

/** Reads the rest of the client's DATA so the reply comes after its end, as SMTP requires. */
function drain(stream: SMTPServerDataStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.readableEnded || stream.destroyed) return resolve();
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
    stream.resume();
  });
}

