/**
 * API tokens: made here, shown once, kept as the SHA-256 of their secret, checked in constant
 * time. A token is `rg_<id>_<secret>`: the id (a ULID) finds the stored hash, the secret (32
 * random bytes, base64url) proves it. The rules every front end shares: a read-only token creates
 * nothing, a tenant token creates only tenant tokens of its own tenant, and no token outlives the one
 * that made it, so no token can make a stronger one than itself.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { RelaygateError } from '../core/errors.js';
import { invalidField } from '../core/field-error.js';
import { ulidGenerator, type IdGenerator } from '../core/ulid.js';
import type { StoredDirectory } from '../directory/index.js';
import type { DirectoryStore } from '../store/ports.js';
import type { TokenRecord, TokenRole, TokenScope, TokenStore } from '../store/ports.js';
import { isAdmin, maySee, requireWrite, visibleTenant, type Principal } from './principal.js';

const TOKEN = /^rg_([0-9A-HJKMNP-TV-Z]{26})_([A-Za-z0-9_-]{43})$/;
const MAX_NAME = 100;
/** Compared against when the id is unknown, so that case takes as long as a wrong secret. */
const DUMMY_HASH = createHash('sha256').update('relaygate: no such token').digest();

export interface TokenRequest {
  role: TokenRole;
  /** The tenant (name in any case, or id) of a tenant token. */
  tenant?: string;
  /** Default: write. */
  scope?: TokenScope;
  /** From now; absent or null: no expiry of its own (it still never outlives its creator). */
  expiresInMs?: number | null;
  name?: string;
}

/** A token as anyone may see it: never the secret or its hash. */
export interface TokenView {
  id: string;
  name: string;
  role: TokenRole;
  /** The tenant's name now (a tenant token). */
  tenant: string | null;
  tenantId: string | null;
  scope: TokenScope;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  createdBy: string | null;
  state: 'active' | 'expired' | 'revoked';
}

