import type { AcceptStore, AcceptedMessage, BodyWriter, DecisionRecord } from '../store/ports.js';
import type { TraceEvent } from '../trace/events.js';

interface PendingMessage {
  message: AcceptedMessage;
  /** The decisions that let it in: committed with it, or not at all (the session records them then). */
  decisions: readonly DecisionRecord[];
  /** Its trace (the connection, received, queued): committed with it too. */
  events: readonly TraceEvent[];
  /** Synced already; committed (made findable after a crash) in the round, before the rows. */
  body: BodyWriter;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface GroupCommitStats {
  /** Commit rounds (one transaction and one fsync round each). */
  rounds: number;
  messages: number;
  decisions: number;
  /** Trace events committed. */
  events: number;
  /** Rounds whose batch transaction failed and fell back to one transaction per message. */
  fallbacks: number;
}

/**
 * Group commit: messages (whose bodies are already synced) wait here until the current round is
 * over; the next round then commits their bodies together (the body store shares one flush per
 * directory among them) and every waiting message and decision in ONE transaction. Concurrent
 * sessions thus share the fsyncs, and none of them gets its 250 before its own row is durable.
 */
export class GroupCommitter {
  private pendingMessages: PendingMessage[] = [];
  private pendingDecisions: DecisionRecord[] = [];
  private pendingEvents: TraceEvent[] = [];
  /** The round being committed, if any. */
  private inFlight: Promise<void> | null = null;
  private scheduled = false;
  private timer: NodeJS.Timeout | null = null;
  readonly stats: GroupCommitStats = { rounds: 0, messages: 0, decisions: 0, events: 0, fallbacks: 0 };

  constructor(
    private readonly store: AcceptStore,
    private readonly onDecisionLoss: (err: unknown, lost: number) => void = () => undefined,
    /** Upper bound of decisions held in memory when storage keeps failing. */
    private readonly maxPendingDecisions = 100_000,
    /** Decisions alone wait this long for company, so a flood of refusals is not an fsync each. */
    private readonly decisionDelayMs = 50,
  ) {}

  /**
   * Resolves once the message's body and rows are durable. Its decisions and trace events are
   * written in the same transaction.
   */
  commitMessage(message: AcceptedMessage, body: BodyWriter, decisions: readonly DecisionRecord[] = [], events: readonly TraceEvent[] = []): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pendingMessages.push({ message, decisions, events, body, resolve, reject });
      this.schedule(true);
    });
  }

  /** Decisions (and the trace events that go with them) ride along with the next round; nobody waits for them. */
  recordDecisions(decisions: readonly DecisionRecord[], events: readonly TraceEvent[] = []): void {
    if (decisions.length === 0 && events.length === 0) return;
    if (this.pendingDecisions.length + this.pendingEvents.length + decisions.length + events.length > this.maxPendingDecisions) {
      this.onDecisionLoss(new Error('decision backlog full'), decisions.length);
      return;
    }
    this.pendingDecisions.push(...decisions);
    this.pendingEvents.push(...events);
    this.schedule(false);
  }

  /**
   * Resolves once everything handed in so far is committed (or failed): it waits for the round in
   * flight and runs what is still waiting at once, without the decision delay.
   */
  async drain(): Promise<void> {
    while (this.inFlight || this.pendingMessages.length > 0 || this.pendingDecisions.length > 0 || this.pendingEvents.length > 0) {
      await (this.inFlight ?? this.round());
    }
  }

  /** `urgent`: a session waits for its 250, run the next round at once. */
  private schedule(urgent: boolean): void {
    if (this.inFlight || this.scheduled) return;
    if (!urgent) {
      this.timer ??= setTimeout(() => {
        this.timer = null;
        this.schedule(true);
      }, this.decisionDelayMs);
      return;
    }
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.round();
    });
  }

  /** Commits everything pending in one round; the round in flight instead, if there is one. */
  private round(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.pendingMessages.length === 0 && this.pendingDecisions.length === 0 && this.pendingEvents.length === 0) return Promise.resolve();
    const messages = this.pendingMessages;
    const decisions = this.pendingDecisions;
    const events = this.pendingEvents;
    this.pendingMessages = [];
    this.pendingDecisions = [];
    this.pendingEvents = [];
    this.inFlight = this.commitRound(messages, { decisions, events }).finally(() => {
      this.inFlight = null;
      if (this.pendingMessages.length) this.schedule(true);
      else if (this.pendingDecisions.length || this.pendingEvents.length) this.schedule(false);
    });
    return this.inFlight;
  }

  private async commitRound(messages: PendingMessage[], loose: { decisions: DecisionRecord[]; events: TraceEvent[] }): Promise<void> {
    const synced = await this.commitBodies(messages);
    this.stats.rounds++;
    const decisions = [...loose.decisions, ...synced.flatMap((p) => p.decisions)];
    const events = [...loose.events, ...synced.flatMap((p) => p.events)];
    const anyLoose = loose.decisions.length > 0 || loose.events.length > 0;
    try {
      await this.store.commit({ messages: synced.map((p) => p.message), decisions, events });
      this.stats.messages += synced.length;
      this.stats.decisions += decisions.length;
      this.stats.events += events.length;
      for (const p of synced) p.resolve();
      return;
    } catch (err) {
      if (synced.length + (anyLoose ? 1 : 0) <= 1) {
        for (const p of synced) p.reject(err);
        if (anyLoose) this.onDecisionLoss(err, loose.decisions.length);
        return;
      }
    }
    // One bad row must not fail the others: retry each message with its decisions on its own.
    this.stats.fallbacks++;
    for (const p of synced) {
      try {
        await this.store.commit({ messages: [p.message], decisions: [...p.decisions], events: p.events });
        this.stats.messages++;
        this.stats.decisions += p.decisions.length;
        this.stats.events += p.events.length;
        p.resolve();
      } catch (err) {
        p.reject(err);
      }
    }
    if (anyLoose) {
      try {
        await this.store.commit({ messages: [], decisions: loose.decisions, events: loose.events });
        this.stats.decisions += loose.decisions.length;
        this.stats.events += loose.events.length;
      } catch (err) {
        this.onDecisionLoss(err, loose.decisions.length);
      }
    }
  }

  /** Commits every body of the round at once (so they share flushes); a failed one fails its message. */
  private async commitBodies(messages: PendingMessage[]): Promise<PendingMessage[]> {
    const results = await Promise.allSettled(messages.map((p) => p.body.commit()));
    const ok: PendingMessage[] = [];
    results.forEach((r, i) => {
      const p = messages[i]!;
      if (r.status === 'fulfilled') ok.push(p);
      else p.reject(r.reason);
    });
    return ok;
  }
}
