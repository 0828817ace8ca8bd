/** DKIM keys per tenant and signing domain (table dkim_keys, migrations 003 and 006). */
import type { TenantId } from '../../directory/model.js';
import type { DkimKeyInfo, StoredDkimKey } from '../ports.js';
import { statement, type SqliteDatabase } from './database.js';

interface KeyRow {
  tenant_id: string; domain: string; selector: string; algorithm: string; private_key: string; public_key: string; active: number; created_at: number;
}

export class SqliteDkimKeys {
  constructor(private readonly db: SqliteDatabase) {}

  /** Adds or replaces the key of (tenant, domain, selector); other selectors of the domain stay. */
  put(key: StoredDkimKey): void {
    statement(
      this.db,
      `INSERT INTO dkim_keys (tenant_id, domain, selector, algorithm, private_key, public_key, active, created_at)
       VALUES (@tenantId, @domain, @selector, @algorithm, @privateKey, @publicKey, @active, @createdAt)
       ON CONFLICT (tenant_id, domain, selector) DO UPDATE SET algorithm = excluded.algorithm,
         private_key = excluded.private_key, public_key = excluded.public_key, active = excluded.active, created_at = excluded.created_at`,
    ).run({ ...key, active: key.active ? 1 : 0 });
  }

  /** Every key with its private key: what the settings snapshot signs with. */
  all(): StoredDkimKey[] {
    return (statement(this.db, 'SELECT * FROM dkim_keys ORDER BY tenant_id, domain, selector').all() as KeyRow[]).map(toKey);
  }

  list(tenantId?: TenantId): DkimKeyInfo[] {
    const rows = (tenantId === undefined
      ? statement(this.db, 'SELECT * FROM dkim_keys ORDER BY tenant_id, domain, selector').all()
      : statement(this.db, 'SELECT * FROM dkim_keys WHERE tenant_id = ? ORDER BY domain, selector').all(tenantId)) as KeyRow[];
    return rows.map((r) => {
      const { privateKey: _omit, ...rest } = toKey(r);
      return rest;
    });
  }
}

function toKey(r: KeyRow): StoredDkimKey {
  return {
    tenantId: r.tenant_id,
    domain: r.domain,
    selector: r.selector,
    algorithm: r.algorithm === 'ed25519' ? 'ed25519' : 'rsa',
    privateKey: r.private_key,
    publicKey: r.public_key,
    active: r.active === 1,
    createdAt: r.created_at,
  };
}
