/**
 * One delivery attempt for a group of messages sharing a next hop: the hosts are tried in order
 * (RFC 5321 §5: other MX hosts before deferring); each open session carries the messages one
 * transaction each; what a host or connection failure leaves undelivered moves on to the next host.
 */
import type { OnTransaction } from '../core/courier.js';
import type { AttemptFacts, DeliveryFailure, Job, RecipientResult } from '../core/envelope.js';
import { DeliveryError, LocalFailures } from './outcome.js';
import type { PreparedContent, PreparedMessage } from './prepare.js';
import type { HopTarget } from './routing.js';
import { SmtpSession, type ClientSettings, type OutboundMessage } from './smtp-client.js';
import type { Throttle } from './throttle.js';

/** A job with its message as it goes on the wire (sender after SRS, content after DKIM). */
export interface PreparedJob extends Job {
  prepared: PreparedMessage;
  /** This transaction's envelope sender (PreparedMessage.senderFor its recipients). */
  from: string;
  /** This transaction's content (PreparedMessage.contentFor its recipients). */
  content: PreparedContent;
}

export interface AttemptSettings {
  client: ClientSettings;
  throttle: Throttle;
  /** Most hosts (addresses) tried in one attempt (Postfix: smtp_mx_address_limit = 5). */
  maxHosts?: number;
  /** Most messages sent over one connection before it is closed. */
  maxMessagesPerConnection?: number;
}

function outbound(job: PreparedJob): OutboundMessage {
  return {
    mailFrom: job.from,
    recipients: job.recipients.map((r) => ({ address: r.address, notify: r.notify, orcpt: r.orcpt })),
    envId: job.message.envId,
    ret: job.message.ret,
    bodyType: job.message.bodyType,
    smtputf8: job.message.smtputf8,
    size: job.message.size,
    open: job.content.open,
  };
}

/** `onTransaction` is told after each SMTP transaction that gave a job's recipients their final results. */
export async function attemptDelivery(
  destination: string,
  hops: readonly HopTarget[],
  jobs: readonly PreparedJob[],
  settings: AttemptSettings,
  onTransaction?: OnTransaction,
): Promise<Map<number, RecipientResult>> {
  const results = new Map<number, RecipientResult>();
  const lastFailure = new Map<PreparedJob, { failure: DeliveryFailure; host: string | null; attempt: AttemptFacts }>();
  const started = performance.now();
  // What the trace keeps of the attempt: the host and address talked to, the TLS used, the time taken.
  const facts = (hop: HopTarget | null, session: SmtpSession | null): AttemptFacts => ({
    host: hop?.name ?? null,
    address: hop?.address ?? null,
    tls: session?.tlsDescription ?? null,
    durationMs: Math.round(performance.now() - started),
  });
  const setAll = (job: PreparedJob, r: RecipientResult): void => {
    for (const rc of job.recipients) results.set(rc.id, r);
  };
  const maxPerConnection = Math.max(1, settings.maxMessagesPerConnection ?? 100);
  let pending = [...jobs];

  for (const hop of hops.slice(0, settings.maxHosts ?? 5)) {
    // Jobs not yet tried on this host; a session takes up to maxPerConnection of them, then the
    // host is connected to again for the rest. What fails at host level waits for the next host.
    let untried = pending;
    const nextHost: PreparedJob[] = [];
    for (let round = 0; untried.length > 0 && round <= jobs.length; round++) {
      const slot = settings.throttle.acquireConnection(destination);
      if (!slot.ok) {
        for (const job of [...untried, ...nextHost]) setAll(job, { kind: 'throttled', retryAt: slot.retryAt, text: slot.text });
        return results;
      }
      try {
        let session: SmtpSession;
        try {
          session = await SmtpSession.open(hop, settings.client);
        } catch (err) {
          if (!(err instanceof DeliveryError)) throw err;
          for (const job of untried) lastFailure.set(job, { failure: err.failure, host: null, attempt: facts(hop, null) });
          nextHost.push(...untried);
          untried = [];
          break;
        }
        try {
          const batch = untried.slice(0, maxPerConnection);
          untried = untried.slice(maxPerConnection);
          for (const [i, job] of batch.entries()) {
            if (!session.isUsable) {
              // The connection broke: the rest of the batch is tried again on a new connection.
              untried = [...batch.slice(i), ...untried];
              break;
            }
            const admitted = settings.throttle.admitMessage(destination, job.message.tenant);
            if (!admitted.ok) {
              setAll(job, { kind: 'throttled', retryAt: admitted.retryAt, text: admitted.text });
              continue;
            }
            const result = await session.send(outbound(job));
            if (result.hostFailure) {
              const failed = { failure: result.hostFailure, host: result.hostFailure.remote ? hop.name : null, attempt: facts(hop, session) };
              lastFailure.set(job, failed);
              nextHost.push(job);
              if (session.timedOut) {
                // A host that ran out of time once would only do it again, a connection each: the
                // rest of its share moves on to the next host (or is deferred) with the same reason.
                const rest = [...batch.slice(i + 1), ...untried];
                for (const j of rest) lastFailure.set(j, failed);
                nextHost.push(...rest);
                untried = [];
                break;
              }
              continue;
            }
            const attempt = facts(hop, session);
            for (const rc of job.recipients) {
              const r = result.recipients.get(rc.address);
              if (!r) results.set(rc.id, { kind: 'failed', failure: LocalFailures.connection(hop.name, 'no reply for this recipient'), host: null, attempt });
              else if (r.ok) results.set(rc.id, { kind: 'delivered', reply: r.reply, host: hop.name, attempt });
              else results.set(rc.id, { kind: 'failed', failure: r.failure, host: r.failure.remote ? hop.name : null, attempt });
            }
            await onTransaction?.(job, results);
          }
        } finally {
          session.close();
        }
      } finally {
        slot.slot.release();
      }
    }
    pending = [...nextHost, ...untried];
    if (pending.length === 0) break;
  }
  for (const job of pending) {
    const last = lastFailure.get(job) ?? { failure: LocalFailures.noAddress(`${destination} (no host could be tried)`), host: null, attempt: facts(null, null) };
    setAll(job, { kind: 'failed', failure: last.failure, host: last.host, attempt: last.attempt });
  }
  return results;
}
