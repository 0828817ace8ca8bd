/**
 * The inbound SMTP server: one Listener per configured listener, each with its smtp-server
 * protocol machine, sharing the session hooks, the connection limits and the TLS material.
 */
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import ipaddr from 'ipaddr.js';
import type { Clock } from '../core/clock.js';
import { errorLogFields, messageOf, RelaygateError } from '../core/errors.js';
import type { MessageAcceptor } from '../queue/accept.js';
import type { ConnectionContext, ListenerInfo } from './connection-context.js';
import { ConnectionLimits, type ConnectionLimitSettings } from './connection-limits.js';
import { PhaseDeadlines, type DeadlineSettings } from './phase-deadline.js';
import { DecisionLog } from './decision-log.js';
import { Listener } from './listener.js';
import type { SessionPolicy } from './policy-source.js';
import { SessionHooks, type SessionDeps } from './session.js';
import { loadTlsMaterial, type TlsFiles, type TlsMaterial } from './tls-material.js';
import type { SmtpMetrics } from '../core/metrics-recorder.js';

export interface ListenerSettings {
  name: string;
  host: string;
  port: number;
  tls: 'starttls' | 'implicit' | 'none';
  maxMessageSize?: number | undefined;
}

export interface RelayServerSettings {
  hostname: string;
  listeners: readonly ListenerSettings[];
  tls: TlsFiles;
  /** CIDR ranges of trusted PROXY-protocol peers. */
  proxyTrusted: readonly string[];
  limits: ConnectionLimitSettings &
    DeadlineSettings & {
      maxMessageSize: number;
      maxRecipients: number;
      /** Idle time allowed while the server waits for the client. */
      commandTimeout: number;
      maxUnknownCommands: number;
      maxErrors: number;
      maxLineLength: number;
      /** More Received: fields than this: a loop, refused at end of DATA. */
      maxHops: number;
      /** Recipients like user@[192.0.2.1] are judged by the relay rules instead of refused. */
      allowAddressLiterals: boolean;
    };
}

export interface RelayServerDeps {
  settings: RelayServerSettings;
  policy: SessionPolicy;
  acceptor: MessageAcceptor;
  clock: Clock;
  srsReturns?: SessionDeps['srsReturns'];
  admitRecipient?: SessionDeps['admitRecipient'];
  /** Connections and transactions as they end (the policy's decisions are told by SessionPolicy). */
  metrics?: SmtpMetrics;
  traffic?: SessionDeps['traffic'];
  log(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void;
}

export interface BoundListener {
  name: string;
  tls: ListenerSettings['tls'];
  host: string;
  port: number;
}

export class RelayServer {
  private readonly contexts = new Map<string, ConnectionContext>();
  private readonly limits: ConnectionLimits;
  private readonly deadlines: PhaseDeadlines;
  private readonly listeners: Array<{ settings: ListenerSettings; listener: Listener; smtp: SMTPServer }> = [];
  private readonly trusted: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>;
  readonly hooks: SessionHooks;

  constructor(private readonly deps: RelayServerDeps) {
    const s = deps.settings;
    this.limits = new ConnectionLimits(s.limits);
    this.deadlines = new PhaseDeadlines(s.limits, () => this.limits.underPressure);
    this.limits.onPressure(() => this.deadlines.tighten());
    this.trusted = s.proxyTrusted.map((c) => ipaddr.parseCIDR(c));
    const onError = (err: unknown, ctx?: ConnectionContext) =>
      deps.log('error', messageOf(err), { session: ctx?.id, client: ctx?.ip, ...errorLogFields(err) });
    this.hooks = new SessionHooks({
      policy: deps.policy,
      acceptor: deps.acceptor,
      decisions: new DecisionLog(deps.acceptor),
      clock: deps.clock,
      hostname: s.hostname,
      maxHops: s.limits.maxHops,
      limits: { maxRecipients: s.limits.maxRecipients, maxErrors: s.limits.maxErrors },
      context: (id) => this.contexts.get(id),
      onError,
      ...(deps.srsReturns ? { srsReturns: deps.srsReturns } : {}),
      ...(deps.admitRecipient ? { admitRecipient: deps.admitRecipient } : {}),
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
      ...(deps.traffic ? { traffic: deps.traffic } : {}),
    });
    const material = loadTlsMaterial(s.tls);
    for (const l of s.listeners) {
      const info: ListenerInfo = { name: l.name, tls: l.tls, maxMessageSize: l.maxMessageSize ?? s.limits.maxMessageSize };
      const smtp = new SMTPServer(this.smtpOptions(info, material));
      smtp.on('error', (err) => onError(err));
      const listener = new Listener(
        {
          info,
          host: l.host,
          port: l.port,
          smtp,
          limits: this.limits,
          deadlines: this.deadlines,
          trustedProxy: (ip) => this.isTrustedProxy(ip),
          attributed: (ip) => deps.policy.matchesConnectorRange(ip),
          onDeadline: (ctx, phase) =>
            deps.log('info', `session cut at the ${phase} deadline`, { session: ctx.id, client: ctx.ip, underPressure: this.limits.underPressure }),
          register: (ctx) => this.contexts.set(ctx.id, ctx),
          unregister: (id) => {
            const ctx = this.contexts.get(id);
            if (ctx) this.hooks.finish(ctx);
            this.contexts.delete(id);
          },
          handshakeTimeoutMs: Math.min(s.limits.commandTimeout, 30_000),
          maxUnknownCommands: s.limits.maxUnknownCommands,
          onError,
          ...(deps.metrics ? { metrics: deps.metrics } : {}),
        },
        material,
      );
      this.listeners.push({ settings: l, listener, smtp });
    }
  }

