/**
 * Bodies no message refers to: left by a crash between writing a body and committing its rows (the
 * client never got a 250 for them). Removed at start. Several processes may share the body store,
 * and another one may be receiving a message right now whose rows are not committed yet, so only
 * bodies whose queue id (made when DATA began) is older than `graceMs` are taken for orphans.
 */
import type { AcceptStore, BodyStore } from '../store/ports.js';
import { isQueueId, queueIdTime } from './queue-id.js';

/** At least this; serve takes twice `limits.dataDeadline` when that is longer. */
export const ORPHAN_GRACE_MS = 3_600_000;

const PAGE = 500;

/** Removes orphan bodies; returns their ids. */
export async function removeOrphanBodies(bodies: BodyStore, queue: Pick<AcceptStore, 'existingMessages'>, now: number, graceMs = ORPHAN_GRACE_MS): Promise<string[]> {
  const removed: string[] = [];
  const settle = async (page: string[]): Promise<void> => {
    const known = await queue.existingMessages(page);
    const orphans = page.filter((id) => !known.has(id) && (!isQueueId(id) || queueIdTime(id).getTime() <= now - graceMs));
    await bodies.delete(orphans);
    removed.push(...orphans);
  };
  let page: string[] = [];
  for await (const id of bodies.list()) {
    page.push(id);
    if (page.length >= PAGE) {
      await settle(page);
      page = [];
    }
  }
  if (page.length > 0) await settle(page);
  return removed;
}
