/**
 * Durable acceptance (architecture.md, Storage): the stamped message is streamed into a spool
 * file, the file is fsynced, its directory entry fsynced and the rows committed in a group-commit
 * round; only then may the session answer `250 2.0.0 OK <id>`. Any failure on the way removes the
 * file and surfaces as a StorageError (the session answers `451 4.3.0`).
 */
import type { GroupCommitter } from './accept-group-commit.js';
import type { Spool, SpoolFile } from './accept-spool.js';
import { StorageError, type AcceptedMessage, type DecisionRecord } from './accept-types.js';

export type MessageEnvelope = Omit<AcceptedMessage, 'spoolPath' | 'size'>;

export class MessageAcceptor {
  constructor(
    readonly spool: Spool,
    private readonly committer: GroupCommitter,
    /** Told after each message became durable (delivery starts a pass instead of waiting to poll). */
    private readonly onAccepted: (message: AcceptedMessage) => void = () => undefined,
  ) {}

  /** A fresh spool file for the message with this queue id. */
  async open(queueId: string): Promise<SpoolFile> {
    try {
      return await this.spool.create(queueId);
    } catch (err) {
      throw new StorageError(`cannot create the spool file of ${queueId}: ${describe(err)}`, { cause: err });
    }
  }

  /**
   * Makes the written message durable with its envelope (and the decisions that let it in, in
   * the same transaction); resolves only once it is. On failure nothing of it remains.
   */
  async accept(file: SpoolFile, envelope: MessageEnvelope, decisions: readonly DecisionRecord[] = []): Promise<AcceptedMessage> {
    const message: AcceptedMessage = { ...envelope, spoolPath: file.relativePath, size: file.bytes };
    try {
      await file.finish();
      await this.committer.commitMessage(message, file.directory, decisions);
    } catch (err) {
      await file.discard();
      throw new StorageError(`cannot store message ${envelope.id}: ${describe(err)}`, { cause: err });
    }
    this.onAccepted(message);
    return message;
  }

  /** The message will not be accepted (refused, client gone): remove what was written. */
  async abandon(file: SpoolFile): Promise<void> {
    await file.discard();
  }

  recordDecisions(decisions: readonly DecisionRecord[]): void {
    this.committer.recordDecisions(decisions);
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
