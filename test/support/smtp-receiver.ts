/**
 * A real receiving SMTP server for tests (smtp-server on 127.0.0.1 or ::1, port 0) that records
 * what it got and can be told to accept, defer (4xx), fail (5xx), drop the connection, stall, and to
 * offer or deny STARTTLS, SMTPUTF8, 8BITMIME, DSN and AUTH. Replies are written with their enhanced
 * status codes in the text (the server's automatic ones are off), e.g. `{ code: 450, text: '4.2.0 busy' }`.
 */
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';
import type { AddressInfo } from 'node:net';

export interface Refusal {
  code: number;
  text: string;
}

/** What to do at a step: accept, refuse with a reply, drop the TCP connection, or never answer. */
export type StepAction = 'accept' | Refusal | 'drop' | 'stall' | Later;

/** Answer later, as the promise says: a slow server, or one a test holds at end of DATA until it lets go. */
export interface Later {
  later: Promise<'accept' | Refusal>;
}

export interface ReceiverBehaviour {
  mail?: (from: string) => StepAction;
  rcpt?: (to: string) => StepAction;
  data?: (msg: ReceivedMessage) => StepAction;
  /** Advertise STARTTLS (needs cert/key). */
  starttls?: { cert: string; key: string } | null;
  /** Implicit TLS from the first byte (needs starttls cert/key). */
  secure?: boolean;
  smtputf8?: boolean;
  eightBitMime?: boolean;
  dsn?: boolean;
  /** Require AUTH with these credentials. */
  auth?: { user: string; pass: string } | null;
  /** Ask for a client certificate (recorded, not required). */
  requestCert?: boolean;
}

export interface ReceivedRecipient {
  address: string;
  args: Record<string, string>;
}

export interface ReceivedMessage {
  from: string;
  mailArgs: Record<string, string>;
  recipients: ReceivedRecipient[];
  body: Buffer;
  secure: boolean;
  helo: string;
  user: string | null;
  clientCertSubject: string | null;
  /** The smtp-server session (one TCP connection) that carried it. */
  session: string;
  /** How many commands that session had sent when the message's data ended (see `settled`). */
  commandsBefore: number;
}

function toArgs(a: SMTPServerAddress): Record<string, string> {
  const out: Record<string, string> = {};
  const args: unknown = a.args;
  if (args && typeof args === 'object') {
    for (const [k, v] of Object.entries(args)) if (typeof v === 'string') out[k.toUpperCase()] = v;
  }
  return out;
}

function refusalError(r: Refusal): Error {
  const err = new Error(r.text);
  Object.assign(err, { responseCode: r.code });
  return err;
}

export class SmtpReceiver {
  readonly messages: ReceivedMessage[] = [];
  /** Every MAIL FROM seen, including transactions that did not complete. */
  readonly attempts: Array<{ from: string; recipients: string[] }> = [];
  /**
   * Every command line as it came over the wire (UTF-8). smtp-server shows an A-label domain of a
   * MAIL FROM / RCPT TO decoded to its U-label; this is what the client actually sent.
   */
  readonly commandLines: string[] = [];
  /** The same command lines per session id, in order. */
  readonly sessionCommands = new Map<string, string[]>();
  connections = 0;
  /** Connections open now, and the most that were ever open at once (from connect to close). */
  openConnections = 0;
  peakConnections = 0;
  private server: SMTPServer | null = null;
  private stalled: Array<() => void> = [];
  port = 0;

  constructor(public behaviour: ReceiverBehaviour = {}) {}

