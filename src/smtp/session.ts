/**
 * The relay's SMTP session hooks for smtp-server: facts built once per connection (source IP, TLS,
 * client certificate), the policy engine asked at MAIL FROM and at every RCPT, exact replies.
 * No relay rule is written here: every decision comes from the policy engine.
 */
import type { TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { Replies, type SmtpReply } from '../core/reply.js';
import type { Clock } from '../core/clock.js';
import type { RecipientDecision } from '../policy/types.js';
import { certificateFacts, presentedCertificate } from '../tls/certificate-facts.js';
import { connectionFacts, heloOf, type ConnectionContext, type Transaction, type TransactionRecipient } from './connection-context.js';
import { certificateRecord, connectedEvents, refusedEvent } from './session-trace.js';
import type { DecisionLog } from './decision-log.js';
import type { SessionPolicy } from './policy-source.js';
import { receiveData, type DataDeps } from './data-handler.js';
import { addressBytesReply } from './address-bytes.js';
import { sessionFailure } from './error-reply.js';
import { libraryRefusal } from './reply-control.js';
import { RelaygateError } from '../core/errors.js';
import type { SmtpMetrics } from '../core/metrics-recorder.js';
import { observation, type TrafficObserver } from './traffic-observer.js';

export interface SessionLimits {
  maxRecipients: number;
  maxErrors: number;
}

export interface SessionDeps extends DataDeps {
  policy: SessionPolicy;
  decisions: DecisionLog;
  clock: Clock;
  limits: SessionLimits;
  /**
   * Per-tenant limits on accepted recipients (the daily quota): null to accept, or a refusal whose
   * reply the client gets and whose reason only the decision record keeps.
   */
  admitRecipient?: (decision: RecipientDecision) => Promise<{ reply: SmtpReply; reason: string } | null>;
  /** Told what became of each refused command and each message (connector health). */
  traffic?: TrafficObserver;
  /** The context the listener registered for a session id. */
  context(sessionId: string): ConnectionContext | undefined;
  onError(err: unknown, ctx: ConnectionContext | undefined): void;
  /** Told how each transaction ended. */
  metrics?: Pick<SmtpMetrics, 'transaction'>;
}

type Done = (err?: Error | null) => void;

export class SessionHooks {
  constructor(private readonly deps: SessionDeps) {}

  onSecure(socket: Socket | TLSSocket, session: SMTPServerSession, done: Done): void {
    const ctx = this.deps.context(session.id);
    if (!ctx || !('getPeerX509Certificate' in socket)) return done();
    // After STARTTLS smtp-server strips the raw socket's listeners: watch the TLS socket instead.
    socket.once('close', ctx.release);
    const cipher = socket.getCipher();
    const cert = socket.getPeerX509Certificate();
    const untrusted = reasonOf(socket.authorizationError);
    ctx.tls = {
      protocol: socket.getProtocol() ?? 'TLS',
      cipher: cipher.standardName ?? cipher.name,
      clientCertificate: cert ? presentedCertificate(cert, socket.authorized) : null,
      certificateRecord: cert ? certificateRecord(cert, socket.authorized, untrusted ?? null) : null,
    };
    ctx.certificate = cert ? certificateFacts(cert, socket.authorized, untrusted) : null;
    // RFC 3207 §4.2 resets the session; smtp-server dropped the plaintext bytes, we also refuse the client.
    if (ctx.startTlsInjection && ctx.replies) return done(ctx.replies.refuse(Replies.pipelinedAfterStartTls, true));
    done();
  }

  onMailFrom(address: SMTPServerAddress, session: SMTPServerSession, done: Done): void {
    const ctx = this.deps.context(session.id);
    if (!ctx?.replies) return done(this.withoutContext());
    this.mailFrom(ctx, address, session).then(
      (reply) => {
        if (!reply) return done();
        this.deps.metrics?.transaction(ctx.listener.name, 'refused');
        done(ctx.replies!.refuse(reply, reply.code === 421));
      },
      (err: unknown) => this.failed(ctx, err, done),
    );
  }

  onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, done: Done): void {
    const ctx = this.deps.context(session.id);
    if (!ctx?.replies) return done(this.withoutContext());
    this.rcptTo(ctx, address).then(
      (reply) => (reply ? done(ctx.replies!.refuse(reply, reply.code === 421)) : done()),
      (err: unknown) => this.failed(ctx, err, done),
    );
  }

  onData(stream: SMTPServerDataStream, session: SMTPServerSession, done: (err?: Error | null, message?: string) => void): void {
    const ctx = this.deps.context(session.id);
    const tx = ctx?.transaction;
    if (!ctx?.replies) {
      stream.resume();
      return done(this.withoutContext());
    }
    if (!tx) {
      stream.resume();
      return done(ctx.replies.refuse(Replies.noTransaction));
    }
    ctx.transaction = null;
    receiveData(this.deps, ctx, tx, session, stream).then(
      (outcome) => {
        this.deps.metrics?.transaction(ctx.listener.name, outcome.kind === 'reply' ? transactionOutcome(outcome.reply) : outcome.refused ? 'refused' : 'abandoned');
        this.observe(ctx, tx.at.getTime(), outcome.kind === 'reply' && outcome.reply.code < 400 ? 'accepted' : 'refused', tx.mailFrom, tx.mailDecision, tx.recipients.map((r) => r.decision));
        if (outcome.kind === 'closed') return; // the reply went out already and the connection is closing
        if (outcome.reply.code >= 400) return done(ctx.replies!.refuse(outcome.reply));
        ctx.replies!.expect(outcome.reply);
        done(null, `${outcome.reply.enhanced} ${outcome.reply.text}`);
      },
      (err: unknown) => {
        this.deps.metrics?.transaction(ctx.listener.name, 'deferred');
        this.observe(ctx, tx.at.getTime(), 'refused', tx.mailFrom, tx.mailDecision, tx.recipients.map((r) => r.decision));
        done(ctx.replies!.refuse(sessionFailure(this.deps, err, ctx)));
      },
    );
  }

  /** The connection is gone: an unfinished transaction's accepts are still recorded. */
  finish(ctx: ConnectionContext): void {
    if (ctx.transaction) this.recordUnfinished(ctx, ctx.transaction);
    ctx.transaction = null;
  }

  private async mailFrom(ctx: ConnectionContext, address: SMTPServerAddress, session: SMTPServerSession): Promise<SmtpReply | null> {
    if (ctx.errors >= this.deps.limits.maxErrors) return Replies.tooManyErrors;
    if (ctx.transaction) this.recordUnfinished(ctx, ctx.transaction);
    ctx.transaction = null;
    // This command's own parameter: smtp-server keeps envelope.smtpUtf8 from a refused MAIL FROM.
    const smtputf8 = address.args !== false && address.args['SMTPUTF8'] === true;
    const malformed = addressBytesReply(ctx.commandLine, 'sender', smtputf8);
    if (malformed) {
      ctx.errors++;
      return malformed;
    }
    const at = this.deps.clock.now();
    const number = ++ctx.trace.transactions;
    const helo = heloOf(session);
    const decision = await this.deps.policy.evaluate({ connection: connectionFacts(ctx), message: { mailFrom: address.address, recipients: [] }, at });
    if (decision.mailFromReply) {
      const events = [
        ...connectedEvents(ctx, helo, decision, at.getTime()),
        refusedEvent({ ctx, tx: { number, mailFrom: address.address }, at: at.getTime(), stage: 'mail', decision, recipient: null, reply: decision.mailFromReply }),
      ];
      if (this.deps.decisions.mailFrom({ at: at.getTime(), sessionId: ctx.id, clientIp: ctx.ip, mailFrom: address.address }, decision, decision.mailFromReply, events)) {
        ctx.trace.connected = true;
      }
      this.observe(ctx, at.getTime(), 'refused', decision.mailFrom, decision, []);
      ctx.errors++;
      return decision.mailFromReply;
    }
    const env = session.envelope;
    const ret = env.dsn?.ret?.toUpperCase();
    ctx.transaction = {
      at,
      number,
      helo,
      // The sender as the engine judged it, not smtp-server's decoding: what is decided is what goes out.
      mailFrom: decision.mailFrom ?? address.address,
      envId: env.dsn?.envid ?? null,
      ret: ret === 'FULL' || ret === 'HDRS' ? ret : null,
      bodyType: env.bodyType ?? null,
      smtputf8,
      mailDecision: decision,
      recipients: [],
      unrecordedAccepts: [],
    };
    ctx.bareLineEndings = await this.deps.policy.bareLineEndings(decision.tenant, decision.connector);
    ctx.replies!.expect(Replies.senderOk);
    return null;
  }

  private async rcptTo(ctx: ConnectionContext, address: SMTPServerAddress): Promise<SmtpReply | null> {
    const tx = ctx.transaction;
    if (!tx) return Replies.temporaryFailure;
    if (ctx.errors >= this.deps.limits.maxErrors) return Replies.tooManyErrors;
    const malformed = addressBytesReply(ctx.commandLine, 'recipient', tx.smtputf8);
    if (malformed) {
      ctx.errors++;
      return malformed;
    }
    const given = address.address.toLowerCase();
    const known = tx.recipients.findIndex((r) => r.address.toLowerCase() === given);
    if (known < 0 && tx.recipients.length >= this.deps.limits.maxRecipients) {
      ctx.errors++;
      return Replies.tooManyRecipients;
    }
    // A repeated RCPT to an SRS address accepted in this transaction keeps the return it counted.
    const repeated = tx.recipients.find((t) => t.srsReturn !== null && t.decision.address.toLowerCase() === given)?.srsReturn ?? null;
    const srs = repeated ?? (await this.deps.srsReturns?.establish(address.address, ctx.ip, tx.at.getTime())) ?? null;
    const decision = await this.deps.policy.evaluate({
      connection: connectionFacts(ctx),
      message: {
        mailFrom: tx.mailFrom,
        recipients: [address.address],
        ...(srs ? { srsReturns: { [address.address]: srs.fact } } : {}),
      },
      at: tx.at,
    });
    const r = decision.recipients[0];
    const limited = !r || r.verdict === 'rejected' ? null : ((await this.deps.admitRecipient?.(r)) ?? null);
    const returned = r !== undefined && r.verdict !== 'rejected' && limited === null && r.rule === 'srs-return';
    if (srs && !repeated) await this.deps.srsReturns?.settle(srs, returned, ctx.ip, tx.at.getTime());
    if (!r) return Replies.temporaryFailure;
    if (r.verdict === 'rejected' || limited) {
      const recorded: RecipientDecision = limited
        ? { ...r, verdict: 'rejected', reply: limited.reply, explanation: `Accepted by the policy, refused by a tenant limit: ${limited.reason}` }
        : r;
      const at = tx.at.getTime();
      const events = [
        ...connectedEvents(ctx, tx.helo, decision, at),
        refusedEvent({ ctx, tx, at, stage: 'rcpt', decision, recipient: recorded, reply: recorded.reply, ...(limited ? { reason: 'tenant-limit' } : {}) }),
      ];
      if (this.deps.decisions.recipient({ at, sessionId: ctx.id, clientIp: ctx.ip, mailFrom: tx.mailFrom }, decision, recorded, null, events)) ctx.trace.connected = true;
      this.observe(ctx, tx.at.getTime(), 'refused', tx.mailFrom, decision, [recorded]);
      ctx.errors++;
      return recorded.reply;
    }
    const entry: TransactionRecipient = {
      // A returning bounce is queued for the original sender the SRS address stands for; any other
      // recipient as the engine judged it (its domain in canonical A-label form).
      address: returned && srs?.fact.original ? srs.fact.original : r.address,
      notify: address.dsn?.notify?.length ? address.dsn.notify.join(',') : null,
      orcpt: address.dsn?.orcpt ?? null,
      decision: r,
      transaction: decision,
      srsReturn: returned ? srs : null,
    };
    // Two spellings of one mailbox (`a@ＣＯＮＴＯＳＯ.example`, `a@contoso.example`) are one recipient.
    const same = (t: TransactionRecipient): boolean => t.address.toLowerCase() === entry.address.toLowerCase();
    const existing = tx.recipients.findIndex(same);
    // A replaced bounce entry that counted a return of its own gives it back.
    const replaced = existing >= 0 ? tx.recipients[existing]!.srsReturn : null;
    if (replaced && replaced !== entry.srsReturn) this.deps.srsReturns?.release([replaced.reservation]);
    if (existing >= 0) tx.recipients[existing] = entry;
    else tx.recipients.push(entry);
    tx.unrecordedAccepts = tx.unrecordedAccepts.filter((u) => !same(u));
    tx.unrecordedAccepts.push(entry);
    ctx.replies!.expect(r.reply);
    return null;
  }

  /** A transaction that ends without a queued message: its accepts are logged, its counted returns given back. */
  private recordUnfinished(ctx: ConnectionContext, tx: Transaction): void {
    this.deps.metrics?.transaction(ctx.listener.name, tx.recipients.length > 0 ? 'abandoned' : 'refused');
    if (tx.recipients.length > 0) this.observe(ctx, tx.at.getTime(), 'abandoned', tx.mailFrom, tx.mailDecision, tx.recipients.map((r) => r.decision));
    this.deps.srsReturns?.release(tx.recipients.map((r) => r.srsReturn?.reservation ?? null));
    for (const r of tx.unrecordedAccepts) {
      this.deps.decisions.recipient({ at: tx.at.getTime(), sessionId: ctx.id, clientIp: ctx.ip, mailFrom: tx.mailFrom }, r.transaction, r.decision, null);
    }
    tx.unrecordedAccepts = [];
  }

  private observe(...args: Parameters<typeof observation>): void {
    this.deps.traffic?.observe(observation(...args));
  }

  private failed(ctx: ConnectionContext, err: unknown, done: Done): void {
    done(ctx.replies!.refuse(sessionFailure(this.deps, err, ctx)));
  }

  /** The listener registered no context for this session: a bug of ours, answered like any other. */
  private withoutContext(): Error {
    return libraryRefusal(sessionFailure(this.deps, new RelaygateError('internal', 'no session context'), undefined));
  }
}

/** A transaction's end by the reply to its DATA. */
function transactionOutcome(reply: SmtpReply): 'accepted' | 'refused' | 'deferred' {
  return reply.code >= 500 ? 'refused' : reply.code >= 400 ? 'deferred' : 'accepted';
}

/** OpenSSL's verify code as Node reports it (a string at run time, typed as an Error). */
function reasonOf(error: unknown): string | undefined {
  if (!error) return undefined;
  if (typeof error === 'string') return error;
  if (error instanceof Error) return (error as Error & { code?: string }).code ?? error.message;
  return String(error);
}
