/**
 * The facts of a RCPT to an SRS address of this relay, for the policy engine (which decides):
 * whether delivery's HMAC and age check verify it, whether the minted-address store recorded a
 * relayed message with exactly that sender and how many returns it has left, and how many bounces
 * this source sent lately. Establishing the facts counts one return in the store (atomically, so
 * parallel sessions cannot both take the last one); it is given back when the engine refuses the
 * recipient or the transaction ends without a queued message. Counting at RCPT, not at the commit
 * of the message, is what makes the 250 a promise: a bounce accepted at RCPT is never refused at
 * the end of DATA for an allowance another session took meanwhile.
 */
import { SRS_RETURN_RATE, SRS_RETURNS_PER_OUTSIDE_RECIPIENT } from '../policy/index.js';
import type { SrsReturnFact } from '../policy/types.js';
import type { SrsMintedStore } from '../store/ports.js';
import { SourceRate } from './source-rate.js';

/** Delivery's reverse SRS: the original sender of an SRS address of ours, an error, or null (not ours). */
export type ReverseSrs = (address: string) => { address: string } | { error: string } | null;

export interface SrsReturnFactsDeps {
  reverse: ReverseSrs;
  minted: SrsMintedStore;
  /** How long minted addresses count as recorded (the SRS age). */
  recordAgeMs: number;
  log?: (message: string) => void;
}

/** The fact for the engine and the return it counted (a message id), to keep or give back. */
export interface EstablishedSrsReturn {
  fact: SrsReturnFact;
  reservation: string | null;
}

export class SrsReturnFacts {
  private readonly rate = new SourceRate(SRS_RETURN_RATE.windowMs, SRS_RETURN_RATE.perSource);

  constructor(private readonly deps: SrsReturnFactsDeps) {}

  /** null when the address is not an SRS address of our rewrite domains (judged as any address). */
  async establish(address: string, sourceIp: string, at: number): Promise<EstablishedSrsReturn | null> {
    const verified = this.deps.reverse(address);
    if (verified === null) return null;
    const recentFromSource = this.rate.count(sourceIp, at);
    if ('error' in verified) return { fact: { original: null, recorded: false, returnsLeft: 0, recentFromSource }, reservation: null };
    const counted = await this.deps.minted.reserveReturn(address, at - this.deps.recordAgeMs, SRS_RETURNS_PER_OUTSIDE_RECIPIENT);
    return {
      fact: { original: verified.address, recorded: counted.recorded, returnsLeft: counted.returnsLeft, recentFromSource },
      reservation: counted.messageId,
    };
  }

  /** After the decision: an accepted return counts toward the source's rate; a refused one gives its return back. */
  async settle(established: EstablishedSrsReturn, accepted: boolean, sourceIp: string, at: number): Promise<void> {
    if (accepted) {
      this.rate.add(sourceIp, at);
      return;
    }
    if (established.reservation !== null) await this.deps.minted.releaseReturn(established.reservation);
  }

  /** The transaction ended without queuing its bounces: their returns are given back. */
  release(reservations: ReadonlyArray<string | null>): void {
    for (const id of reservations) {
      if (id === null) continue;
      this.deps.minted.releaseReturn(id).catch((err: unknown) => {
        this.deps.log?.(`an SRS return counted for ${id} could not be given back: ${err instanceof Error ? err.message : String(err)}`);
      });
    }
  }
}