export interface TokenServiceDeps {
  tokens: TokenStore;
  directory: Pick<DirectoryStore, 'load'>;
  clock: Clock;
  /** Random bytes (the secret); default: crypto's. */
  random?: (size: number) => Uint8Array;
  newId?: IdGenerator;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export class TokenService {
  private readonly random: (size: number) => Uint8Array;
  private readonly newId: IdGenerator;

  constructor(private readonly deps: TokenServiceDeps) {
    this.random = deps.random ?? ((n) => randomBytes(n));
    this.newId = deps.newId ?? ulidGenerator(() => deps.clock.now().getTime(), this.random);
  }

  /** Makes a token for `issuer`'s request; the token text is in the answer and nowhere else. */
  async create(issuer: Principal, request: TokenRequest): Promise<{ token: string; view: TokenView }> {
    requireWrite(issuer);
    const now = this.deps.clock.now().getTime();
    if (request.role !== 'admin' && request.role !== 'tenant') throw invalidField('role', `expected admin or tenant, got ${JSON.stringify(request.role)}`);
    const scope = request.scope ?? 'write';
    if (scope !== 'read' && scope !== 'write') throw invalidField('scope', `expected read or write, got ${JSON.stringify(scope)}`);
    const name = (request.name ?? '').trim();
    if (name.length > MAX_NAME || /[\u0000-\u001f\u007f]/.test(name)) throw invalidField('name', `must be at most ${MAX_NAME} printable characters`);
    let expiresAt: number | null = null;
    if (request.expiresInMs !== undefined && request.expiresInMs !== null) {
      if (!Number.isSafeInteger(request.expiresInMs) || request.expiresInMs <= 0) throw invalidField('expires', 'must be a duration longer than zero');
      expiresAt = now + request.expiresInMs;
    }
    const directory = await this.deps.directory.load();
    let tenantId: string | null = null;
    if (request.role === 'admin') {
      if (request.tenant !== undefined) throw invalidField('tenant', 'an admin token is for no tenant');
      if (!isAdmin(issuer)) throw new RelaygateError('forbidden', 'a tenant token cannot create an admin token');
    } else {
      if (request.tenant === undefined || request.tenant === '') throw invalidField('tenant', 'a tenant token needs its tenant');
      tenantId = visibleTenant(issuer, directory, request.tenant).id;
    }
    if (issuer.expiresAt !== null) {
      if (expiresAt !== null && expiresAt > issuer.expiresAt) {
        throw new RelaygateError('forbidden', `a token cannot outlive the one that creates it (this one expires at ${new Date(issuer.expiresAt).toISOString()})`, {
          details: { field: 'expires' },
        });
      }
      expiresAt ??= issuer.expiresAt;
    }
    const id = this.newId();
    const secret = Buffer.from(this.random(32)).toString('base64url');
    const tenantName = tenantId === null ? null : directory.tenants.find((t) => t.id === tenantId)!.name;
    const record: TokenRecord = {
      id,
      name: name || (tenantName === null ? `admin ${scope}` : `${tenantName} ${scope}`),
      role: request.role,
      tenantId,
      scope,
      secretHash: hashSecret(secret),
      createdAt: now,
      expiresAt,
      revokedAt: null,
      createdBy: issuer.tokenId,
    };
    await this.deps.tokens.create(record);
    return { token: `rg_${id}_${secret}`, view: view(record, directory, now) };
  }

  /**
   * The principal a bearer token proves, or `unauthorized`. Whether a token is revoked or expired
   * is said only to one who shows its secret; anything else is "not valid", in the same time.
   */
  async authenticate(bearer: string): Promise<Principal> {
    const match = TOKEN.exec(bearer);
    const invalid = () => new RelaygateError('unauthorized', 'the token is not valid');
    if (!match) throw invalid();
    const [, id, secret] = match as unknown as [string, string, string];
    const record = await this.deps.tokens.get(id);
    const presented = createHash('sha256').update(secret, 'utf8').digest();
    const stored = record ? Buffer.from(record.secretHash, 'hex') : DUMMY_HASH;
    const same = stored.length === presented.length && timingSafeEqual(stored, presented);
    if (!record || !same) throw invalid();
    if (record.revokedAt !== null) throw new RelaygateError('unauthorized', 'the token was revoked', { details: { token: id } });
    const now = this.deps.clock.now().getTime();
    if (record.expiresAt !== null && record.expiresAt <= now) {
      throw new RelaygateError('unauthorized', `the token expired at ${new Date(record.expiresAt).toISOString()}`, { details: { token: id } });
    }
    return { tokenId: record.id, name: record.name, role: record.role, tenantId: record.tenantId, scope: record.scope, expiresAt: record.expiresAt };
  }

  /** The tokens the principal may see: every token for an admin, its tenant's for a tenant. */
  async list(p: Principal): Promise<TokenView[]> {
    const directory = await this.deps.directory.load();
    const records = await this.deps.tokens.list(isAdmin(p) ? {} : { tenantId: p.tenantId! });
    const now = this.deps.clock.now().getTime();
    return records.map((r) => view(r, directory, now));
  }

  async show(p: Principal, id: string): Promise<TokenView> {
    const record = await this.visible(p, id);
    return view(record, await this.deps.directory.load(), this.deps.clock.now().getTime());
  }

  /** Revokes a token the principal may see (`not-found` otherwise); revoking twice keeps the first instant. */
  async revoke(p: Principal, id: string): Promise<{ before: TokenView; after: TokenView }> {
    requireWrite(p);
    const before = await this.visible(p, id);
    const now = this.deps.clock.now().getTime();
    const after = (await this.deps.tokens.revoke(before.id, now)) ?? before;
    const directory = await this.deps.directory.load();
    return { before: view(before, directory, now), after: view(after, directory, now) };
  }

  private async visible(p: Principal, id: string): Promise<TokenRecord> {
    const record = await this.deps.tokens.get(id.toUpperCase());
    if (!record || !maySee(p, record.tenantId)) throw new RelaygateError('not-found', `token ${id} does not exist`, { details: { field: 'id' } });
    return record;
  }
}

function view(r: TokenRecord, directory: StoredDirectory, now: number): TokenView {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    id: r.id,
    name: r.name,
    role: r.role,
    tenant: r.tenantId === null ? null : (directory.tenants.find((t) => t.id === r.tenantId)?.name ?? r.tenantId),
    tenantId: r.tenantId,
    scope: r.scope,
    createdAt: iso(r.createdAt)!,
    expiresAt: iso(r.expiresAt),
    revokedAt: iso(r.revokedAt),
    createdBy: r.createdBy,
    state: r.revokedAt !== null ? 'revoked' : r.expiresAt !== null && r.expiresAt <= now ? 'expired' : 'active',
  };
}
