/**
 * Composition root of `relaygate serve`: the stores, the policy snapshot, the acceptor with its
 * group commit, and the SMTP listeners, started and stopped together.
 */
import { join } from 'node:path';
import type { RelaygateConfig } from '../config/index.js';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { MessageAcceptor } from '../queue/accept.js';
import { GroupCommitter } from '../queue/accept-group-commit.js';
import { Spool } from '../queue/accept-spool.js';
import type { AcceptStore } from '../queue/accept-types.js';
import { RelayServer, type BoundListener, type RelayServerSettings } from '../smtp/relay-server.js';
import { SessionPolicy, SnapshotCache, type DirectorySource } from '../smtp/policy-source.js';

export type LogFn = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

export function relaySettings(config: RelaygateConfig, tlsOverride?: RelayServerSettings['tls']): RelayServerSettings {
  return {
    hostname: config.hostname,
    listeners: config.listeners.map((l) => ({ name: l.name, host: l.host, port: l.port, tls: l.tls, maxMessageSize: l.maxMessageSize })),
    tls: tlsOverride ?? { cert: config.tls.cert, key: config.tls.key, clientCa: config.tls.clientCa },
    proxyTrusted: config.proxy.trusted,
    limits: {
      maxMessageSize: config.limits.maxMessageSize,
      maxRecipients: config.limits.maxRecipients,
      maxConnections: config.limits.maxConnections,
      maxConnectionsPerIp: config.limits.maxConnectionsPerIp,
      commandTimeout: config.limits.commandTimeout,
      maxUnknownCommands: config.limits.maxUnknownCommands,
      maxErrors: config.limits.maxErrors,
      maxLineLength: config.limits.maxLineLength,
    },
  };
}

export interface RelayParts {
  settings: RelayServerSettings;
  dataDir: string;
  directory: DirectorySource;
  queue: AcceptStore;
  clock?: Clock;
  log?: LogFn;
  /** How often the directory revision is checked for changes. */
  directoryCheckMs?: number;
}

export interface RunningRelay {
  server: RelayServer;
  acceptor: MessageAcceptor;
  listeners: BoundListener[];
  /** Stops accepting, closes sessions and waits for pending commits. */
  stop(): Promise<void>;
}

/** Builds and starts the SMTP front end on the given stores. */
export async function startRelay(parts: RelayParts): Promise<RunningRelay> {
  const log: LogFn = parts.log ?? (() => undefined);
  const committer = new GroupCommitter(parts.queue, (err, lost) =>
    log('error', `could not record ${lost} decisions: ${err instanceof Error ? err.message : String(err)}`),
  );
  const acceptor = new MessageAcceptor(new Spool(join(parts.dataDir, 'spool')), committer);
  const policy = new SessionPolicy(new SnapshotCache(parts.directory, parts.directoryCheckMs ?? 1000));
  const server = new RelayServer({ settings: parts.settings, policy, acceptor, clock: parts.clock ?? systemClock, log });
  const listeners = await server.start();
  return {
    server,
    acceptor,
    listeners,
    async stop() {
      await server.stop();
      await acceptor.drain();
    },
  };
}