  async start(): Promise<BoundListener[]> {
    const bound: BoundListener[] = [];
    for (const { settings, listener } of this.listeners) {
      const a = await listener.listen();
      bound.push({ name: settings.name, tls: settings.tls, host: a.host, port: a.port });
    }
    return bound;
  }

  /** Stops listening and closes the open sessions; returns how many were open. */
  async stop(): Promise<number> {
    let open = 0;
    await Promise.all(
      this.listeners.map(async ({ listener, smtp }) => {
        const closing = listener.close();
        for (const c of smtp.connections) {
          open++;
          c.close();
        }
        await closing;
      }),
    );
    return open;
  }

  /** Re-reads the TLS files (SIGHUP); new handshakes use them, open sessions keep theirs. */
  reloadTls(): void {
    const material = loadTlsMaterial(this.deps.settings.tls);
    if (!material) return;
    for (const { listener, smtp } of this.listeners) {
      smtp.updateSecureContext(tlsServerOptions(material));
      listener.updateTls(material);
    }
  }

  get openConnections(): number {
    return this.limits.open;
  }

  /** Entries held per connection: all zero once every session has ended. */
  get tracked(): { open: number; unattributed: number; addresses: number; networks: number; sessions: number; relaxedDeadlines: number; smtpConnections: number } {
    let smtpConnections = 0;
    for (const { smtp } of this.listeners) smtpConnections += smtp.connections.size;
    return { ...this.limits.tracked, sessions: this.contexts.size, relaxedDeadlines: this.deadlines.relaxedCount, smtpConnections };
  }

  private isTrustedProxy(ip: string): boolean {
    if (this.trusted.length === 0 || !ipaddr.isValid(ip)) return false;
    const addr = ipaddr.process(ip);
    return this.trusted.some(([range, bits]) => addr.kind() === range.kind() && addr.match([range, bits] as never));
  }

  private smtpOptions(info: ListenerInfo, material: TlsMaterial | null): SMTPServerOptions {
    if (info.tls !== 'none' && !material) throw new RelaygateError('invalid', `listener ${info.name}: tls: ${info.tls} needs tls.cert and tls.key`);
    const s = this.deps.settings;
    const hooks = this.hooks;
    return {
      name: s.hostname,
      banner: 'relaygate',
      logger: false,
      secure: info.tls === 'implicit',
      disabledCommands: info.tls === 'starttls' ? ['AUTH'] : ['AUTH', 'STARTTLS'],
      authOptional: true,
      ...(material ? tlsServerOptions(material) : {}),
      size: info.maxMessageSize,
      hideENHANCEDSTATUSCODES: false,
      hideDSN: false,
      hidePIPELINING: false,
      hide8BITMIME: false,
      hideSMTPUTF8: false,
      disableReverseLookup: true,
      // Address hygiene is the policy engine's (relay-policy.md §5): only a minimal syntax check here.
      lenientAddressParsing: true,
      socketTimeout: s.limits.commandTimeout,
      closeTimeout: 5_000,
      maxCommandLength: s.limits.maxLineLength,
      maxAllowedUnauthenticatedCommands: false,
      onSecure: (socket, session, done) => hooks.onSecure(socket, session, done),
      onMailFrom: (address, session, done) => hooks.onMailFrom(address, session, done),
      onRcptTo: (address, session, done) => hooks.onRcptTo(address, session, done),
      onData: (stream, session, done) => hooks.onData(stream, session, done),
      // Fires for every session, also after a failed STARTTLS handshake (when the raw socket's
      // listeners are already gone): frees the connection's slot.
      onClose: (session) => this.contexts.get(session.id)?.release(),
    };
  }
}

function tlsServerOptions(m: TlsMaterial): Pick<SMTPServerOptions, 'key' | 'cert' | 'ca' | 'requestCert' | 'rejectUnauthorized'> {
  // Client certificates are asked for, never required by TLS: the policy judges them.
  return { key: m.key, cert: m.cert, ...(m.ca ? { ca: m.ca } : {}), requestCert: true, rejectUnauthorized: false };
}
