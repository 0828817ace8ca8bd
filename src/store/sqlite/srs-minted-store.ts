/**
 * The SRS addresses delivery minted, on SQLite (migration 005). Addresses are stored lower-cased
 * and looked up lower-cased: a bounce may come back with the address in another case. A return is
 * counted in one IMMEDIATE transaction, so sessions (or processes) racing for the last allowed
 * return are serialised and only one gets it.
 */
import type { MintedSrsAddress, SrsMintedStore, SrsReturnReservation } from '../ports.js';
import { statement, type SqliteDatabase } from './database.js';

interface Candidate {
  message_id: string;
  outside_recipients: number;
  returns: number;
}

export class SqliteSrsMintedStore implements SrsMintedStore {
  private readonly recordTx;
  private readonly reserveTx;

  constructor(private readonly db: SqliteDatabase) {
    this.recordTx = db.transaction((m: MintedSrsAddress) => {
      statement(
        db,
        `INSERT INTO srs_minted_messages (message_id, outside_recipients, returns, minted_at) VALUES (@messageId, @outside, 0, @at)
         ON CONFLICT (message_id) DO UPDATE SET outside_recipients = excluded.outside_recipients,
           minted_at = MAX(minted_at, excluded.minted_at)`,
      ).run({ messageId: m.messageId, outside: m.outsideRecipients, at: m.at });
      statement(
        db,
        `INSERT INTO srs_minted_addresses (address, message_id, minted_at) VALUES (@address, @messageId, @at)
         ON CONFLICT (address, message_id) DO UPDATE SET minted_at = MAX(minted_at, excluded.minted_at)`,
      ).run({ address: m.address.toLowerCase(), messageId: m.messageId, at: m.at });
    });
    this.reserveTx = db.transaction((address: string, since: number, perRecipient: number): SrsReturnReservation => {
      const candidates = statement(
        db,
        `SELECT m.message_id, m.outside_recipients, m.returns FROM srs_minted_addresses a
         JOIN srs_minted_messages m ON m.message_id = a.message_id
         WHERE a.address = ? AND a.minted_at >= ? ORDER BY a.minted_at, m.message_id`,
      ).all(address.toLowerCase(), since) as Candidate[];
      const left = (c: Candidate): number => Math.max(0, c.outside_recipients * perRecipient - c.returns);
      const returnsLeft = candidates.reduce((n, c) => n + left(c), 0);
      const chosen = candidates.find((c) => left(c) > 0) ?? null;
      if (chosen) statement(db, 'UPDATE srs_minted_messages SET returns = returns + 1 WHERE message_id = ?').run(chosen.message_id);
      return { recorded: candidates.length > 0, returnsLeft, messageId: chosen?.message_id ?? null };
    });
  }

  async record(minted: MintedSrsAddress): Promise<void> {
    this.recordTx.immediate(minted);
  }

  async reserveReturn(address: string, since: number, returnsPerRecipient: number): Promise<SrsReturnReservation> {
    return this.reserveTx.immediate(address, since, returnsPerRecipient);
  }

  async releaseReturn(messageId: string): Promise<void> {
    statement(this.db, 'UPDATE srs_minted_messages SET returns = returns - 1 WHERE message_id = ? AND returns > 0').run(messageId);
  }

  async prune(before: number): Promise<number> {
    return this.db.transaction(() => {
      const addresses = statement(this.db, 'DELETE FROM srs_minted_addresses WHERE minted_at < ?').run(before).changes;
      statement(
        this.db,
        'DELETE FROM srs_minted_messages WHERE minted_at < ? OR NOT EXISTS (SELECT 1 FROM srs_minted_addresses a WHERE a.message_id = srs_minted_messages.message_id)',
      ).run(before);
      return addresses;
    }).immediate();
  }
}
