/**
 * The SRS addresses delivery minted, on PostgreSQL (migration 003). Addresses are stored and looked
 * up lower-cased. A return is counted in one transaction that locks the candidate messages' rows
 * (in one order, so two callers never deadlock): callers racing for the last allowed return, on
 * any node, queue up and only one gets it.
 */
import type { MintedSrsAddress, SrsMintedStore, SrsReturnReservation } from '../ports.js';
import type { PgDatabase } from './database.js';

interface Candidate {
  message_id: string;
  outside_recipients: number;
  returns: number;
}

export class PgSrsMintedStore implements SrsMintedStore {
  constructor(private readonly db: PgDatabase) {}

  async record(m: MintedSrsAddress): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO srs_minted_messages AS s (message_id, outside_recipients, returns, minted_at) VALUES ($1, $2, 0, $3)
         ON CONFLICT (message_id) DO UPDATE SET outside_recipients = excluded.outside_recipients,
           minted_at = GREATEST(s.minted_at, excluded.minted_at)`,
        [m.messageId, m.outsideRecipients, m.at],
      );
      await tx.query(
        `INSERT INTO srs_minted_addresses AS a (address, message_id, minted_at) VALUES ($1, $2, $3)
         ON CONFLICT (address, message_id) DO UPDATE SET minted_at = GREATEST(a.minted_at, excluded.minted_at)`,
        [m.address.toLowerCase(), m.messageId, m.at],
      );
    });
  }

  reserveReturn(address: string, since: number, returnsPerRecipient: number): Promise<SrsReturnReservation> {
    return this.db.transaction(async (tx) => {
      const { rows: candidates } = await tx.query<Candidate>(
        `SELECT m.message_id, m.outside_recipients, m.returns FROM srs_minted_addresses a
         JOIN srs_minted_messages m ON m.message_id = a.message_id
         WHERE a.address = $1 AND a.minted_at >= $2 ORDER BY a.minted_at, m.message_id
         FOR UPDATE OF m`,
        [address.toLowerCase(), since],
      );
      const left = (c: Candidate): number => Math.max(0, c.outside_recipients * returnsPerRecipient - c.returns);
      const returnsLeft = candidates.reduce((n, c) => n + left(c), 0);
      const chosen = candidates.find((c) => left(c) > 0) ?? null;
      if (chosen) await tx.query('UPDATE srs_minted_messages SET returns = returns + 1 WHERE message_id = $1', [chosen.message_id]);
      return { recorded: candidates.length > 0, returnsLeft, messageId: chosen?.message_id ?? null };
    });
  }

  async releaseReturn(messageId: string): Promise<void> {
    await this.db.query('UPDATE srs_minted_messages SET returns = returns - 1 WHERE message_id = $1 AND returns > 0', [messageId]);
  }

  prune(before: number): Promise<number> {
    return this.db.transaction(async (tx) => {
      const addresses = (await tx.query('DELETE FROM srs_minted_addresses WHERE minted_at < $1', [before])).rowCount ?? 0;
      await tx.query(
        `DELETE FROM srs_minted_messages m WHERE m.minted_at < $1
           OR NOT EXISTS (SELECT 1 FROM srs_minted_addresses a WHERE a.message_id = m.message_id)`,
        [before],
      );
      return addresses;
    });
  }
}
