/**
 * The relaygate.yaml schema (architecture.md, "Configuration"). Keys may be added, never renamed:
 * other tools and tests rely on them. Sizes and durations are parsed here into bytes and
 * milliseconds; listen addresses keep their text and gain `host`/`port`.
 */
import { z } from 'zod';
import ipaddr from 'ipaddr.js';
import { normalizeDomain } from '../core/domain.js';
import { ipRangeSchema } from '../directory/schema.js';
import { NODE_ID, NODE_ID_RULE } from './node-id.js';
import { parseDuration, parseHostPort, parseSize } from './units.js';
import { traceEventKinds, type TraceEventKind } from '../trace/events.js';

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: (iss) => `expected one of ${values.join('|')}, got ${JSON.stringify(iss.input)}` });
}

const size = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const bytes = parseSize(v);
  if (bytes === null) {
    ctx.addIssue({ code: 'custom', message: `expected a size such as 36MB, 512KB or a number of bytes, got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return bytes;
});

const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: `expected a duration such as 30s, 1m, 24h or a number of milliseconds, got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return ms;
});

/** A trace retention: a duration of at least an hour (a shorter one would prune what is being written). */
const traceRetention = duration.refine((ms) => ms >= 3_600_000, { error: 'expected at least 1h' });

const positiveInt = z.number({ error: 'expected a positive integer' }).int({ error: 'expected a positive integer' }).positive({ error: 'expected a positive integer' });

/** A fraction of a limit, 0.2 for 20 %; `min`/`max` inclusive unless said otherwise. */
function share(min: number, max: number, opts: { minExclusive?: boolean; maxExclusive?: boolean } = {}) {
  const range = `${opts.minExclusive ? '>' : '>='} ${min} and ${opts.maxExclusive ? '<' : '<='} ${max}`;
  const message = `expected a fraction ${range} (0.2 for 20 %)`;
  return z.number({ error: message }).refine((v) => (opts.minExclusive ? v > min : v >= min) && (opts.maxExclusive ? v < max : v <= max), { error: message });
}

function prefixLength(max: number) {
  const message = `expected a prefix length from 1 to ${max}`;
  return z.number({ error: message }).int({ error: message }).min(1, { error: message }).max(max, { error: message });
}

const address = z.string().transform((v, ctx) => {
  const hp = parseHostPort(v);
  if (hp === null) {
    ctx.addIssue({ code: 'custom', message: `expected "host:port" or "[ipv6]:port", got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return { address: v, ...hp };
});

/** A route's domain: canonical (normalizeDomain), optionally `*.` for every subdomain. */
const routeDomain = z.string().transform((v, ctx) => {
  const wild = v.startsWith('*.');
  const d = normalizeDomain(wild ? v.slice(2) : v);
  if (d === null) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not a domain or "*.domain"` });
    return z.NEVER;
  }
  return wild ? `*.${d}` : d;
});

export const listenerTlsModes = ['starttls', 'implicit', 'none'] as const;
export const routeTlsModes = ['none', 'opportunistic', 'required', 'verify'] as const;

const listener = z
  .strictObject({
    name: z.string().min(1),
    address,
    /** Default by port: implicit TLS on 465 (RFC 8314), STARTTLS elsewhere (25, 587). */
    tls: oneOf(listenerTlsModes).optional(),
    /** Overrides limits.maxMessageSize on this listener. */
    maxMessageSize: size.optional(),
  })
  .transform(({ address: a, tls, ...rest }) => ({ ...rest, ...a, tls: tls ?? (a.port === 465 ? ('implicit' as const) : ('starttls' as const)) }));

/** The listeners of a relaygate.yaml that names none: an MTA's usual ports on every address. */
const defaultListeners = [
  { name: 'smtp', address: '0.0.0.0:25' },
  { name: 'submission', address: '0.0.0.0:587' },
  { name: 'smtps', address: '0.0.0.0:465' },
];

const route = z
  .strictObject({
    /** Domains this route serves; `*.d` = every subdomain of d. */
    domains: z.array(routeDomain).min(1),
    /** "host:port"; the port defaults to 25. */
    host: z.string().transform((v, ctx) => {
      const hp = parseHostPort(v) ?? parseHostPort(v.includes(':') ? `[${v}]:25` : `${v}:25`);
      if (hp === null) {
        ctx.addIssue({ code: 'custom', message: `expected "host" or "host:port", got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return hp;
    }),
    tls: oneOf(routeTlsModes).default('opportunistic'),
  })
  .transform(({ host, ...rest }) => ({ ...rest, host: host.host, port: host.port }));

export const configSchema = z
  .strictObject({
    hostname: z.string().min(1),
    dataDir: z.string().min(1).default('./data'),
    /** This process's name on a shared queue (config/node-id.ts); derived from the host and dataDir when absent. */
    nodeId: z.string().regex(NODE_ID, { error: NODE_ID_RULE }).optional(),
    store: z
      .string()
      .refine((s) => s === 'sqlite' || /^postgres(ql)?:\/\//.test(s), {
        error: 'expected "sqlite" or a postgres:// URL',
      })
      .default('sqlite'),
    /** Settings of this node's sessions when `store` is a postgres:// URL (docs/postgresql.md). */
    postgres: z
      .strictObject({
        /** Connections this node keeps open at most; all nodes together stay below max_connections. */
        poolSize: positiveInt.default(10),
        /** A statement running longer is cancelled; 0: no limit. */
        statementTimeout: duration.default(30_000),
        /** A session idle inside a transaction longer is ended by the server; 0: no limit. */
        idleInTransactionTimeout: duration.default(60_000),
      })
      .prefault({}),
    listeners: z
      .array(listener)
      .min(1, { error: 'at least one listener is required' })
      .prefault(defaultListeners)
      .superRefine((list, ctx) => {
        const seen = new Set<string>();
        list.forEach((l, i) => {
          if (seen.has(l.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate listener name "${l.name}"` });
          seen.add(l.name);
        });
      }),
    tls: z
      .strictObject({
        cert: z.string().min(1).optional(),
        key: z.string().min(1).optional(),
        /** CAs trusted for client certificates; absent = Node's root store. */
        clientCa: z.string().min(1).optional(),
      })
      .prefault({}),
    proxy: z.strictObject({ trusted: z.array(ipRangeSchema).default([]) }).prefault({}),
    limits: z
      .strictObject({
        maxMessageSize: size.default(36 * 1024 * 1024),
        maxRecipients: positiveInt.default(1000),
        maxConnections: positiveInt.default(1000),
        maxConnectionsPerIp: positiveInt.default(50),
        /** Sources that match no enabled connector's IP range, per network (below). */
        maxConnectionsPerNetwork: positiveInt.default(100),
        networkPrefixV4: prefixLength(32).default(24),
        networkPrefixV6: prefixLength(128).default(64),
        /** The share of maxConnections that sources matching no connector's IP range never get. */
        reservedShare: share(0, 1, { maxExclusive: true }).default(0.2),
        /** Open connections over this share of maxConnections put the server under pressure. */
        pressureThreshold: share(0, 1, { minExclusive: true }).default(0.7),
        /** RFC 5321 §4.5.3.2: a server waits at least 5 minutes for the next command. */
        commandTimeout: duration.default(300_000),
        /** Wall-clock time to complete one command, however slowly its bytes arrive. */
        commandDeadline: duration.default(600_000),
        /** Wall-clock time from the 354 to the end of the message data. */
        dataDeadline: duration.default(1_800_000),
        /** Under pressure, for sources that match no connector's IP range. */
        pressureCommandTimeout: duration.default(10_000),
        pressureDataTimeout: duration.default(120_000),
        idleTimeout: duration.default(300_000),
        maxUnknownCommands: positiveInt.default(10),
        maxErrors: positiveInt.default(10),
        maxLineLength: positiveInt.default(4096),
        /** A message with more Received: fields is refused at end of DATA (554 5.4.6): it loops. Postfix's hopcount_limit. */
        maxHops: positiveInt.default(50),
        /** true: recipients like user@[192.0.2.1] are judged by the relay rules; false: 550 5.1.2 at RCPT. */
        allowAddressLiterals: z.boolean().default(false),
      })
      .prefault({}),
    delivery: z
      .strictObject({
        /** false: accept and queue only (a front-end-only node, or tests that must not deliver). */
        enabled: z.boolean().default(true),
        /** Intervals between attempts; the last one repeats. */
        retry: z.array(duration).min(1).default([60_000, 300_000, 900_000, 1_800_000, 3_600_000]),
        expireAfter: duration.default(86_400_000),
        delayNotifyAfter: duration.default(14_400_000),
        dns: z
          .strictObject({
            /** Empty: the system's resolvers. */
            servers: z.array(z.string().min(1)).default([]),
            timeout: duration.default(5_000),
          })
          .prefault({}),
        routes: z.array(route).default([]),
        /**
         * How long a node's claim on a recipient holds; renewed every third of it while it delivers.
         * Another node takes over what a dead one held after this: a dead node costs one lease of delay.
         */
        leaseTime: duration.refine((ms) => ms >= 1_000, { error: 'expected at least 1s' }).default(90_000),
        /** How often delivery looks for due retries when nothing wakes it. */
        pollInterval: duration.refine((ms) => ms >= 10, { error: 'expected at least 10ms' }).default(5_000),
        /**
         * true: MX/A/AAAA answers (and address-literal recipients) that point at loopback, unspecified
         * or link-local addresses are connected to, for lab setups whose DNS says 127.0.0.1. false:
         * such mail is a loop, failed 554 5.4.6 with a DSN. Routes above are never affected.
         */
        allowLocalAddresses: z.boolean().default(false),
        /** Outbound throttles; a rate of 0 is unlimited. */
        limits: z
          .strictObject({
            globalConcurrency: positiveInt.default(100),
            perDestinationConcurrency: positiveInt.default(10),
            perDestinationPerMinute: z.number().int().min(0).default(0),
            perTenantPerMinute: z.number().int().min(0).default(0),
          })
          .prefault({}),
        /** SRS rewrite domain for tenants that name none (default: hostname). */
        srsDomain: z.string().min(1).optional(),
      })
      .prefault({}),
    admin: z
      .strictObject({
        address,
        /** Serve the API over HTTPS with this certificate chain and key (PEM files); absent: plain HTTP. */
        tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
        /** Failed authentications one client address may make per `authFailureWindow` before it gets 429. */
        maxAuthFailures: positiveInt.default(10),
        authFailureWindow: duration.refine((ms) => ms >= 1_000, { error: 'expected at least 1s' }).default(60_000),
        /** The largest request body the API reads (an uploaded .eml for /v1/check included). */
        maxBodySize: size.default(10 * 1024 * 1024),
      })
      .transform(({ address: a, tls, ...rest }) => ({ ...a, tls: tls ?? null, ...rest }))
      .prefault({ address: '127.0.0.1:8025' }),
    /** Tenants' webhooks (docs/webhooks.md): the worker `serve` runs and where targets may be. */
    webhooks: z
      .strictObject({
        /**
         * false: a target URL whose host is (or resolves to) a private, loopback, link-local or
         * reserved address is refused, when subscribing and again at every connection. true: for labs.
         */
        allowPrivateTargets: z.boolean().default(false),
        /** How often the worker looks for due deliveries. */
        pollInterval: duration.refine((ms) => ms >= 10, { error: 'expected at least 10ms' }).default(1_000),
        /** How long one attempt may take (connect, send, answer). */
        timeout: duration.refine((ms) => ms >= 100, { error: 'expected at least 100ms' }).default(15_000),
      })
      .prefault({}),
    /** The message trace (docs/trace.md): how long each kind of event is kept, and how it is pruned. */
    trace: z
      .strictObject({
        /** Per kind of event (connected, refused, delivered, ...); a kind not named keeps `default`. */
        retention: z
          .strictObject({
            default: traceRetention.default(30 * 86_400_000),
            ...(Object.fromEntries(traceEventKinds.map((k) => [k, traceRetention.optional()])) as Record<TraceEventKind, z.ZodOptional<typeof traceRetention>>),
          })
          .prefault({}),
        /** How often serve prunes what is past its retention. */
        pruneInterval: duration.refine((ms) => ms >= 1_000, { error: 'expected at least 1s' }).default(3_600_000),
        /** Events one prune batch removes at most; batches yield to the relay in between. */
        pruneBatch: positiveInt.default(1_000),
      })
      .prefault({}),
    /** Prometheus metrics (docs/metrics.md); absent: no metrics listener. */
    metrics: z
      .strictObject({
        /** Where `serve` answers GET /metrics. */
        address: address.prefault('127.0.0.1:9464'),
        /** A scrape must send `Authorization: Bearer <token>` (RELAYGATE_METRICS_TOKEN overrides it). */
        token: z.string().min(16, { error: 'expected a token of at least 16 characters' }).optional(),
        /** Client address ranges allowed to scrape; empty: any client that reaches the address. */
        allowFrom: z.array(ipRangeSchema).default([]),
        /** Tenants that get a `tenant` label of their own; the others share tenant="other". */
        tenantLabelLimit: z.number().int().min(0, { error: 'expected 0 or more' }).default(50),
      })
      .superRefine((m, ctx) => {
        if (!isLoopback(m.address.host) && m.token === undefined && m.allowFrom.length === 0) {
          ctx.addIssue({ code: 'custom', path: ['address'], message: `${m.address.address} is not a loopback address: set metrics.token or metrics.allowFrom` });
        }
      })
      .optional(),
  });

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  return ipaddr.isValid(host) && ipaddr.process(host).range() === 'loopback';
}

type Parsed = z.output<typeof configSchema>;

/** The validated, resolved configuration. Paths are absolute; sizes in bytes; durations in ms. */
export type RelaygateConfig = Readonly<
  Omit<Parsed, 'nodeId'> & {
    /** Given or derived (config/node-id.ts); RELAYGATE_NODE_ID overrides it. */
    nodeId: string;
    /** The file it came from; null for the built-in demo settings. */
    configFile: string | null;
  }
>;
