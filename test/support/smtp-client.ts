/**
 * A raw SMTP client for protocol tests (abuse, pipelining, exact reply lines): it sends exactly the
 * bytes given and returns replies as the server wrote them. Plain TCP, implicit TLS, STARTTLS.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface RawClientOptions {
  host: string;
  port: number;
  /** Implicit TLS from the first byte. */
  tls?: tls.ConnectionOptions;
  /** Local address to connect from (e.g. 127.0.0.2 to vary the source IP). */
  localAddress?: string;
  /** Bytes sent right after connecting, before anything is read (e.g. a PROXY header). */
  preamble?: Buffer;
  /** Upper bound for any single wait, so a broken server fails the test instead of hanging it. */
  waitMs?: number;
  /** TCP_NODELAY: each write leaves as its own segment instead of waiting to be coalesced. */
  noDelay?: boolean;
}

export class RawSmtpClient {
  private buffer = '';
  private waiters: Array<() => void> = [];
  private ended = false;
  private constructor(
    private socket: net.Socket | tls.TLSSocket,
    private readonly waitMs: number,
  ) {
    this.attach(socket);
  }

  static async connect(opts: RawClientOptions): Promise<RawSmtpClient> {
    const waitMs = opts.waitMs ?? 10_000;
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: opts.host, port: opts.port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) }, () => resolve(s));
      s.once('error', reject);
    });
    if (opts.noDelay) socket.setNoDelay(true);
    if (opts.preamble) socket.write(opts.preamble);
    if (!opts.tls) return new RawSmtpClient(socket, waitMs);
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const t = tls.connect({ socket, rejectUnauthorized: false, ...opts.tls }, () => resolve(t));
      t.once('error', reject);
    });
    return new RawSmtpClient(secure, waitMs);
  }

  get tlsSocket(): tls.TLSSocket | null {
    return this.socket instanceof tls.TLSSocket ? this.socket : null;
  }

  private attach(socket: net.Socket | tls.TLSSocket): void {
    socket.on('data', (d: Buffer) => {
      this.buffer += d.toString('latin1');
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async waitFor<T>(test: () => T | null): Promise<T> {
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      const r = test();
      if (r !== null) return r;
      if (this.ended) throw new Error(`connection closed; unread: ${JSON.stringify(this.buffer)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply in ${this.waitMs} ms; unread: ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The next complete reply (all lines of a multi-line one), joined with `\n`, without CRLFs. */
  read(): Promise<string> {
    return this.waitFor(() => {
      const lines: string[] = [];
      let pos = 0;
      for (;;) {
        const end = this.buffer.indexOf('\r\n', pos);
        if (end < 0) return null;
        const line = this.buffer.slice(pos, end);
        lines.push(line);
        pos = end + 2;
        if (!/^\d{3}-/.test(line)) {
          this.buffer = this.buffer.slice(pos);
          return lines.join('\n');
        }
      }
    });
  }

  /** Sends a command line (CRLF added) and returns its reply. */
  async command(line: string): Promise<string> {
    this.write(line + '\r\n');
    return this.read();
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Resolves once the server closed the connection; returns whatever it sent that was unread. */
  async closed(): Promise<string> {
    await this.waitFor(() => (this.ended ? true : null)).catch((err: unknown) => {
      if (!this.ended) throw err;
    });
    const rest = this.buffer;
    this.buffer = '';
    return rest;
  }

  get isClosed(): boolean {
    return this.ended;
  }

  /** STARTTLS after a 220 reply was received for it: upgrades this client in place. */
  async upgrade(options: tls.ConnectionOptions = {}): Promise<void> {
    const plain = this.socket as net.Socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const t = tls.connect({ socket: plain, rejectUnauthorized: false, ...options }, () => resolve(t));
      t.once('error', reject);
    });
    this.socket = secure;
    this.attach(secure);
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * MAIL FROM, one RCPT TO per recipient and DATA on an open session, each step checked against the
 * relay's exact acceptance reply. Returns the reply to the end of DATA, or the first reply that
 * is not the exact acceptance (MAIL, a RCPT or DATA's), so the caller checks it exactly.
 */
export async function sendMessage(client: RawSmtpClient, from: string, to: readonly string[], headersAndBody: string): Promise<string> {
  const mail = await client.command(`MAIL FROM:<${from}>`);
  if (mail !== '250 2.1.0 Sender OK') return mail;
  for (const rcpt of to) {
    const reply = await client.command(`RCPT TO:<${rcpt}>`);
    if (reply !== '250 2.1.5 Recipient OK') return reply;
  }
  const data = await client.command('DATA');
  if (!data.startsWith('354 ')) return data;
  return client.command(`${headersAndBody}\r\n.`);
}
