/**
 * The audit log of writes made through the admin API: who (the token), what (the operation and
 * the path), the tenant it was about, and the state before and after. Admins read it.
 */
import type { Clock } from '../core/clock.js';
import type { TenantId } from '../directory/index.js';
import type { AuditLog, StoredAuditRecord } from '../store/ports.js';
import { requireAdmin, type Principal } from './principal.js';

export interface AuditEntry {
  tenantId: TenantId | null;
  action: string;
  target: string;
  clientIp: string;
  before: unknown;
  after: unknown;
}

export interface AuditView {
  id: number;
  at: string;
  actor: string;
  actorName: string;
  tenantId: TenantId | null;
  action: string;
  target: string;
  clientIp: string;
  before: unknown;
  after: unknown;
}

export class AuditService {
  constructor(private readonly deps: { log: AuditLog; clock: Clock }) {}

  async record(p: Principal, entry: AuditEntry): Promise<void> {
    await this.deps.log.append({
      at: this.deps.clock.now().getTime(),
      actor: p.tokenId ?? 'command-line',
      actorName: p.name,
      tenantId: entry.tenantId,
      action: entry.action,
      target: entry.target,
      clientIp: entry.clientIp,
      before: entry.before === undefined || entry.before === null ? null : JSON.stringify(entry.before),
      after: entry.after === undefined || entry.after === null ? null : JSON.stringify(entry.after),
    });
  }

  /** Newest first; admins only. */
  async list(p: Principal, filter: { tenantId?: TenantId; before?: number; limit: number }): Promise<AuditView[]> {
    requireAdmin(p);
    return (await this.deps.log.list(filter)).map(toView);
  }
}

function toView(r: StoredAuditRecord): AuditView {
  return {
    id: r.id,
    at: new Date(r.at).toISOString(),
    actor: r.actor,
    actorName: r.actorName,
    tenantId: r.tenantId,
    action: r.action,
    target: r.target,
    clientIp: r.clientIp,
    before: r.before === null ? null : (JSON.parse(r.before) as unknown),
    after: r.after === null ? null : (JSON.parse(r.after) as unknown),
  };
}
