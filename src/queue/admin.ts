/**
 * The operator's actions on the queue (`relaygate queue list|show|retry|hold|release|bounce|delete`,
 * later the admin API): which messages a selection means, which recipients an action may move and
 * to what (states.ts), the DSN a bounce owes, and the body's headers for `show`. The store only runs
 * the guarded updates. Work goes in pages of PAGE messages, so thousands never sit in memory at once.
 */
import type { Readable } from 'node:stream';
import type { Clock } from '../core/clock.js';
import { normalizeDomain } from '../core/domain.js';
import { RelaygateError } from '../core/errors.js';
import { formatReply, Replies } from '../core/reply.js';
import { requireTenant } from '../directory/find-tenant.js';
import type { TenantId } from '../directory/index.js';
import type { BodyStore, DirectoryStore, QueueAdminStore, QueueEntry, QueueFilter, QueuedRecipient, RecipientState, RecipientTransition } from '../store/ports.js';
import { failureDsnStatus } from './dsn-generator.js';
import { canTransition, isRecipientState, sourcesOf } from './states.js';
import { actionEvent, deletedEvent } from './admin-trace.js';
import type { Actor, TraceEvent } from '../trace/events.js';

export type QueueAction = 'retry' | 'hold' | 'release' | 'bounce';

/** The messages an operator names: ids and filters narrow; `all` says "every message" on purpose. */
export interface QueueSelection {
  ids?: readonly string[];
  /** The tenant's name now, in any case: its messages under every name it had. */
  tenant?: string;
  /** Recipients in this domain (any form: it is made canonical). */
  domain?: string;
  /** Recipients in this state. */
  state?: string;
  /** Messages received at least this long ago. */
  olderThanMs?: number;
  all?: boolean;
  /**
   * Only this tenant's messages, whatever else is named: the scope of a tenant's own credentials
   * (the admin API's tenant tokens). Messages of other tenants are then as absent as unknown ids.
   */
  scopeTenantId?: TenantId;
}

/** What an action (or a deletion) would change: `relaygate queue ... --dry-run`, the API's bulk preview. */
export interface QueuePreview {
  /** Messages the selection matches. */
  messages: number;
  /** Recipients the action would move (for a deletion: every recipient of those messages). */
  recipients: number;
}

/** The states each action starts from (inflight recipients are never touched: a delivery holds them). */
export const actionSources: Readonly<Record<QueueAction, readonly RecipientState[]>> = {
  retry: ['queued', 'deferred'],
  hold: sourcesOf('held').filter((s) => s !== 'inflight'),
  release: ['held'],
  bounce: sourcesOf('failed').filter((s) => s !== 'inflight'),
};

const actionTargets: Readonly<Record<QueueAction, RecipientState>> = { retry: 'queued', hold: 'held', release: 'queued', bounce: 'failed' };

const PAGE = 500;
const MAX_PAGES = 1_000_000;
/** `show` reads at most this much of a body for its header block. */
const HEADER_BYTES = 64 * 1024;

/** An action or a deletion named neither ids nor a filter, and did not say `all`. */
export class EmptySelectionError extends RelaygateError {
  constructor() {
    super('invalid', 'name message ids or a filter, or select every message explicitly');
    this.name = 'EmptySelectionError';
  }
}

export interface QueueAdminDeps {
  store: QueueAdminStore;
  /** Where `--tenant NAME` is looked up (to the tenant's id). */
  directory: Pick<DirectoryStore, 'load'>;
  bodies: BodyStore;
  clock: Clock;
}

export class QueueAdmin {
  constructor(private readonly deps: QueueAdminDeps) {}

  /** Messages oldest first (queue ids sort by arrival) with all their recipients; `after` pages on. */
  async list(selection: Omit<QueueSelection, 'all'> = {}, limit = 1000, after?: string): Promise<QueueEntry[]> {
    if (!Number.isSafeInteger(limit) || limit <= 0) {
      throw new RelaygateError('invalid', `the limit must be a positive whole number${Number.isNaN(limit) ? '' : `, not ${limit}`}`, { details: { field: 'limit' } });
    }
    return this.deps.store.select(await this.filterOf(selection), { limit, ...(after !== undefined ? { after } : {}) });
  }

