/** Installation secrets (table delivery_secrets, migration 003): made once, then kept. */
import { randomBytes } from 'node:crypto';
import type { ServerSecrets } from '../ports.js';
import { statement, type SqliteDatabase } from './database.js';

export class SqliteServerSecrets implements ServerSecrets {
  constructor(private readonly db: SqliteDatabase) {}

  async secret(name: string, now: number): Promise<string> {
    statement(this.db, 'INSERT INTO delivery_secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING').run(
      name,
      randomBytes(32).toString('base64url'),
      now,
    );
    return statement(this.db, 'SELECT value FROM delivery_secrets WHERE name = ?').pluck().get(name) as string;
  }
}
