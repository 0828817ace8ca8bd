/**
 * The rules of the queue (read these before changing anything in src/queue or the delivery store).
 *
 * 1. The unit of delivery is the RECIPIENT. A message is done when all of its recipients are in a
 *    final state (delivered, failed, expired); its body stays until then.
 * 2. States and who may move a recipient between them:
 *
 *      queued ──claim──▶ inflight ──delivered (2xx)──────────────▶ delivered   (final)
 *        ▲                 │  ├──temporary failure, not expired──▶ deferred ──claim──▶ inflight
 *        │                 │  ├──permanent failure───────────────▶ failed      (final, DSN owed)
 *        │                 │  ├──temporary failure, expired──────▶ expired     (final, DSN owed)
 *        └──release/throttle┘  └──lease expired (crash)──────────▶ due again (claimable as is)
 *      queued|deferred ──hold──▶ held ──release──▶ queued
 *      queued|deferred|held ──bounce (operator)──▶ failed (DSN owed)
 *
 * 3. Only a holder of a live lease (lease_owner = me, lease_until > now) records an outcome for an
 *    inflight recipient; a recipient whose lease ran out is claimable by anyone, so after a crash
 *    nothing is lost. What a crash mid-transaction can cause is one duplicate delivery, never a loss.
 *    The owner is the node id, the same across a node's restarts: a pass renews its node's leases
 *    while it runs, and a node that starts again releases its own previous ones (never another's).
 * 4. Outcomes are written right after each SMTP transaction, before the next one starts, so a
 *    restart never re-sends what was recorded as delivered.
 * 5. A recipient that fails or expires gets dsn_status 'owed' unless the sender is null, the message
 *    is itself a DSN, or NOTIFY excludes FAILURE ('suppressed'). The DSN is a new queued message of
 *    kind 'dsn' with the null sender; once queued the recipient's dsn_status becomes 'sent'.
 * 6. Attempts count SMTP attempts only: throttling and operator actions do not use up retries.
 */
import { RelaygateError } from '../core/errors.js';
import { recipientStates, type RecipientState } from '../store/ports.js';

export const finalStates: ReadonlySet<RecipientState> = new Set(['delivered', 'failed', 'expired']);

const transitions: Readonly<Record<RecipientState, readonly RecipientState[]>> = {
  queued: ['inflight', 'held', 'failed'],
  deferred: ['inflight', 'held', 'failed', 'queued'],
  inflight: ['delivered', 'deferred', 'failed', 'expired', 'queued'],
  held: ['queued', 'failed'],
  delivered: [],
  failed: [],
  expired: [],
};

export function isRecipientState(s: string): s is RecipientState {
  return (recipientStates as readonly string[]).includes(s);
}

export function canTransition(from: RecipientState, to: RecipientState): boolean {
  return transitions[from].includes(to);
}

/** The states a recipient may be moved to `to` from (used as SQL guards). */
export function sourcesOf(to: RecipientState): RecipientState[] {
  return recipientStates.filter((s) => transitions[s].includes(to));
}

export class TransitionError extends RelaygateError {
  constructor(
    readonly from: string,
    readonly to: RecipientState,
  ) {
    super('conflict', `a recipient cannot go from ${from} to ${to}`, { details: { from, to } });
    this.name = 'TransitionError';
  }
}

export function assertTransition(from: string, to: RecipientState): void {
  if (!isRecipientState(from) || !canTransition(from, to)) throw new TransitionError(from, to);
}