  /** One message with its recipients (within the scope: another tenant's message is not found). */
  async show(id: string, scopeTenantId?: TenantId): Promise<QueueEntry> {
    const [entry] = await this.deps.store.select({ ids: [id], ...(scopeTenantId !== undefined ? { tenantId: scopeTenantId } : {}) }, { limit: 1 });
    if (!entry) throw new RelaygateError('not-found', `message ${id} is not in the queue`, { details: { id } });
    return entry;
  }

  /** The first header block of a message's body (at most 64 KiB are read). */
  async headers(id: string, scopeTenantId?: TenantId): Promise<string> {
    if (scopeTenantId !== undefined) await this.show(id, scopeTenantId);
    const body = await this.deps.bodies.open(id);
    if (!body) throw new RelaygateError('not-found', `no body is stored for ${id}`, { details: { id } });
    return headerBlock(body);
  }

  /**
   * Applies `action` to every recipient the selection matches that may take it; returns how many
   * moved. `by` names who did it in the trace (`cli:<os user>`, `api:<token id>`).
   */
  async apply(action: QueueAction, selection: QueueSelection, by: Actor = 'unknown'): Promise<number> {
    const filter = await this.filterOf(selection, true);
    await this.requireNamedMessages(selection);
    const from = actionSources[action];
    const to = actionTargets[action];
    // Retrying a queued recipient only makes it due now: a move in place, not a transition.
    for (const s of from) if (s !== to && !canTransition(s, to)) throw new RelaygateError('internal', `${action} would move a recipient from ${s} to ${to}`);
    let moved = 0;
    await this.eachPage(filter, async (entries) => {
      const now = this.deps.clock.now().getTime();
      const targets = entries.flatMap((e) => e.recipients.filter((r) => from.includes(r.state) && recipientMatches(filter, r)).map((r) => ({ entry: e, r })));
      for (const change of this.transitions(action, targets, by, now)) moved += await this.deps.store.transition(change, now);
    });
    return moved;
  }

  /** What `apply(action, selection)` (or, for 'delete', `delete(selection)`) would change, changing nothing. */
  async preview(action: QueueAction | 'delete', selection: QueueSelection): Promise<QueuePreview> {
    const filter = await this.filterOf(selection, true);
    await this.requireNamedMessages(selection);
    let messages = 0;
    let recipients = 0;
    await this.eachPage(filter, async (entries) => {
      messages += entries.length;
      for (const e of entries) {
        recipients += action === 'delete' ? e.recipients.length : e.recipients.filter((r) => actionSources[action].includes(r.state) && recipientMatches(filter, r)).length;
      }
    });
    return { messages, recipients };
  }

  /** Deletes every message the selection matches, rows then bodies; returns how many. No sender is told; the trace says who. */
  async delete(selection: QueueSelection, by: Actor = 'unknown'): Promise<number> {

    const filter = await this.filterOf(selection, true);
    await this.requireNamedMessages(selection);
    let deleted = 0;
    await this.eachPage(filter, async (entries) => {
      const ids = entries.map((e) => e.message.id);
      // Rows first: a crash between the two leaves orphan bodies (the start-up sweep removes them), never a row without its body.
      const now = this.deps.clock.now().getTime();
      deleted += await this.deps.store.deleteMessages(ids, new Map(entries.map((e) => [e.message.id, [deletedEvent(now, e, by)]])));
      await this.deps.bodies.delete(ids);
    });
    return deleted;
  }

  private transitions(action: QueueAction, targets: Array<{ entry: QueueEntry; r: QueuedRecipient }>, by: Actor, now: number): RecipientTransition[] {
    const from = actionSources[action];
    const ids = (list: typeof targets) => list.map((t) => t.r.id);
    // A retry only makes recipients due sooner: no event of its own (the attempt that follows is traced).
    const traced = (list: typeof targets, bounce?: { reply: string; dsn: 'owed' | 'suppressed' }): { events?: Map<number, TraceEvent[]> } =>
      action === 'retry' ? {} : { events: new Map(list.map((t) => [t.r.id, [actionEvent(now, action, t.entry, t.r, by, bounce)]])) };
    if (action === 'retry' || action === 'release') return [{ ids: ids(targets), from, to: 'queued', nextAttemptAt: now, ...traced(targets) }];
    if (action === 'hold') return [{ ids: ids(targets), from, to: 'held', ...traced(targets) }];
    // A bounce is our own verdict; its sender is owed a failure DSN as for any failure (states.ts, rule 5).
    const reply = formatReply(Replies.operatorBounce);
    const owed = targets.filter((t) => failureDsnStatus(t.entry.message, t.r.notify) === 'owed');
    const suppressed = targets.filter((t) => !owed.includes(t));
    return [
      { ids: ids(owed), from, to: 'failed', reply, dsnStatus: 'owed', ...traced(owed, { reply, dsn: 'owed' }) },
      { ids: ids(suppressed), from, to: 'failed', reply, dsnStatus: 'suppressed', ...traced(suppressed, { reply, dsn: 'suppressed' }) },
    ];
  }

