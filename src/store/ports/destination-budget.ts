/**
 * A destination's budget, shared by every node on one store (a node is a lease owner, its node id):
 * how many connections all of them together may have open to it, and how many messages they may send
 * it per window. Destinations are `NextHop.destination` names (a route's host, a recipient domain).
 * Times are epoch milliseconds.
 *
 * Connection slots are leased like recipients: a node takes its share before it connects, renews it
 * with its queue leases while it delivers, and gives it back when it is done with the destination; a
 * node that dies holds its share until the lease runs out. Messages are counted per window in one
 * atomic step, like the quota counters, so no two nodes count past the limit between them.
 */
export interface DestinationBudget {
  /**
   * This node's slots to `destination` become as many of `wanted` as `limit` leaves beside the live
   * slots of other nodes (0 when none is left), leased until `until`; returns that number. What the
   * node held there before is replaced; slots whose lease ran out count for nothing.
   */
  acquireSlots(node: string, destination: string, wanted: number, limit: number, now: number, until: number): Promise<number>;
  /** Extends this node's slot leases that are still live to `until`; returns for how many destinations. */
  renewSlots(node: string, now: number, until: number): Promise<number>;
  /** Gives back this node's slots to `destination`, or to every destination when none is named (a start). */
  releaseSlots(node: string, destination?: string): Promise<void>;
  /**
   * Counts as many of `wanted` messages to `destination` in the window starting at `windowStart` as
   * keep the window's count within `limit` for all nodes together; returns how many it counted.
   * Earlier windows of the destination are forgotten.
   */
  countMessages(destination: string, windowStart: number, wanted: number, limit: number): Promise<number>;
}