  /** Listens on host:port (port 0: any free port); returns the port. */
  async start(host = '127.0.0.1', port = 0): Promise<number> {
    const b = this.behaviour;
    const tlsFiles = b.starttls ? { key: b.starttls.key, cert: b.starttls.cert } : {};
    const server = new SMTPServer({
      ...tlsFiles,
      secure: b.secure === true,
      logger: false,
      banner: 'test receiver',
      hideENHANCEDSTATUSCODES: true,
      hideSTARTTLS: !b.starttls,
      disabledCommands: b.starttls ? (b.auth ? [] : ['AUTH']) : b.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
      hideSMTPUTF8: b.smtputf8 === false,
      hide8BITMIME: b.eightBitMime === false,
      hideDSN: b.dsn === false,
      authOptional: !b.auth,
      allowInsecureAuth: true,
      requestCert: b.requestCert === true,
      rejectUnauthorized: false,
      size: 50 * 1024 * 1024,
      onConnect: (session, cb) => {
        this.connections++;
        this.peakConnections = Math.max(this.peakConnections, ++this.openConnections);
        this.recordCommandLines(session);
        cb();
      },
      onClose: () => {
        this.openConnections--;
      },
      onAuth: (auth, _session, cb) => {
        if (b.auth && auth.username === b.auth.user && auth.password === b.auth.pass) cb(null, { user: auth.username });
        else cb(refusalError({ code: 535, text: '5.7.8 authentication failed' }));
      },
      onMailFrom: (address, session, cb) => {
        this.attempts.push({ from: address.address, recipients: [] });
        this.act(b.mail?.(address.address) ?? 'accept', session, cb);
      },
      onRcptTo: (address, session, cb) => {
        this.attempts[this.attempts.length - 1]?.recipients.push(address.address);
        this.act(b.rcpt?.(address.address) ?? 'accept', session, cb);
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const env = session.envelope;
          const from = env.mailFrom === false ? '' : env.mailFrom.address;
          const peerCert = this.peerCertificateSubject(session);
          const msg: ReceivedMessage = {
            from,
            mailArgs: env.mailFrom === false ? {} : toArgs(env.mailFrom),
            recipients: env.rcptTo.map((r) => ({ address: r.address, args: toArgs(r) })),
            body: Buffer.concat(chunks),
            secure: session.secure,
            helo: session.hostNameAppearsAs,
            user: typeof session.user === 'string' ? session.user : null,
            clientCertSubject: peerCert,
            session: session.id,
            commandsBefore: this.sessionCommands.get(session.id)?.length ?? 0,
          };
          const answer = (action: StepAction): void => {
            if (typeof action === 'object' && 'later' in action) {
              void action.later.then(answer, () => answer({ code: 451, text: '4.3.0 test receiver failed' }));
              return;
            }
            if (action === 'accept') this.messages.push(msg);
            this.act(action, session, (err) => cb(err ?? null, 'ok: queued as test'));
          };
          answer(b.data?.(msg) ?? 'accept');
        });
      },
    });
    this.server = server;
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.listen(port, host, () => resolve());
      server.server.once('error', reject);
    });
    this.port = (server.server.address() as AddressInfo).port;
    return this.port;
  }

  private peerCertificateSubject(session: SMTPServerSession): string | null {
    const conn = this.connectionFor(session);
    const socket: unknown = conn ? Reflect.get(conn, '_socket') : undefined;
    if (socket && typeof socket === 'object' && 'getPeerCertificate' in socket && typeof socket.getPeerCertificate === 'function') {
      const cert: unknown = socket.getPeerCertificate();
      if (cert && typeof cert === 'object' && 'subject' in cert && cert.subject && typeof cert.subject === 'object' && 'CN' in cert.subject) {
        return String(cert.subject.CN);
      }
    }
    return null;
  }

  private recordCommandLines(session: SMTPServerSession): void {
    const conn = this.connectionFor(session);
    const original: unknown = conn ? Reflect.get(conn, '_onCommand') : undefined;
    if (!conn || typeof original !== 'function') return;
    const lines: string[] = [];
    this.sessionCommands.set(session.id, lines);
    Reflect.set(conn, '_onCommand', (command: Buffer, callback: () => void) => {
      this.commandLines.push(command.toString('utf8'));
      lines.push(command.toString('utf8'));
      return Reflect.apply(original, conn, [command, callback]);
    });
  }

  /**
   * Whether the client went on after this message was accepted: a MAIL FROM or QUIT came on its
   * session after the data. A client that records a delivery before its next command (relaygate
   * does) has then recorded this one; an unsettled message was in flight when the client vanished.
   */
  settled(msg: ReceivedMessage): boolean {
    const later = this.sessionCommands.get(msg.session)?.slice(msg.commandsBefore) ?? [];
    return later.some((l) => /^(MAIL FROM:|QUIT\b)/i.test(l));
  }

  private connectionFor(session: SMTPServerSession): object | null {
    const set: unknown = this.server ? Reflect.get(this.server, 'connections') : undefined;
    if (!(set instanceof Set)) return null;
    for (const c of set) if (c && typeof c === 'object' && Reflect.get(c, 'id') === session.id) return c as object;
    return null;
  }

  private act(action: StepAction, session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    if (action === 'accept') return cb();
    if (typeof action === 'object' && 'later' in action) {
      void action.later.then((a) => this.act(a, session, cb), () => cb(refusalError({ code: 451, text: '4.3.0 test receiver failed' })));
      return;
    }
    if (action === 'stall') {
      this.stalled.push(() => cb(refusalError({ code: 421, text: '4.4.2 stalled' })));
      return;
    }
    if (action === 'drop') {
      const conn = this.connectionFor(session);
      const socket: unknown = conn ? Reflect.get(conn, '_socket') : undefined;
      if (socket && typeof socket === 'object' && 'destroy' in socket && typeof socket.destroy === 'function') socket.destroy();
      return;
    }
    cb(refusalError(action));
  }

  async stop(): Promise<void> {
    for (const release of this.stalled.splice(0)) release();
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
