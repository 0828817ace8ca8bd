import { open } from 'node:fs/promises';

/** Makes a directory's entries (a new file, a new subdirectory) durable. */
export async function fsyncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

interface DirectoryState {
  /** A flush not started yet: callers arriving now join it. */
  next: { promise: Promise<void>; resolve: () => void; reject: (err: unknown) => void } | null;
  running: boolean;
}

/**
 * Group fsync of directories: callers that ask for the same directory before its flush starts
 * share it; a caller arriving while one runs waits for the next (the running one may have begun
 * before the caller's entry existed). Sessions committing in the same group-commit round thus
 * cost one directory fsync per bucket, not one each.
 */
export class DirectoryFlusher {
  private readonly states = new Map<string, DirectoryState>();
  /** Directory fsyncs done so far (tests and benchmarks read it). */
  flushes = 0;

  flush(dir: string): Promise<void> {
    let state = this.states.get(dir);
    if (!state) this.states.set(dir, (state = { next: null, running: false }));
    if (state.next) return state.next.promise;
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    state.next = { promise, resolve, reject };
    // Wait a turn of the event loop for company, unless a flush is running (its end starts ours).
    if (!state.running) setImmediate(() => this.start(dir));
    return promise;
  }

  private start(dir: string): void {
    const state = this.states.get(dir);
    if (!state?.next || state.running) return;
    const waiting = state.next;
    state.next = null;
    state.running = true;
    this.flushes++;
    fsyncDirectory(dir).then(waiting.resolve, waiting.reject).finally(() => {
      state.running = false;
      if (state.next) this.start(dir);
      else this.states.delete(dir);
    });
  }
}
