/**
 * What `relaygate serve` prints when it has started (stdout) and logs when it stops: which
 * configuration, data directory and directory it runs on, where it listens, and with the built-in
 * demo settings the swaks commands that try both of the demo tenant's connectors.
 */
import type { DemoTlsFiles } from '../app/demo-tls.js';
import type { StopSummary } from '../app/server.js';
import type { BoundListener } from '../smtp/relay-server.js';

export interface BannerFacts {
  /** The configuration file, or null for the built-in demo settings. */
  configFile: string | null;
  dataDir: string;
  tenants: readonly string[];
  listeners: readonly BoundListener[];
  /** With the built-in demo settings: the demo's TLS files (null when no listener uses TLS). */
  demo: { tls: DemoTlsFiles | null } | null;
  /** Where /metrics answers, when relaygate.yaml has a metrics section. */
  metrics?: { host: string; port: number; token: boolean; allowFrom: number } | null;
}

/** Tenant names shown in the banner; more are counted only. */
const NAMED_TENANTS = 5;

export function serveBanner(f: BannerFacts): string {
  const lines = [
    `relaygate: configuration: ${f.configFile ?? 'built-in demo settings (no --config and no ./relaygate.yaml)'}`,
    `relaygate: data directory: ${f.dataDir}`,
    `relaygate: directory: ${tenantSummary(f.tenants)}`,
    ...f.listeners.map((l) => `relaygate: listening on ${hostPort(l)} (${l.name}, tls: ${l.tls})`),
    ...(f.metrics ? [`relaygate: metrics on http://${hostPort(f.metrics)}/metrics (${metricsGuard(f.metrics)})`] : []),
  ];
  const plain = f.listeners.find((l) => l.tls !== 'implicit');
  if (f.demo && plain) lines.push(...demoHints(hostPort(plain), plain.tls === 'starttls' ? f.demo.tls : null));
  else if (f.tenants.length === 0) lines.push('relaygate: no tenants yet, so every message is refused: add them with  npx relaygate apply -f tenants.yaml' + configArg(f));
  return lines.join('\n') + '\n';
}

function metricsGuard(m: NonNullable<BannerFacts['metrics']>): string {
  const guards = [...(m.token ? ['bearer token'] : []), ...(m.allowFrom > 0 ? [`${m.allowFrom} allowed address range${m.allowFrom === 1 ? '' : 's'}`] : [])];
  return guards.length > 0 ? guards.join(', ') : 'open to any client that reaches it';
}

function tenantSummary(tenants: readonly string[]): string {
  if (tenants.length === 0) return 'no tenants';
  const count = `${tenants.length} ${tenants.length === 1 ? 'tenant' : 'tenants'}`;
  if (tenants.length > NAMED_TENANTS) return count;
  return `${count} (${tenants.join(', ')})`;
}

function demoHints(server: string, tls: DemoTlsFiles | null): string[] {
  const lines = [
    'relaygate: demo: tenant "demo" owns demo.example. In a second terminal, relay a message over its IP connector',
    '  "loopback" (this machine), whose envelope sender is in an accepted domain:',
    `    swaks --server ${server} --from app@demo.example --to someone@example.com`,
  ];
  if (tls) {
    lines.push(
      '  and a null-sender bounce, which the IP connector alone refuses (550 5.7.64), over its certificate connector',
      `  "certificate" with the demo client certificate for mail.demo.example (its CA is the demo's tls.clientCa):`,
      `    swaks --server ${server} --tls --tls-cert ${shellWord(tls.clientCert)} --tls-key ${shellWord(tls.clientKey)} --from '<>' --to someone@example.com`,
    );
  }
  lines.push('  then see the queue with:  npx relaygate queue list');
  return lines;
}

function configArg(f: BannerFacts): string {
  return f.configFile ? ` --config ${shellWord(f.configFile)}` : '';
}

/** The shutdown's log line: what was open, waiting or running, and that it is done. */
export function stopSummaryText(s: StopSummary): string {
  const parts = [
    s.sessionsClosed === 0 ? 'no open sessions' : `closed ${s.sessionsClosed} open ${s.sessionsClosed === 1 ? 'session' : 'sessions'}`,
    s.messagesCommitted + s.decisionsCommitted === 0
      ? 'nothing was waiting to be committed'
      : `committed ${plural(s.messagesCommitted, 'message')} and ${plural(s.decisionsCommitted, 'decision record')} that were waiting`,
    s.deliveryPassAwaited ? 'the delivery pass in progress finished' : 'no delivery in progress',
  ];
  return `stopped: ${parts.join(', ')}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function hostPort(l: Pick<BoundListener, 'host' | 'port'>): string {
  return l.host.includes(':') ? `[${l.host}]:${l.port}` : `${l.host}:${l.port}`;
}

/** A path as one shell word: as it is when it is plain, else in single quotes. */
function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
