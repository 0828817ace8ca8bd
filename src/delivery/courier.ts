/**
 * Delivery's side of the courier port: a hop's jobs go out over SMTP (attempt.ts), each message
 * prepared first (SRS sender, DKIM signature, spool body: prepare.ts). Every recipient gets a
 * result; what cannot be prepared fails with the reason, to be retried or bounced by the queue.
 */
import type { Courier, OnTransaction } from '../core/courier.js';
import type { Job, QueuedEnvelope, RecipientResult } from '../core/envelope.js';
import { attemptDelivery, type AttemptSettings, type PreparedJob } from './attempt.js';
import { DeliveryError, LocalFailures } from './outcome.js';
import { prepareMessage, type PrepareDeps, type PreparedContent, type PreparedMessage } from './prepare.js';
import type { NextHopPlan } from './routing.js';

export class SmtpCourier implements Courier<NextHopPlan> {
  /**
   * A message whose recipients lie on several hops is signed once: the jobs of one message share
   * its object, so a memo keyed by it lasts as long as the pass that claimed it, and no longer.
   */
  private readonly prepared = new WeakMap<QueuedEnvelope, PreparedMessage>();

  constructor(
    private readonly attempt: AttemptSettings,
    private readonly prepare: PrepareDeps,
  ) {}

  async deliver(hop: NextHopPlan, jobs: readonly Job[], onTransaction?: OnTransaction): Promise<ReadonlyMap<number, RecipientResult>> {
    const results = new Map<number, RecipientResult>();
    const ready: PreparedJob[] = [];
    for (const job of jobs) {
      const prepared = this.prepareOnce(job.message);
      let content: PreparedContent;
      try {
        content = await prepared.contentFor(job.recipients);
      } catch (err) {
        const failure = err instanceof DeliveryError ? err.failure : LocalFailures.spoolUnreadable(String(err));
        for (const r of job.recipients) results.set(r.id, { kind: 'failed', failure, host: null });
        continue;
      }
      try {
        ready.push({ ...job, prepared, content, from: await prepared.senderFor(job.recipients) });
      } catch (err) {
        // An SRS sender that could not be recorded is never used: the recipients wait for a retry.
        this.prepare.log?.(`envelope sender of ${job.message.id} not made: ${err instanceof Error ? err.message : String(err)}`);
        for (const r of job.recipients) results.set(r.id, { kind: 'failed', failure: LocalFailures.storeUnavailable(), host: null });
      }
    }
    if (ready.length > 0) {
      for (const [id, r] of await attemptDelivery(hop.destination, hop.hops, ready, this.attempt, onTransaction)) results.set(id, r);
    }
    return results;
  }

  private prepareOnce(message: QueuedEnvelope): PreparedMessage {
    let p = this.prepared.get(message);
    if (!p) {
      p = prepareMessage(message, this.prepare);
      this.prepared.set(message, p);
    }
    return p;
  }
}
