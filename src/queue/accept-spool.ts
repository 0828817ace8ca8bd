import { mkdir, open, readdir, rmdir, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fsyncDirectory } from './accept-fsync.js';

/**
 * Message bodies as files under `<dataDir>/spool`, in buckets named after the queue id's time
 * prefix (a new bucket every ~9 hours), so no directory grows without bound.
 */
export class Spool {
  constructor(readonly root: string) {}

  /** Relative path of a message's file. */
  static pathOf(queueId: string): string {
    return join(queueId.slice(0, 5), `${queueId}.eml`);
  }

  absolute(relativePath: string): string {
    return join(this.root, relativePath);
  }

  /**
   * Removes files no message refers to: left by a crash between writing a body and committing its
   * row (the client never got a 250 for them). Run at start, before any session.
   */
  async sweep(known: ReadonlySet<string>): Promise<string[]> {
    const removed: string[] = [];
    let buckets: string[];
    try {
      buckets = await readdir(this.root);
    } catch {
      return removed;
    }
    for (const bucket of buckets) {
      let files: string[];
      try {
        files = await readdir(join(this.root, bucket));
      } catch {
        continue;
      }
      for (const f of files) {
        const rel = join(bucket, f);
        if (known.has(rel)) continue;
        await unlink(join(this.root, rel)).catch(() => undefined);
        removed.push(rel);
      }
      if (files.every((f) => !known.has(join(bucket, f)))) await rmdir(join(this.root, bucket)).catch(() => undefined);
    }
    return removed;
  }

  /** Creates the file (never overwriting one) and returns a writer for the stamped message. */
  async create(queueId: string): Promise<SpoolFile> {
    const relativePath = Spool.pathOf(queueId);
    const path = this.absolute(relativePath);
    const dir = dirname(path);
    const created = await mkdir(dir, { recursive: true });
    // A new bucket is an entry in the spool root: make that entry durable too.
    if (created !== undefined) await fsyncDirectory(this.root);
    const handle = await open(path, 'wx', 0o640);
    return new SpoolFile(relativePath, path, dir, handle);
  }
}

/** One message file being written. `finish()` fsyncs it; `discard()` removes it. */
export class SpoolFile {
  private closed = false;
  bytes = 0;

  constructor(
    readonly relativePath: string,
    readonly path: string,
    /** The directory holding the file: its entry becomes durable when that directory is fsynced. */
    readonly directory: string,
    private readonly handle: FileHandle,
  ) {}

  /** A writable for the message stream; ends without closing the file. */
  writable(): Writable {
    return new Writable({
      highWaterMark: 64 * 1024,
      write: (chunk: Buffer, _enc, done) => {
        this.writeAll(chunk).then(
          () => {
            this.bytes += chunk.length;
            done();
          },
          (err: unknown) => done(err instanceof Error ? err : new Error(String(err))),
        );
      },
    });
  }

  /** write() may write less than asked (a disk filling up): go on until all of it is written. */
  private async writeAll(chunk: Buffer): Promise<void> {
    for (let offset = 0; offset < chunk.length; ) {
      const { bytesWritten } = await this.handle.write(chunk, offset, chunk.length - offset);
      if (bytesWritten <= 0) throw new Error('spool write made no progress');
      offset += bytesWritten;
    }
  }

  /** Content on disk: fsync, then close. */
  async finish(): Promise<void> {
    await this.handle.sync();
    await this.close();
  }

  /** Nothing half-written remains. Never throws: it runs on error paths. */
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
