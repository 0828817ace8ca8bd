/**
 * Message bodies in PostgreSQL (migration 004). `create` inserts the body's row at once (so the
 * orphan sweep sees it); the content goes in 256 KiB chunks, each inserted as soon as it is full,
 * so a slow client never holds a transaction or a connection open between its packets; `sync`
 * inserts the rest (every insert is committed, hence durable, when it returns); `commit` marks the
 * body committed, after which `open` finds it. Only then does the acceptor commit the message's
 * rows, and only then does the client get its 250.
 */
import { Readable, Writable } from 'node:stream';
import pg from 'pg';
import { RelaygateError } from '../../core/errors.js';
import { InvalidBodyIdError, isBodyId } from '../body-id.js';
import type { BodyStore, BodyWriter } from '../ports.js';
import type { PgDatabase } from './database.js';
import { postgresFailure } from './errors.js';

const CHUNK = 256 * 1024;
const LIST_PAGE = 1000;

export class PgBodyStore implements BodyStore {
  constructor(private readonly db: PgDatabase) {}

  async create(id: string): Promise<BodyWriter> {
    if (!isBodyId(id)) throw new InvalidBodyIdError(id);
    try {
      await this.db.query('INSERT INTO bodies (id) VALUES ($1)', [id]);
    } catch (err) {
      if (err instanceof pg.DatabaseError && err.code === '23505') {
        throw new RelaygateError('conflict', `the body ${id} exists already`, { details: { id }, cause: err });
      }
      throw postgresFailure(err);
    }
    return new PgBodyWriter(this.db, id);
  }

  async open(id: string): Promise<Readable | null> {
    if (!isBodyId(id)) return null;
    const { rows } = await this.db.query<{ data: Buffer | null }>(
      `SELECT c.data FROM bodies b LEFT JOIN body_chunks c ON c.body_id = b.id AND c.seq = 0
       WHERE b.id = $1 AND b.committed`,
      [id],
    );
    if (rows.length === 0) return null;
    const db = this.db;
    const first = rows[0]!.data;
    return Readable.from(
      (async function* chunks(): AsyncGenerator<Buffer> {
        if (first === null) return;
        yield first;
        for (let seq = 1; ; seq++) {
          const next = await db.query<{ data: Buffer }>('SELECT data FROM body_chunks WHERE body_id = $1 AND seq = $2', [id, seq]);
          if (next.rows.length === 0) return;
          yield next.rows[0]!.data;
        }
      })(),
      { objectMode: false },
    );
  }

  async delete(ids: readonly string[]): Promise<void> {
    const valid = ids.filter(isBodyId);
    if (valid.length > 0) await this.db.query('DELETE FROM bodies WHERE id = ANY($1::text[])', [valid]);
  }

  async *list(): AsyncIterable<string> {
    for (let after = ''; ; ) {
      const { rows } = await this.db.query<{ id: string }>('SELECT id FROM bodies WHERE id > $1 ORDER BY id LIMIT $2', [after, LIST_PAGE]);
      for (const r of rows) yield r.id;
      if (rows.length < LIST_PAGE) return;
      after = rows.at(-1)!.id;
    }
  }
}

class PgBodyWriter implements BodyWriter {
  bytes = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private seq = 0;

  constructor(
    private readonly db: PgDatabase,
    private readonly id: string,
  ) {}

  writable(): Writable {
    return new Writable({
      highWaterMark: 64 * 1024,
      write: (chunk: Buffer, _enc, done) => {
        this.bytes += chunk.length;
        this.pending.push(chunk);
        this.pendingBytes += chunk.length;
        if (this.pendingBytes < CHUNK) return done();
        this.flush(false).then(() => done(), (err: unknown) => done(asError(err)));
      },
    });
  }

  async sync(): Promise<void> {
    await this.flush(true);
  }

  async commit(): Promise<void> {
    try {
      const { rowCount } = await this.db.query('UPDATE bodies SET committed = true, size = $2 WHERE id = $1', [this.id, this.bytes]);
      if (rowCount !== 1) throw new RelaygateError('conflict', `the body ${this.id} is gone: it was removed while being written`, { details: { id: this.id } });
    } catch (err) {
      throw postgresFailure(err);
    }
  }

  async discard(): Promise<void> {
    this.pending = [];
    await this.db.query('DELETE FROM bodies WHERE id = $1', [this.id]).catch(() => undefined);
  }

  /** Inserts the buffered bytes as whole chunks (and, with `all`, the partial last one). */
  private async flush(all: boolean): Promise<void> {
    const data = Buffer.concat(this.pending);
    let offset = 0;
    try {
      while (data.length - offset >= CHUNK || (all && offset < data.length)) {
        const piece = data.subarray(offset, Math.min(offset + CHUNK, data.length));
        await this.db.query('INSERT INTO body_chunks (body_id, seq, data) VALUES ($1, $2, $3)', [this.id, this.seq, piece]);
        this.seq++;
        offset += piece.length;
      }
    } catch (err) {
      throw postgresFailure(err);
    } finally {
      this.pending = offset < data.length ? [data.subarray(offset)] : [];
      this.pendingBytes = data.length - offset;
    }
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