  /** Pages through the matching messages by id; the callback may change or remove what it was given. */
  private async eachPage(filter: QueueFilter, fn: (entries: QueueEntry[]) => Promise<void>): Promise<void> {
    let after = '';
    for (let page = 0; page < MAX_PAGES; page++) {
      const entries = await this.deps.store.select(filter, { after, limit: PAGE });
      if (entries.length === 0) return;
      await fn(entries);
      after = entries[entries.length - 1]!.message.id;
    }
  }

  /** Ids the operator named must all be in the queue: a typo changes nothing instead of "0 recipients". */
  private async requireNamedMessages(selection: QueueSelection): Promise<void> {
    const ids = [...new Set(selection.ids ?? [])];
    if (ids.length === 0) return;
    const scope = selection.scopeTenantId !== undefined ? { tenantId: selection.scopeTenantId } : {};
    const found = new Set((await this.deps.store.select({ ids, ...scope }, { limit: ids.length })).map((e) => e.message.id));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length === 0) return;
    const named = missing.length === 1 ? `message ${missing[0]} is` : `messages ${missing.join(', ')} are`;
    throw new RelaygateError('not-found', `${named} not in the queue; nothing was changed`, { details: { ids: missing } });
  }

  private async filterOf(selection: QueueSelection, requireSelection = false): Promise<QueueFilter> {
    const filter: QueueFilter = {};
    if (selection.ids && selection.ids.length > 0) filter.ids = selection.ids;
    if (selection.domain !== undefined && selection.domain !== '') {
      const domain = normalizeDomain(selection.domain);
      if (domain === null) throw new RelaygateError('invalid', `not a domain name: ${selection.domain}`, { details: { domain: selection.domain } });
      filter.domain = domain;
    }
    if (selection.state !== undefined && selection.state !== '') {
      if (!isRecipientState(selection.state)) {
        throw new RelaygateError('invalid', `unknown recipient state ${selection.state}: expected queued, inflight, deferred, delivered, failed, held or expired`);
      }
      filter.state = selection.state;
    }
    if (selection.olderThanMs !== undefined) {
      if (!Number.isFinite(selection.olderThanMs) || selection.olderThanMs < 0) throw new RelaygateError('invalid', 'the age must be a duration of zero or more');
      filter.receivedBefore = this.deps.clock.now().getTime() - selection.olderThanMs;
    }
    if (requireSelection && Object.keys(filter).length === 0 && (selection.tenant ?? '') === '' && !selection.all) throw new EmptySelectionError();
    // Looked up last, so a bad filter is reported without reading the directory.
    if (selection.tenant !== undefined && selection.tenant !== '') filter.tenantId = requireTenant(await this.deps.directory.load(), selection.tenant).id;
    if (selection.scopeTenantId !== undefined) {
      // A scoped selection that names another tenant matches nothing of it; the scope is the tenant then.
      if (filter.tenantId !== undefined && filter.tenantId !== selection.scopeTenantId) {
        throw new RelaygateError('not-found', `tenant ${selection.tenant} does not exist`, { details: { field: 'tenant', tenant: selection.tenant } });
      }
      filter.tenantId = selection.scopeTenantId;
    }
    return filter;
  }
}

/** An action acts on the recipients the filter names, not on every recipient of a matching message. */
function recipientMatches(filter: QueueFilter, r: QueuedRecipient): boolean {
  return (filter.domain === undefined || r.domain === filter.domain) && (filter.state === undefined || r.state === filter.state);
}

async function headerBlock(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk as Buffer);
      length += (chunk as Buffer).length;
      if (length >= HEADER_BYTES) break;
    }
  } finally {
    body.destroy();
  }
  const text = Buffer.concat(chunks).subarray(0, HEADER_BYTES).toString('utf8');
  const end = text.search(/\r?\n\r?\n/);
  return end >= 0 ? text.slice(0, end) : text;
}
