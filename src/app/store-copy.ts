/**
 * `relaygate store copy --from sqlite --to postgres://...`: moves a whole embedded installation
 * (directory, tenant settings, quota counts, secrets, SRS records, the queue with its bodies, the
 * decision log) into an empty PostgreSQL database, and checks it by counting both sides. It runs
 * only while no `relaygate serve` uses the data directory, so what it reads is what there is.
 * Bodies go first, each committed as it is written; then all rows in one transaction. A copy that
 * fails leaves at most bodies behind, and the target must then be emptied (dropped and created
 * again) before the next try.
 */
import { existsSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { messageOf, RelaygateError } from '../core/errors.js';
import type { RelaygateConfig } from '../config/index.js';
import { transferTables, type TransferTable } from '../store/transfer.js';
import { PgBodyStore } from '../store/postgres/body-store.js';
import { openPostgres } from '../store/postgres/database.js';
import { isEmptyForTransfer, postgresTransferCounts, writeTransferBatches } from '../store/postgres/transfer.js';
import { sqliteTransferBatches, sqliteTransferCounts } from '../store/sqlite/transfer.js';
import { liveServes } from './data-dir-lock.js';
import { openSqliteStores, postgresOptions, redactStoreUrl, sqlitePath } from './stores.js';

export interface CopyCount {
  table: TransferTable | 'bodies';
  source: number;
  target: number;
}

export interface CopyReport {
  from: string;
  to: string;
  counts: CopyCount[];
  /** Bytes of body content copied. */
  bodyBytes: number;
  /** Every count on the target is the source's. */
  complete: boolean;
}

export async function copySqliteToPostgres(
  config: Pick<RelaygateConfig, 'dataDir'> & Partial<Pick<RelaygateConfig, 'postgres'>>,
  url: string,
  now: number = Date.now(),
): Promise<CopyReport> {
  const from = sqlitePath(config);
  const to = redactStoreUrl(url);
  if (!existsSync(from)) throw new RelaygateError('not-found', `${from} does not exist: there is no SQLite store to copy`, { details: { database: from } });
  const running = liveServes(config.dataDir);
  if (running.length > 0) {
    const who = running.map((s) => `node ${s.nodeId}, pid ${s.pid}`).join('; ');
    throw new RelaygateError('conflict', `relaygate serve is running on ${config.dataDir} (${who}): stop it before copying its store`, {
      details: { dataDir: config.dataDir, serves: running },
    });
  }
  const source = openSqliteStores(config);
  let target;
  try {
    target = await openPostgres(url, postgresOptions(config));
  } catch (err) {
    await source.close();
    throw new RelaygateError('store-unavailable', `${to}: ${messageOf(err)}`, { details: { database: to }, cause: err });
  }
  try {
    if (!(await isEmptyForTransfer(target))) {
      throw new RelaygateError('conflict', `${to} already holds a relaygate store: copy into an empty database`, { details: { database: to } });
    }
    const bodies = new PgBodyStore(target);
    let copied = 0;
    let bodyBytes = 0;
    for await (const ids of bodiesOfMessages(source)) {
      for (const id of ids) {
        const read = await source.bodies.open(id);
        if (!read) continue;
        const writer = await bodies.create(id);
        try {
          await pipeline(read, writer.writable());
          await writer.sync();
          await writer.commit();
        } catch (err) {
          await writer.discard();
          throw err;
        }
        copied++;
        bodyBytes += writer.bytes;
      }
    }
    await writeTransferBatches(target, sqliteTransferBatches(source.db, now));
    const before = sqliteTransferCounts(source.db);
    const after = await postgresTransferCounts(target);
    const sourceBodies = await countBodiesOfMessages(source);
    const counts: CopyCount[] = [
      ...transferTables.map((table) => ({ table, source: before[table], target: after[table] })),
      { table: 'bodies' as const, source: sourceBodies, target: copied },
    ];
    return { from, to, counts, bodyBytes, complete: counts.every((c) => c.source === c.target) };
  } finally {
    await target.close();
    await source.close();
  }
}

/** The ids of the source's bodies that a stored message refers to (orphans are not worth copying), in pages. */
async function* bodiesOfMessages(source: ReturnType<typeof openSqliteStores>): AsyncGenerator<string[]> {
  let page: string[] = [];
  for await (const id of source.bodies.list()) {
    page.push(id);
    if (page.length === 500) {
      yield [...(await source.queue.existingMessages(page))];
      page = [];
    }
  }
  if (page.length > 0) yield [...(await source.queue.existingMessages(page))];
}

async function countBodiesOfMessages(source: ReturnType<typeof openSqliteStores>): Promise<number> {
  let n = 0;
  for await (const ids of bodiesOfMessages(source)) n += ids.length;
  return n;
}
