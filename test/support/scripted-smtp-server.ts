/**
 * A TCP server on loopback that plays a written dialogue instead of SMTP, for the faults a real
 * receiving server cannot be made to commit: garbage instead of replies, a multi-line reply cut
 * short, a STARTTLS that is not followed by a handshake, a reader that stops reading in the middle
 * of DATA, replies dripped one byte at a time. Each connection runs the script with a handle to read
 * the client's lines and to write, drip or hang up; the server counts what it sent, so a test can
 * tell how much of an endless reply the client took before it gave up.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ScriptedConnection {
  /** The next line from the client, without CRLF (null once the client is gone). */
  line(): Promise<string | null>;
  /** Reads the client's lines until one matches (DATA content, say); null once the client is gone. */
  lineMatching(re: RegExp): Promise<string | null>;
  write(text: string): void;
  /** Writes TEXT one byte every `everyMs` until it is written or the client is gone. */
  drip(text: string, everyMs: number): Promise<void>;
  /** Writes `line` (CRLF added) again and again, as fast as the client reads, until the client is gone. */
  flood(line: string): Promise<void>;
  /** Stops reading: once the socket buffers are full, the client's writes block. */
  stopReading(): void;
  /** Resolves when the client has closed the connection. */
  closed(): Promise<void>;
  hangUp(): void;
}

export type Script = (c: ScriptedConnection) => Promise<void>;

export class ScriptedSmtpServer {
  connections = 0;
  /** Bytes written to clients, over all connections. */
  bytesSent = 0;
  private readonly sockets = new Set<net.Socket>();
  private server: net.Server | null = null;
  port = 0;

  constructor(public script: Script) {}

  async start(host = '127.0.0.1', port = 0): Promise<number> {
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  private accept(socket: net.Socket): void {
    this.connections++;
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    let buffer = '';
    let gone = false;
    const waiters: Array<() => void> = [];
    const wake = () => waiters.splice(0).forEach((w) => w());
    const whenClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (d: Buffer) => {
      buffer += d.toString('latin1');
      wake();
    });
    socket.once('close', () => {
      gone = true;
      this.sockets.delete(socket);
      wake();
    });
    const send = (text: string): boolean => {
      if (gone) return false;
      this.bytesSent += Buffer.byteLength(text, 'latin1');
      return socket.write(text, 'latin1');
    };
    const line = async (): Promise<string | null> => {
      for (;;) {
        const end = buffer.indexOf('\r\n');
        if (end >= 0) {
          const l = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          return l;
        }
        if (gone) return null;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    };
    const c: ScriptedConnection = {
      line,
      async lineMatching(re) {
        for (;;) {
          const l = await line();
          if (l === null || re.test(l)) return l;
        }
      },
      write: (text) => void send(text),
      async drip(text, everyMs) {
        for (const ch of text) {
          if (!send(ch)) return;
          await new Promise<void>((resolve) => setTimeout(resolve, everyMs));
        }
      },
      async flood(l) {
        const chunk = `${l}\r\n`.repeat(256);
        while (!gone) {
          if (!send(chunk)) await new Promise<void>((resolve) => (gone ? resolve() : socket.once('drain', resolve).once('close', resolve)));
        }
      },
      stopReading: () => socket.pause(),
      closed: () => whenClosed,
      hangUp: () => socket.destroy(),
    };
    this.script(c).then(
      () => undefined,
      () => socket.destroy(),
    );
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
