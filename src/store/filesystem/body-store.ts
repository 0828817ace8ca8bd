/**
 * Message bodies as files: `<root>/<bucket>/<id>.eml`, the bucket being the first five characters
 * of the queue id (its time prefix: a new bucket about every nine hours), so no directory grows
 * without bound. Durable means: the file fsynced, then its directory (and the root when the bucket
 * is new); several processes may share the root.
 */
import { mkdir, open, readdir, rmdir, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import type { BodyStore, BodyWriter } from '../ports.js';
import { DirectoryFlusher, fsyncDirectory } from './directory-flush.js';
import { RelaygateError } from '../../core/errors.js';
import { InvalidBodyIdError, isBodyId } from '../body-id.js';

export { InvalidBodyIdError };

const BUCKET_CHARS = 5;
const SUFFIX = '.eml';

/**
 * A file-system failure as a store error: a full disk (ENOSPC, EDQUOT) is `store-full`, any other
 * errno (EIO, EROFS, EACCES, ...) `store-unavailable`; anything else is returned as it is.
 */
function storeFailure(err: unknown, doing: string): unknown {
  if (err instanceof RelaygateError || !(err instanceof Error)) return err;
  const errno = (err as NodeJS.ErrnoException).code;
  if (typeof errno !== 'string' || !/^E[A-Z]+$/.test(errno)) return err;
  const code = errno === 'ENOSPC' || errno === 'EDQUOT' ? 'store-full' : 'store-unavailable';
  return new RelaygateError(code, `${doing}: ${err.message}`, { details: { errno }, cause: err });
}

export class FileBodyStore implements BodyStore {
  private readonly flusher = new DirectoryFlusher();
  /** The newest bucket this store wrote into: emptied buckets older than it are removed. */
  private newestBucket = '';
  /** Buckets known to exist (made or found by this store), with their entry in the root durable. */
  private readonly buckets = new Set<string>();

  constructor(readonly root: string) {}

  /** Directory fsyncs so far (the group-commit measurement reads it). */
  get directoryFlushes(): number {
    return this.flusher.flushes;
  }

  async create(id: string): Promise<BodyWriter> {
    if (!isBodyId(id)) throw new InvalidBodyIdError(id);
    try {
      return await this.createFile(id);
    } catch (err) {
      throw storeFailure(err, `cannot create the body of ${id}`);
    }
  }

  private async createFile(id: string): Promise<BodyWriter> {
    const bucket = id.slice(0, BUCKET_CHARS);
    const dir = join(this.root, bucket);
    if (bucket > this.newestBucket) this.newestBucket = bucket;
    // A bucket made (or found) once is not made again for every message; if another process
    // removed it (emptied) since, the open fails with ENOENT and it is made again, once.
    for (let attempt = 0; ; attempt++) {
      if (!this.buckets.has(bucket)) {
        const created = await mkdir(dir, { recursive: true });
        // A new bucket is an entry in the root: make that entry durable too.
        if (created !== undefined) await fsyncDirectory(this.root);
        this.buckets.add(bucket);
      }
      try {
        const handle = await open(join(dir, id + SUFFIX), 'wx', 0o640);
        return new FileBodyWriter(join(dir, id + SUFFIX), dir, handle, this.flusher);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 0) throw err;
        this.buckets.delete(bucket);
      }
    }
  }

  async open(id: string): Promise<Readable | null> {
    if (!isBodyId(id)) return null;
    const path = this.pathOf(id);
    // Opened here, so a missing body is known now rather than at the first read.
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    // The stream closes the file when it ends or is destroyed.
    return handle.createReadStream();
  }

  async delete(ids: readonly string[]): Promise<void> {
    const buckets = new Set<string>();
    await Promise.all(
      ids.filter(isBodyId).map(async (id) => {
        await unlink(this.pathOf(id)).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        });
        buckets.add(id.slice(0, BUCKET_CHARS));
      }),
    );
    // Buckets no longer written into go once empty; the newest stays (accepting mail refills it).
    for (const bucket of buckets) {
      if (bucket < this.newestBucket) {
        this.buckets.delete(bucket);
        await rmdir(join(this.root, bucket)).catch(() => undefined);
      }
    }
  }

  async *list(): AsyncIterable<string> {
    let buckets: string[];
    try {
      buckets = (await readdir(this.root)).sort();
    } catch {
      return;
    }
    for (const bucket of buckets) {
      let files: string[];
      try {
        files = (await readdir(join(this.root, bucket))).sort();
      } catch {
        continue;
      }
      for (const f of files) if (f.endsWith(SUFFIX)) yield f.slice(0, -SUFFIX.length);
    }
  }

  private pathOf(id: string): string {
    return join(this.root, id.slice(0, BUCKET_CHARS), id + SUFFIX);
  }
}

class FileBodyWriter implements BodyWriter {
  private closed = false;
  private synced = false;
  bytes = 0;

  constructor(
    private readonly path: string,
    private readonly directory: string,
    private readonly handle: FileHandle,
    private readonly flusher: DirectoryFlusher,
  ) {}

  writable(): Writable {
    return new Writable({
      highWaterMark: 64 * 1024,
      write: (chunk: Buffer, _enc, done) => {
        this.writeAll(chunk).then(
          () => {
            this.bytes += chunk.length;
            done();
          },
          (err: unknown) => {
            const failure = storeFailure(err, `cannot write ${this.path}`);
            done(failure instanceof Error ? failure : new Error(String(failure)));
          },
        );
      },
    });
  }

  /** write() may write less than asked (a disk filling up): go on until all of it is written. */
  private async writeAll(chunk: Buffer): Promise<void> {
    for (let offset = 0; offset < chunk.length; ) {
      const { bytesWritten } = await this.handle.write(chunk, offset, chunk.length - offset);
      if (bytesWritten <= 0) throw new Error('body write made no progress');
      offset += bytesWritten;
    }
  }

  async sync(): Promise<void> {
    if (this.synced) return;
    try {
      await this.handle.sync();
      await this.close();
    } catch (err) {
      throw storeFailure(err, `cannot sync ${this.path}`);
    }
    this.synced = true;
  }

  async commit(): Promise<void> {
    await this.sync();
    try {
      await this.flusher.flush(this.directory);
    } catch (err) {
      throw storeFailure(err, `cannot sync ${this.directory}`);
    }
  }

  async discard(): Promise<void> {
    await this.close().catch(() => undefined);
    await unlink(this.path).catch(() => undefined);
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }
}
