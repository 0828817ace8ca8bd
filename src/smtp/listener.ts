/**
 * One listening socket: the PROXY header from trusted proxies, connection limits (decided once the
 * real client is known), the implicit-TLS handshake, then the hand-over to smtp-server's protocol
 * machine (`SMTPServer.connect`) with the session's phase deadlines.
 */
import net from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import type { SMTPServer } from 'smtp-server';
import type { ConnectionContext, ListenerInfo } from './connection-context.js';
import type { ConnectionLimits, ConnectionRefusal } from './connection-limits.js';
import type { Phase, PhaseDeadlines } from './phase-deadline.js';
import { looksLikeProxyHeader, readProxyHeader } from './proxy-protocol.js';
import { ReplyControl, type SmtpConnectionHandle } from './reply-control.js';
import { formatReply, Replies, type SmtpReply } from '../core/reply.js';
import { tapCommandLines } from './address-bytes.js';
import { parseQuotedLocalParts } from './address-command.js';
import { messageOf, RelaygateError } from '../core/errors.js';
import type { TlsMaterial } from './tls-material.js';
import type { SmtpMetrics } from '../core/metrics-recorder.js';

export interface ListenerDeps {
  info: ListenerInfo;
  host: string;
  port: number;
  smtp: SMTPServer;
  limits: ConnectionLimits;
  deadlines: PhaseDeadlines;
  /** Is this TCP peer a trusted proxy (proxy.trusted)? */
  trustedProxy(ip: string): boolean;
  /** Does the client address match an enabled connector's IP range (current directory)? */
  attributed(ip: string): Promise<boolean>;
  /** A session was cut at the deadline of a phase. */
  onDeadline(ctx: ConnectionContext, phase: Phase): void;
  register(ctx: ConnectionContext): void;
  unregister(id: string): void;
  maxUnknownCommands: number;
  /** Time allowed for the PROXY header and the implicit-TLS handshake. */
  handshakeTimeoutMs: number;
  onError(err: unknown): void;
  /** Told of each connection admitted or turned away. */
  metrics?: Pick<SmtpMetrics, 'connection'>;
}

export class Listener {
  private readonly server: net.Server;
  private tlsServer: tls.Server | null = null;
  /** Sockets waiting for their implicit-TLS handshake, by TCP peer `ip|port`. */
  private readonly handshaking = new Map<string, (tlsSocket: tls.TLSSocket) => void>();
  private readonly connect: (socket: net.Socket | tls.TLSSocket, options: SessionOptions) => SmtpConnectionHandle | null;

