/**
 * Durable acceptance (architecture.md, Storage): the stamped message is streamed into a new body,
 * the body is synced, then committed (findable after a crash) together with its rows in a
 * group-commit round; only then may the session answer `250 2.0.0 OK <id>`. Any failure on the way
 * removes the body and surfaces as a StorageError (the session answers `451 4.3.0`).
 */
import { errorCodeOf, RelaygateError } from '../core/errors.js';
import type { AcceptedMessage, BodyStore, BodyWriter, DecisionRecord } from '../store/ports.js';
import type { GroupCommitter } from './accept-group-commit.js';
import type { AcceptMetrics } from '../core/metrics-recorder.js';
import type { TraceEvent } from '../trace/events.js';

/**
 * The client gets `451 4.3.0` for this (`452 4.3.1` when the store said its disk is full); nothing
 * of the message remains.
 */
export class StorageError extends RelaygateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(errorCodeOf(options?.cause) === 'store-full' ? 'store-full' : 'store-unavailable', message, options);
    this.name = 'StorageError';
  }
}

export type MessageEnvelope = Omit<AcceptedMessage, 'size'>;

export class MessageAcceptor {
  constructor(
    private readonly bodies: BodyStore,
    private readonly committer: GroupCommitter,
    /** Told after each message became durable (delivery starts a pass instead of waiting to poll). */
    private readonly onAccepted: (message: AcceptedMessage) => void = () => undefined,
    /** Told how long each message took from the end of its data to durable (the 250). */
    private readonly metrics?: AcceptMetrics,
    /** Told the trace events handed to the store: a message's once it is durable, refusals as they are recorded. */
    private readonly onTraced: (events: readonly TraceEvent[]) => void = () => undefined,
  ) {}

  /** A fresh body for the message with this queue id. */
  async open(queueId: string): Promise<BodyWriter> {
    try {
      return await this.bodies.create(queueId);
    } catch (err) {
      throw new StorageError(`cannot create the spool file of ${queueId}: ${describe(err)}`, { cause: err });
    }
  }

  /**
   * Makes the written message durable with its envelope (and the decisions that let it in and its
   * trace, in the same transaction); resolves only once it is. On failure nothing of it remains.
   * `events` are given the message's size once it is known.
   */
  async accept(
    body: BodyWriter, envelope: MessageEnvelope, decisions: readonly DecisionRecord[] = [], events: (message: AcceptedMessage) => readonly TraceEvent[] = () => [],
  ): Promise<AcceptedMessage> {
    const message: AcceptedMessage = { ...envelope, size: body.bytes };
    const started = performance.now();
    const trace = events(message);
    try {
      await body.sync();
      await this.committer.commitMessage(message, body, decisions, trace);
    } catch (err) {
      await body.discard();
      throw new StorageError(`cannot store message ${envelope.id}: ${describe(err)}`, { cause: err });
    }
    this.metrics?.accepted((performance.now() - started) / 1000);
    this.onTraced(trace);
    this.onAccepted(message);
    return message;
  }

  /** The message will not be accepted (refused, client gone): remove what was written. */
  async abandon(body: BodyWriter): Promise<void> {
    await body.discard();
  }

  /** Decisions and trace events with no message of their own (refusals): written with the next round. */
  recordDecisions(decisions: readonly DecisionRecord[], events: readonly TraceEvent[] = []): void {
    this.committer.recordDecisions(decisions, events);
    this.onTraced(events);
  }

  get stats() {
    return this.committer.stats;
  }

  drain(): Promise<void> {
    return this.committer.drain();
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
