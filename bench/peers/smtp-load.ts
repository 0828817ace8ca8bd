/**
 * The load of the peer comparison: N messages over S concurrent SMTP sessions from
 * bench@bench.local to rcpt<k>@example.com, on loopback only, bounded by count and a deadline.
 * Like smtp-source (one command at a time, no PIPELINING, sessions reused), plus what smtp-source
 * cannot say: the latency of every transaction (MAIL FROM sent → final reply to the data).
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface LoadSpec {
  port: number;
  messages: number;
  sessions: number;
  /** Approximate message size in bytes (headers included). */
  size: number;
  recipients: number;
  /** The whole load is abandoned after this long. */
  deadlineMs: number;
}

export interface LoadResult {
  sent: number;
  failed: number;
  /** The first failure's reply or error, for the report. */
  firstFailure?: string;
  elapsedMs: number;
  /** Transaction latencies in ms, sorted. */
  latencies: Float64Array;
}

const HOST = '127.0.0.1';

/** The body shared by every message: lines of 76 characters, none starting with a dot. */
function bodyOf(size: number): Buffer {
  const line = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmn\r\n';
  const lines = Math.max(1, Math.ceil((size - 300) / line.length));
  return Buffer.from(line.repeat(lines) + '.\r\n');
}

function headerOf(n: number, recipients: number): string {
  const to = Array.from({ length: recipients }, (_, k) => `rcpt${k}@example.com`).join(', ');
  return (
    `From: <bench@bench.local>\r\nTo: ${to}\r\nSubject: bench ${n}\r\n` +
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}\r\nMessage-ID: <bench.${n}.${process.pid}@bench.local>\r\n\r\n`
  );
}

/** Reads SMTP replies off a socket: `next()` resolves with the next complete (multi-line) reply. */
class ReplyReader {
  private buffered = '';
  private lines: string[] = [];
  private waiting: ((reply: string) => void) | null = null;
  private failedWith: string | null = null;
  private failWaiting: ((err: Error) => void) | null = null;

  constructor(socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffered += chunk;
      let nl: number;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, nl).replace(/\r$/, '');
        this.buffered = this.buffered.slice(nl + 1);
        this.lines.push(line);
        if (line.length < 4 || line[3] !== '-') this.complete();
      }
    });
    const fail = (why: string) => {
      this.failedWith ??= why;
      const f = this.failWaiting;
      this.waiting = this.failWaiting = null;
      f?.(new Error(this.failedWith));
    };
    socket.on('error', (err) => fail(err.message));
    socket.on('close', () => fail('connection closed'));
  }

  private replies: string[] = [];

  private complete(): void {
    const reply = this.lines.join('\n');
    this.lines = [];
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = this.failWaiting = null;
      w(reply);
    } else this.replies.push(reply);
  }

  next(): Promise<string> {
    const ready = this.replies.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.failedWith) return Promise.reject(new Error(this.failedWith));
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failWaiting = reject;
    });
  }
}

/** A server that stops answering fails the session instead of holding the run (Postfix did, at 500 sessions). */
const REPLY_TIMEOUT_MS = 60_000;

async function expect(reader: ReplyReader, code: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no reply in ${REPLY_TIMEOUT_MS / 1000} s`)), REPLY_TIMEOUT_MS)));
  try {
    const reply = await Promise.race([reader.next(), late]);
    if (!reply.startsWith(code)) throw new Error(reply.split('\n')[0]);
  } finally {
    clearTimeout(timer);
  }
}

function openSession(port: number): Promise<{ socket: Socket; reader: ReplyReader }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port });
    socket.setNoDelay(true);
    const reader = new ReplyReader(socket);
    socket.once('connect', () => resolve({ socket, reader }));
    socket.once('error', reject);
  });
}

/** Sends spec.messages messages over spec.sessions sessions; every transaction's latency is kept. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const body = bodyOf(spec.size);
  const rcptCommands = Array.from({ length: spec.recipients }, (_, k) => `RCPT TO:<rcpt${k}@example.com>\r\n`);
  const latencies = new Float64Array(spec.messages);
  let next = 0;
  let sent = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  const deadline = performance.now() + spec.deadlineMs;
  const t0 = performance.now();

  const session = async (): Promise<void> => {
    if (next >= spec.messages) return;
    let opened: { socket: Socket; reader: ReplyReader } | undefined;
    try {
      opened = await openSession(spec.port);
      const { socket, reader } = opened;
      await expect(reader, '220');
      socket.write('EHLO load.bench.local\r\n');
      await expect(reader, '250');
      while (next < spec.messages && performance.now() < deadline) {
        const n = next++;
        const started = performance.now();
        socket.write('MAIL FROM:<bench@bench.local>\r\n');
        await expect(reader, '250');
        for (const rcpt of rcptCommands) {
          socket.write(rcpt);
          await expect(reader, '250');
        }
        socket.write('DATA\r\n');
        await expect(reader, '354');
        socket.write(headerOf(n, spec.recipients));
        socket.write(body);
        await expect(reader, '250');
        latencies[sent++] = performance.now() - started;
      }
      socket.write('QUIT\r\n');
      await reader.next().catch(() => undefined);
      socket.end();
    } catch (err) {
      failed++;
      firstFailure ??= err instanceof Error ? err.message : String(err);
      opened?.socket.destroy();
    }
  };
  await Promise.all(Array.from({ length: spec.sessions }, () => session()));
  const elapsedMs = performance.now() - t0;
  const measured = latencies.slice(0, sent).sort();
  return { sent, failed, ...(firstFailure !== undefined && { firstFailure }), elapsedMs, latencies: measured };
}

/** The q-quantile (0..1) of sorted values. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export interface IdleSessions {
  /** Sessions that got their greeting and the reply to EHLO. */
  open: number;
  failed: number;
  close(): Promise<void>;
}

/** Opens `count` sessions that greet, say EHLO and then sit idle until close(). */
export async function openIdleSessions(port: number, count: number, timeoutMs: number): Promise<IdleSessions> {
  const sockets: Socket[] = [];
  let failed = 0;
  const one = async (): Promise<void> => {
    // The deadline covers the connect too: a full listen queue drops SYNs, retried for minutes.
    let opened: Promise<{ socket: Socket; reader: ReplyReader }> | undefined;
    let timeout: NodeJS.Timeout | undefined;
    const timer = new Promise<never>((_, reject) => (timeout = setTimeout(() => reject(new Error('no greeting in time')), timeoutMs)));
    try {
      opened = openSession(port);
      const { socket, reader } = await Promise.race([opened, timer]);
      sockets.push(socket);
      await Promise.race([expect(reader, '220'), timer]);
      socket.write('EHLO idle.bench.local\r\n');
      await Promise.race([expect(reader, '250'), timer]);
    } catch {
      failed++;
      opened?.then((o) => o.socket.destroy(), () => undefined);
    } finally {
      clearTimeout(timeout);
    }
  };
  // Opened in waves, as a crowd of clients would arrive, not as one SYN flood.
  for (let i = 0; i < count; i += 100) await Promise.all(Array.from({ length: Math.min(100, count - i) }, () => one()));
  return {
    open: count - failed,
    failed,
    close: async () => {
      for (const s of sockets) s.destroy();
    },
  };
}
