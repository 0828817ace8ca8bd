import type { TenantId } from '../../directory/index.js';

// Who may use the admin API (tokens) and what they did with it (the audit log). Times are epoch
// milliseconds. The rules (who may create which token, what a token may touch) are access/'s.

export type TokenRole = 'admin' | 'tenant';
export type TokenScope = 'read' | 'write';

/** A token as stored: never the token itself, only the SHA-256 of its secret part. */
export interface TokenRecord {
  /** A ULID; the token's public part (it is written into the token). */
  id: string;
  name: string;
  role: TokenRole;
  /** The tenant a `tenant` token is for; null for an admin token. */
  tenantId: TenantId | null;
  scope: TokenScope;
  /** Hex SHA-256 of the secret. */
  secretHash: string;
  createdAt: number;
  /** null: never expires. */
  expiresAt: number | null;
  revokedAt: number | null;
  /** The id of the token that created it; null when the command line did. */
  createdBy: string | null;
}

/**
 * API tokens. A tenant token goes with its tenant: removing the tenant removes its tokens
 * (ON DELETE CASCADE), so a token never outlives what it was for.
 */
export interface TokenStore {
  /** Stores a new token; a tenant id the directory does not have is `not-found`, an id taken `conflict`. */
  create(record: TokenRecord): Promise<void>;
  get(id: string): Promise<TokenRecord | null>;
  /** Tokens in id (creation) order; of one tenant when `tenantId` is given. */
  list(filter?: { tenantId?: TenantId }): Promise<TokenRecord[]>;
  /** Marks the token revoked at `at` (a second revocation keeps the first instant); null when there is no such token. */
  revoke(id: string, at: number): Promise<TokenRecord | null>;
}

/** One write made through the admin API: who, what, and the state before and after. */
export interface AuditRecord {
  at: number;
  /** The token's id. */
  actor: string;
  /** The token's name then. */
  actorName: string;
  /** The tenant the write was about (by id, kept when the tenant goes); null for server-wide writes. */
  tenantId: TenantId | null;
  /** The operation, as `METHOD /v1/route/{param}`. */
  action: string;
  /** The request's path. */
  target: string;
  clientIp: string;
  /** JSON text of what was there before and after (null: nothing, or not applicable). */
  before: string | null;
  after: string | null;
}

export interface StoredAuditRecord extends AuditRecord {
  id: number;
}

export interface AuditFilter {
  tenantId?: TenantId;
  /** Only records with a smaller id (paging back). */
  before?: number;
  limit: number;
}

/** The audit log: appended, never changed; read newest first. */
export interface AuditLog {
  append(record: AuditRecord): Promise<StoredAuditRecord>;
  list(filter: AuditFilter): Promise<StoredAuditRecord[]>;
}