  constructor(
    private readonly deps: ListenerDeps,
    tlsMaterial: TlsMaterial | null,
  ) {
    this.connect = connectionCatcher(deps.smtp);
    this.server = net.createServer({ pauseOnConnect: true }, (socket) => this.accept(socket));
    if (deps.info.tls === 'implicit') {
      if (!tlsMaterial) throw new RelaygateError('invalid', `listener ${deps.info.name}: tls: implicit needs tls.cert and tls.key`);
      // A tls.Server judges client certificates itself (socket.authorized); sockets reach it
      // through 'connection' once the PROXY header, if any, has been read.
      this.tlsServer = tls.createServer({ ...tlsOptions(tlsMaterial), handshakeTimeout: deps.handshakeTimeoutMs });
      this.tlsServer.on('secureConnection', (s) => this.handshaking.get(peerKey(s))?.(s));
      this.tlsServer.on('tlsClientError', () => undefined);
    }
  }

  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const { name } = this.deps.info;
      const where = this.deps.host.includes(':') ? `[${this.deps.host}]:${this.deps.port}` : `${this.deps.host}:${this.deps.port}`;
      // Reported once, by the caller: the server's error log is attached only once it listens.
      const failed = (err: Error) => {
        const code = (err as NodeJS.ErrnoException).code;
        const reason = code === 'EADDRINUSE' ? 'the address is already in use' : code === 'EACCES' ? 'permission denied' : messageOf(err);
        reject(new RelaygateError('unavailable', `listener ${name}: cannot listen on ${where}: ${reason}`, { details: { listener: name, host: this.deps.host, port: this.deps.port }, cause: err }));
      };
      this.server.once('error', failed);
      this.server.listen(this.deps.port, this.deps.host, () => {
        this.server.off('error', failed);
        this.server.on('error', (err) => this.deps.onError(err));
        const a = this.server.address() as net.AddressInfo;
        resolve({ host: a.address, port: a.port });
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** New certificate/key/CA for later handshakes (SIGHUP). */
  updateTls(material: TlsMaterial): void {
    this.tlsServer?.setSecureContext(tlsOptions(material));
  }

  private accept(socket: net.Socket): void {
    socket.on('error', () => undefined);
    const peerIp = normalizeIp(socket.remoteAddress ?? '');
    const peerPort = socket.remotePort ?? 0;
    this.prelude(socket, peerIp).then(
      async (source) => {
        const ip = source?.ip ?? peerIp;
        // A directory that cannot be read makes the source a stranger, never a tenant.
        const attributed = await this.deps.attributed(ip).catch(() => false);
        this.admit(socket, peerIp, peerPort, source, attributed);
      },
      (reply: SmtpReply) => this.refuse(socket, reply),
    ).catch((err: unknown) => {
      this.deps.onError(err);
      socket.destroy();
    });
  }

  /** The client's address: from the PROXY header of a trusted proxy, else the TCP peer. */
  private async prelude(socket: net.Socket, peerIp: string): Promise<{ ip: string; port: number } | null> {
    if (!this.deps.trustedProxy(peerIp)) return null;
    try {
      const source = await readProxyHeader(socket, this.deps.handshakeTimeoutMs);
      return source ? { ip: normalizeIp(source.ip), port: source.port } : null;
    } catch {
      throw Replies.badProxyHeader;
    }
  }

  private refuse(socket: net.Socket, reply: SmtpReply): void {
    this.deps.metrics?.connection(this.deps.info.name, 'refused');
    if (this.deps.info.tls === 'implicit') socket.destroy();
    else socket.end(formatReply(reply) + '\r\n');
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  private admit(socket: net.Socket, peerIp: string, peerPort: number, source: { ip: string; port: number } | null, attributed: boolean): void {
    // The client may have left while its source was judged: a slot taken now would never be freed.
    if (socket.destroyed) return;
    const ip = source?.ip ?? peerIp;
    const slot = this.deps.limits.acquire(ip, attributed);
    if (typeof slot === 'string') return this.refuse(socket, refusalReply(slot));
    this.deps.metrics?.connection(this.deps.info.name, 'accepted');
    let released = false;
    const id = randomBytes(10).toString('hex');
    let ctx: ConnectionContext | null = null;
    const deadline = this.deps.deadlines.create(attributed, (phase) => {
      if (ctx) this.expire(ctx, handle, phase);
    });
    let handle: SmtpConnectionHandle | null = null;
    const release = () => {
      if (released) return;
      released = true;
      deadline.stop();
      slot.release();
      this.deps.unregister(id);
    };
    socket.once('close', release);
    ctx = {
      id,
      listener: this.deps.info,
      ip,
      peerIp,
      tls: null,
      certificate: null,
      startTlsInjection: false,
      replies: null,
      transaction: null,
      commandLine: null,
      errors: 0,
      bareLineEndings: 'reject',
      trace: { transactions: 0, connected: false },
      release,
    };
    this.deps.register(ctx);
    const session = ctx;
    const options = { id, remoteAddress: ip, remotePort: source?.port ?? peerPort };
    const hand = (s: net.Socket | tls.TLSSocket) => {
      handle = this.hand(s, session, options, (code) => deadline.arm(code === 354 ? 'data' : 'command'));
      if (handle) deadline.arm('command');
      else s.destroy();
    };
    if (this.tlsServer) {
      const key = `${peerIp}|${peerPort}`;
      const timer = setTimeout(() => socket.destroy(), this.deps.handshakeTimeoutMs);
      this.handshaking.set(key, (tlsSocket) => {
        clearTimeout(timer);
        this.handshaking.delete(key);
        tlsSocket.once('close', release);
        hand(tlsSocket);
      });
      socket.once('close', () => {
        clearTimeout(timer);
        this.handshaking.delete(key);
      });
      this.tlsServer.emit('connection', socket);
      socket.resume();
      return;
    }
    this.watchPlaintext(socket, ctx);
    hand(socket);
    socket.resume();
  }

  private hand(socket: net.Socket | tls.TLSSocket, ctx: ConnectionContext, options: SessionOptions, onReply: (code: number) => void): SmtpConnectionHandle | null {
    const handle = this.connect(socket, options);
    if (!handle) return null;
    ctx.replies = new ReplyControl(handle, this.deps.maxUnknownCommands, onReply);
    tapCommandLines(handle, (line) => {
      ctx.commandLine = line;
    });
    parseQuotedLocalParts(handle);
    return handle;
  }

  /**
   * A phase deadline ran out. While the server owes the client a reply (a handler is still
   * deciding, or the message is in and being stored) the client is not the one late: the next
   * reply starts a new phase instead.
   */
  private expire(ctx: ConnectionContext, handle: SmtpConnectionHandle | null, phase: Phase): void {
    if (!handle || !ctx.replies || handle._closing || handle._closed) return;
    if (handle._handlerPending || (handle._dataStream && handle._parser && !handle._parser._dataMode)) return;
    this.deps.onDeadline(ctx, phase);
    // A 421 makes smtp-server close the connection (and free the slot within its half-close limit).
    ctx.replies.sendNow(phase === 'data' ? Replies.dataTimeout : Replies.commandTimeout, true);
  }

  /**
   * Watches the cleartext phase. A PROXY header from an untrusted peer is refused; bytes pipelined
   * after STARTTLS (command injection) mark the connection, which is refused once TLS is up.
   * smtp-server removes this listener itself when it starts the TLS handshake.
   */
  private watchPlaintext(socket: net.Socket, ctx: ConnectionContext): void {
    let first = true;
    let partial = '';
    socket.on('data', (chunk: Buffer) => {
      if (first) {
        first = false;
        if (looksLikeProxyHeader(chunk)) {
          socket.end(formatReply(Replies.proxyRefused) + '\r\n');
          socket.destroy();
          return;
        }
      }
      const text = partial + chunk.toString('latin1');
      const lines = text.split('\n');
      partial = (lines.pop() ?? '').slice(-64);
      let offset = 0;
      for (const line of lines) {
        offset += line.length + 1;
        if (/^STARTTLS\s*$/i.test(line.replace(/\r$/, '')) && offset < text.length) ctx.startTlsInjection = true;
      }
    });
  }
}

type SessionOptions = { id: string; remoteAddress: string; remotePort: number };

function refusalReply(refusal: ConnectionRefusal): SmtpReply {
  switch (refusal) {
    case 'per-ip':
      return Replies.tooManyConnectionsFromIp;
    case 'per-network':
      return Replies.tooManyConnectionsFromNetwork;
    // A stranger refused to keep the tenants' reserve hears what everyone hears when the server is full.
    case 'unattributed':
    case 'total':
      return Replies.tooManyConnections;
  }
}

/**
 * `SMTPServer.connect` keeps the connection it makes in `smtp.connections` and returns nothing;
 * this returns it, by catching the one `add` that connect() makes, instead of scanning the set.
 */
function connectionCatcher(smtp: SMTPServer): (socket: net.Socket | tls.TLSSocket, options: SessionOptions) => SmtpConnectionHandle | null {
  const connections = smtp.connections as Set<SmtpConnectionHandle>;
  const add = connections.add.bind(connections);
  let caught: SmtpConnectionHandle | null = null;
  connections.add = (c: SmtpConnectionHandle) => {
    caught = c;
    return add(c);
  };
  return (socket, options) => {
    caught = null;
    smtp.connect(socket, options);
    return caught as SmtpConnectionHandle | null;
  };
}

function tlsOptions(m: TlsMaterial): tls.SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean } {
  // Client certificates are asked for, never required: the policy judges them.
  return { cert: m.cert, key: m.key, ...(m.ca ? { ca: m.ca } : {}), requestCert: true, rejectUnauthorized: false };
}

function peerKey(s: tls.TLSSocket): string {
  return `${normalizeIp(s.remoteAddress ?? '')}|${s.remotePort ?? 0}`;
}

/** IPv4-mapped IPv6 peers (`::ffff:1.2.3.4`) are IPv4 (relay-policy.md §1). */
export function normalizeIp(ip: string): string {
  return ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '').toLowerCase();
}
