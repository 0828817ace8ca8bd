/** Installation secrets on PostgreSQL (table server_secrets, migration 002): made once, then kept by every node. */
import { randomBytes } from 'node:crypto';
import type { ServerSecrets } from '../ports.js';
import type { PgDatabase } from './database.js';

export class PgServerSecrets implements ServerSecrets {
  constructor(private readonly db: PgDatabase) {}

  async secret(name: string, now: number): Promise<string> {
    // Two nodes asking first at once: one insert wins, both read the winner's value.
    await this.db.query('INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING', [
      name,
      randomBytes(32).toString('base64url'),
      now,
    ]);
    const { rows } = await this.db.query<{ value: string }>('SELECT value FROM server_secrets WHERE name = $1', [name]);
    return rows[0]!.value;
  }
}
