/**
 * Starts the real SMTP front end for a test: a temporary data folder with a real SQLite file and
 * spool, the given directory (tenants.yaml text), listeners on 127.0.0.1 / ::1 port 0.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDirectoryYaml } from '../../src/directory/index.js';
import type { Directory } from '../../src/directory/model.js';
import type { SqliteDatabase } from '../../src/store/sqlite/database.js';
import type { BodyStore, ConnectorHealthStore, DecisionStore, DirectoryStore, QueueAdminStore, QueueEntry, QueueStore, TraceStore } from '../../src/store/ports.js';
import { ConnectorHealthRecorder } from '../../src/health/recorder.js';
import { openSqliteStores } from '../../src/app/stores.js';
import { startRelay, type RunningRelay } from '../../src/app/server.js';
import type { ListenerSettings, RelayServerSettings } from '../../src/smtp/relay-server.js';
import type { Clock } from '../../src/core/clock.js';
import type { TestPki } from './certificates.js';

export interface HarnessOptions {
  directory: string | Directory;
  listeners?: ListenerSettings[];
  pki?: TestPki;
  /** Trust the test CA for client certificates (default true when a PKI is given). */
  trustTestCa?: boolean;
  proxyTrusted?: string[];
  limits?: Partial<RelayServerSettings['limits']>;
  clock?: Clock;
  hostname?: string;
  /**
   * Record connector health: the directory is written to the store (tenants get their ids there,
   * which the history refers to) and the relay reads it from there; `health` is then set.
   */
  connectorHealth?: boolean;
}

export interface Harness {
  relay: RunningRelay;
  dataDir: string;
  /** The SQLite file itself, for what no port shows (a trigger that makes the disk fail). */
  db: SqliteDatabase;
  queue: QueueStore;
  queueAdmin: QueueAdminStore;
  decisions: DecisionStore;
  /** The message trace the session wrote. */
  trace: TraceStore;
  bodies: BodyStore;
  /** Every message in the queue, oldest first, as the operator sees it. */
  queued(): Promise<QueueEntry[]>;
  /** One message, or undefined when it is not in the queue. */
  entry(id: string): Promise<QueueEntry | undefined>;
  /** Port of the listener with this name. */
  port(name: string): number;
  /** Swaps the directory the relay sees (a new revision). */
  setDirectory(yaml: string): void;
  errors: string[];
  /** The structured fields logged with each error (code, details, causes), in the order of `errors`. */
  errorFields: Array<Record<string, unknown>>;
  /** With `connectorHealth`: the recorder the sessions report to, and the stores it writes to and the report reads. */
  health?: { recorder: ConnectorHealthRecorder; store: ConnectorHealthStore; directory: DirectoryStore };
  stop(): Promise<void>;
}

export const defaultLimits: RelayServerSettings['limits'] = {
  maxMessageSize: 36 * 1024 * 1024,
  maxRecipients: 1000,
  maxConnections: 1000,
  maxConnectionsPerIp: 50,
  maxConnectionsPerNetwork: 100,
  networkPrefixV4: 24,
  networkPrefixV6: 64,
  reservedShare: 0.2,
  pressureThreshold: 0.7,
  commandTimeout: 30_000,
  commandDeadline: 60_000,
  dataDeadline: 120_000,
  pressureCommandTimeout: 10_000,
  pressureDataTimeout: 60_000,
  maxUnknownCommands: 10,
  maxErrors: 10,
  maxLineLength: 4096,
  maxHops: 50,
  allowAddressLiterals: false,
};

export async function startHarness(opts: HarnessOptions): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'relaygate-smtp-'));
  const stores = openSqliteStores({ dataDir });
  const { db, queue, queueAdmin, decisions, bodies, trace } = stores;
  const queued = (): Promise<QueueEntry[]> => queueAdmin.select({}, { limit: 100_000 });
  let directory = typeof opts.directory === 'string' ? parseDirectoryYaml(opts.directory) : opts.directory;
  let revision = 1;
  const errors: string[] = [];
  const errorFields: Array<Record<string, unknown>> = [];
  const listeners = opts.listeners ?? [
    { name: 'smtp', host: '127.0.0.1', port: 0, tls: opts.pki ? 'starttls' : 'none' },
  ];
  const pki = opts.pki;
  let health: Harness['health'];
  if (opts.connectorHealth) {
    await stores.directory.replace(directory);
    health = { recorder: new ConnectorHealthRecorder({ store: stores.connectorHealth }), store: stores.connectorHealth, directory: stores.directory };
  }
  const relay = await startRelay({
    settings: {
      hostname: opts.hostname ?? 'relay.test',
      listeners,
      tls: pki
        ? { cert: pki.server.certPath, key: pki.server.keyPath, ...(opts.trustTestCa === false ? {} : { clientCa: pki.ca.certPath }) }
        : {},
      proxyTrusted: opts.proxyTrusted ?? [],
      limits: { ...defaultLimits, ...opts.limits },
    },
    bodies,
    directory: health ? stores.directory : { load: async () => directory, revision: async () => revision },
    ...(health ? { traffic: health.recorder } : {}),
    queue,
    ...(opts.clock ? { clock: opts.clock } : {}),
    log: (level, message, fields) => {
      if (level !== 'error') return;
      errors.push(message);
      errorFields.push(fields ?? {});
    },
    directoryCheckMs: 0,
  });
  return {
    relay,
    dataDir,
    db,
    queue,
    queueAdmin,
    decisions,
    trace,
    bodies,
    queued,
    entry: async (id) => (await queueAdmin.select({ ids: [id] }, { limit: 1 }))[0],
    errors,
    errorFields,
    ...(health ? { health } : {}),
    port(name) {
      const l = relay.listeners.find((x) => x.name === name);
      if (!l) throw new Error(`no listener ${name}`);
      return l.port;
    },
    setDirectory(yaml) {
      directory = parseDirectoryYaml(yaml);
      revision++;
    },
    async stop() {
      await relay.stop();
      await health?.recorder.stop();
      stores.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A stored body as text (latin1, byte for byte), or null when there is none. */
export async function bodyText(bodies: BodyStore, id: string): Promise<string | null> {
  const stream = await bodies.open(id);
  if (!stream) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('latin1');
}
