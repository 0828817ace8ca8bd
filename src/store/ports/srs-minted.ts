/** A rewritten envelope sender delivery used for a message relayed to outside recipients. */
export interface MintedSrsAddress {
  /** The SRS address as sent; the store compares it without regard to case. */
  address: string;
  messageId: string;
  /** How many outside (relayed) recipients the message has: its returns are bounded by it. */
  outsideRecipients: number;
  /** Epoch milliseconds. */
  at: number;
}

/** What the store knew of an SRS address when a bounce to it asked for one return. */
export interface SrsReturnReservation {
  /** A message was relayed with exactly this sender, minted at or after `since`. */
  recorded: boolean;
  /** Returns that were still allowed before this call (0: the allowance is used up). */
  returnsLeft: number;
  /** The message this return was counted against; null when none was counted. */
  messageId: string | null;
}

/**
 * The SRS addresses delivery minted, each with its message: a bounce to an SRS address is honoured
 * only if it is recorded here, and a bounded number of times. Rows older than the SRS age are pruned.
 */
export interface SrsMintedStore {
  /** Records (or refreshes) that `address` was the envelope sender of the message. Idempotent. */
  record(minted: MintedSrsAddress): Promise<void>;
  /**
   * Counts one return to `address` against a message minted with it at or after `since` that has
   * fewer than `returnsPerRecipient` × its outside recipients returns: atomic, so two callers never
   * both take the last one. Nothing is counted when none is left.
   */
  reserveReturn(address: string, since: number, returnsPerRecipient: number): Promise<SrsReturnReservation>;
  /** Gives back a return counted by `reserveReturn` whose bounce was not accepted after all. */
  releaseReturn(messageId: string): Promise<void>;
  /** Forgets addresses minted before `before` (and messages with none left); returns how many addresses. */
  prune(before: number): Promise<number>;
}
