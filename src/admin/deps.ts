/** What the admin API calls: the services (the same ones the CLI calls) and the access rules' state. */
import type { AuditService } from '../access/audit.js';
import type { AuthThrottle } from '../access/auth-throttle.js';
import type { TokenService } from '../access/tokens.js';
import type { Clock } from '../core/clock.js';
import type { LogFn } from '../observability/logger.js';
import type { QueueAdmin } from '../queue/admin.js';
import type { DirectoryStore } from '../store/ports.js';
import type { CheckDeps } from './routes/check.js';
import type { ReportDeps } from './routes/reports.js';
import type { TraceSearchService } from '../compliance/trace-search.js';
import type { SettingsDeps } from './routes/settings.js';
import type { WebhookService } from '../webhooks/webhook-service.js';

export interface ReadinessCheck {
  ok: boolean;
  detail: string;
}

export interface AdminDeps {
  directory: DirectoryStore;
  tokens: TokenService;
  audit: AuditService;
  throttle: AuthThrottle;
  clock: Clock;
  /** Store reachable, listeners up: each check by name. */
  readiness(): Promise<Record<string, ReadinessCheck>>;
  /** Turns a store adapter's own failure into store-unavailable/store-full (app/stores.ts's asStoreFailure). */
  classifyError(err: unknown): unknown;
  log?: LogFn;
  /** A tenant's settings (routes, DKIM, SRS, quota, relayed headers): the services the CLI uses. */
  settings: Omit<SettingsDeps, 'directory'>;
  queue: QueueAdmin;
  /** What POST /v1/check judges with: the relay's client-certificate trust and policy settings. */
  check: Pick<CheckDeps, 'trust' | 'policy'>;
  /** The impact report and connector health services. */
  reports: Pick<ReportDeps, 'impact' | 'health'>;
  trace: TraceSearchService;
  /** Tenants' webhooks: the service `relaygate webhook` calls. */
  webhooks: WebhookService;
  /** The largest body any route reads (an uploaded message); JSON bodies are held to a smaller limit. */
  maxBodySize: number;
}
