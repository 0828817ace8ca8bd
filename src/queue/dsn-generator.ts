/**
 * Turns owed failure DSNs and due delay notices into queued DSN messages (kind 'dsn', null sender,
 * addressed to the original sender), per RFC 3464 via dsn.ts. Never for a null sender or
 * a DSN; NOTIFY decides per recipient (rules: states.ts, rule 5).
 */
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { domainOf, domainPartOf } from '../core/address.js';
import type { Clock } from '../core/clock.js';
import { parseReply, Replies } from '../core/reply.js';
import { buildDsn, dsnWanted, type DsnKind, type DsnRecipient } from './dsn.js';
import type { BodyStore, DeliveryQueue, MessageWork, QueuedMessage } from '../store/ports.js';
import { newQueueId } from './queue-id.js';
import { expiresAt, type RetryPolicies } from './retry-schedule.js';
import { enhancedCode, messageContext } from './delivery-trace.js';
import type { DsnQueuedEvent, TraceEvent } from '../trace/events.js';

export interface DsnGeneratorDeps {
  queue: DeliveryQueue;
  bodies: BodyStore;
  clock: Clock;
  hostname: string;
  policies: RetryPolicies;
  log?: (message: string) => void;
  /** Told the trace events of each DSN queued (serve logs them). */
  onTraced?: (events: readonly TraceEvent[]) => void;
}

/** Whether a failed recipient is owed a DSN: never for a null sender or a DSN, else per NOTIFY. */
export function failureDsnStatus(message: Pick<QueuedMessage, 'mailFrom' | 'kind'>, notify: string | null): 'owed' | 'suppressed' {
  if (message.mailFrom === '' || message.kind === 'dsn') return 'suppressed';
  return dsnWanted('failure', notify) ? 'owed' : 'suppressed';
}

const BATCH = 200;
const MAX_ROUNDS = 50;

export class DsnGenerator {
  constructor(private readonly deps: DsnGeneratorDeps) {}

  /** Queues every owed failure DSN and due delay notice; returns how many DSNs were queued. */
  async run(): Promise<number> {
    let queued = 0;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const works = await this.deps.queue.owedDsns(BATCH);
      if (works.length === 0) break;
      for (const w of works) queued += await this.send('failure', w);
    }
    const now = this.deps.clock.now().getTime();
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const works = await this.deps.queue.delayNoticesDue(now - this.deps.policies.minDelayNoticeAfterMs(), BATCH);
      const due = works.filter((w) => now >= w.message.receivedAt + this.deps.policies.for(w.message.tenant).delayNoticeAfterMs);
      if (due.length === 0) break;
      for (const w of due) queued += await this.send('delay', w);
    }
    return queued;
  }

  private async send(kind: DsnKind, work: MessageWork): Promise<number> {
    const { message } = work;
    const wanted = work.recipients.filter((r) => message.mailFrom !== '' && message.kind !== 'dsn' && dsnWanted(kind, r.notify));
    const suppressed = work.recipients.filter((r) => !wanted.includes(r)).map((r) => r.id);
    if (wanted.length === 0) {
      await this.deps.queue.enqueueDsn(null, [], kind, suppressed);
      return 0;
    }
    const now = this.deps.clock.now().getTime();
    let original: Buffer;
    try {
      const body = await this.deps.bodies.open(message.id);
      if (!body) throw new Error('no body');
      original = await buffer(body);
    } catch (err) {
      // The body is gone (deleted by hand): the DSN still tells the sender, without the content.
      this.deps.log?.(`DSN for ${message.id}: original unreadable: ${err instanceof Error ? err.message : String(err)}`);
      original = Buffer.from(`X-Relaygate-Note: the original message could not be read\r\n\r\n`);
    }
    const recipients: DsnRecipient[] = wanted.map((r) => ({
      address: r.address,
      orcpt: r.orcpt,
      reply: r.lastReply === null ? Replies.noReplyRecorded : parseReply(r.lastReply),
      remoteMta: r.lastRemoteMta,
      lastAttemptAt: r.lastAttemptAt,
    }));
    const policy = this.deps.policies.for(message.tenant);
    const content = buildDsn({
      kind,
      reportingMta: this.deps.hostname,
      queueId: message.id,
      originalSender: message.mailFrom,
      envId: message.envId,
      ret: message.ret,
      arrivalDate: message.receivedAt,
      willRetryUntil: kind === 'delay' ? expiresAt(policy, message.receivedAt) : null,
      recipients,
      original,
      now,
    });
    const id = newQueueId(new Date(now));
    const body = await this.deps.bodies.create(id);
    try {
      await pipeline(Readable.from([content]), body.writable());
      await body.sync();
      await body.commit();
    } catch (err) {
      await body.discard();
      throw err;
    }
    const senderDomain = domainOf(message.mailFrom) ?? domainPartOf(message.mailFrom).toLowerCase();
    // Under the original message's queue id, one per recipient reported on: its story ends with the DSN.
    const events = wanted.map((r): DsnQueuedEvent => ({
      ...messageContext(now, work, r.address),
      status: kind === 'failure' ? 'Failed' : 'Deferred',
      reason: enhancedCode(r.lastReply),
      kind: 'dsn-queued',
      dsnKind: kind,
      dsnQueueId: id,
      notified: message.mailFrom,
    }));
    const queued = this.deps.queue.enqueueDsn(
      {
        message: {
          id, kind: 'dsn', outsideRecipients: 0, tenantId: message.tenantId, tenant: message.tenant, attribution: message.attribution, directionality: 'Originating',
          mailFrom: '', envId: null, ret: null,
          bodyType: content.some((b) => b > 127) ? '8BITMIME' : null,
          smtputf8: /[^\x00-\x7f]/.test(message.mailFrom),
          size: content.length, headerFrom: `MAILER-DAEMON@${this.deps.hostname}`, receivedAt: now,
        },
        recipients: [{ address: message.mailFrom, domain: senderDomain }],
      },
      wanted.map((r) => r.id),
      kind,
      suppressed,
      events,
    );
    // Not queued: the body would be an orphan.
    await queued.catch(async (err: unknown) => {
      await this.deps.bodies.delete([id]).catch(() => undefined);
      throw err;
    });
    this.deps.onTraced?.(events);
    return 1;
  }
}
