import type { TenantId } from '../../directory/index.js';

// Delivery's and the front end's per-tenant settings, keyed by the tenant's id (never its name):
// a rename keeps them, removing the tenant removes them.

export type DkimAlgorithm = 'rsa' | 'ed25519';

/** What signing needs of a key. */
export interface DkimKey {
  /** The signing domain (d=). */
  domain: string;
  /** The selector (s=), lower case. */
  selector: string;
  algorithm: DkimAlgorithm;
  /** PEM (PKCS #8). */
  privateKey: string;
  /** The p= value of the TXT record (base64). */
  publicKey: string;
}

export interface StoredDkimKey extends DkimKey {
  tenantId: TenantId;
  active: boolean;
  /** Epoch milliseconds; of a domain's active keys the newest signs. */
  createdAt: number;
}

/** A key as it may be shown: without the private key. */
export type DkimKeyInfo = Omit<StoredDkimKey, 'privateKey'>;

export type TlsMode = 'none' | 'opportunistic' | 'required' | 'verify';

export interface RouteAuth {
  user: string;
  pass: string;
}

export interface ClientCertificate {
  cert: string; // PEM
  key: string; // PEM
}

/** A smart host for recipient domains: exact `d`, `*.d` (every subdomain of d) or `*`. */
export interface Route {
  domains: readonly string[];
  host: string;
  port: number;
  tls: TlsMode;
  auth?: RouteAuth | null;
  clientCert?: ClientCertificate | null;
}

/** A tenant route as stored, with the id `relaygate route remove` takes. */
export interface StoredRoute {
  id: number;
  tenantId: TenantId;
  route: Route;
}

export interface TenantSrsSetting {
  enabled: boolean;
  /** null: the server's default rewrite domain. */
  rewriteDomain: string | null;
}

/** SRS is on, with the server's rewrite domain, for a tenant that never changed it. */
export const defaultSrsSetting: TenantSrsSetting = Object.freeze({ enabled: true, rewriteDomain: null });

/** Every tenant setting at one revision: what a snapshot is built from. */
export interface TenantSettingsState {
  revision: number;
  dkimKeys: StoredDkimKey[];
  /** In id order (routing prefers the older of two equally good routes). */
  routes: StoredRoute[];
  srs: Array<{ tenantId: TenantId; setting: TenantSrsSetting }>;
  /** Tenants with a daily recipient limit (null: set to unlimited). */
  dailyLimits: Array<{ tenantId: TenantId; dailyRecipients: number | null }>;
  /** Tenants that chose whether relayed mail keeps our X-Relaygate-* fields (off when never set). */
  relayedHeaders: Array<{ tenantId: TenantId; keep: boolean }>;
}

/** Optimistic concurrency for a settings write: only at this settings revision, else `stale-revision`. */
export interface SettingsWriteOptions {
  ifRevision?: number;
}

/**
 * Per-tenant settings: DKIM keys, outbound routes, SRS settings, daily recipient limits and whether
 * relayed mail keeps our X-Relaygate-* fields. Writes
 * for a tenant id the directory does not have are refused. Every change (a tenant's removal
 * included) makes `revision()` grow, so readers rebuild their snapshot only when it moved; the hot
 * path reads the snapshot (store/tenant-settings-snapshot.ts), never this port.
 */
export interface TenantSettingsStore {
  /** A number that grows with every change; 0 when nothing was ever set. Every write takes SettingsWriteOptions. */
  revision(): Promise<number>;
  /** Everything, read in one transaction with the revision it is at. */
  read(): Promise<TenantSettingsState>;

  /** Adds the key, or replaces the tenant's key of the same domain and selector; it is active. */
  putDkimKey(key: StoredDkimKey, options?: SettingsWriteOptions): Promise<void>;
  /** Keys (of one tenant, or of all), by domain and selector, without private keys. */
  dkimKeys(tenantId?: TenantId): Promise<DkimKeyInfo[]>;

  /** Stores the route and returns it with its new id. */
  addRoute(tenantId: TenantId, route: Route, options?: SettingsWriteOptions): Promise<StoredRoute>;
  /** Routes (of one tenant, or of all), in id order. */
  routes(tenantId?: TenantId): Promise<StoredRoute[]>;
  /** Removes the tenant's route `id` and returns it; null when the tenant has no such route. */
  removeRoute(tenantId: TenantId, id: number, options?: SettingsWriteOptions): Promise<StoredRoute | null>;

  /** The tenant's SRS setting (defaultSrsSetting when never set). */
  srsSetting(tenantId: TenantId): Promise<TenantSrsSetting>;
  setSrsSetting(tenantId: TenantId, setting: TenantSrsSetting, options?: SettingsWriteOptions): Promise<void>;

  /** The tenant's daily recipient limit; null = unlimited. */
  dailyLimit(tenantId: TenantId): Promise<number | null>;
  setDailyLimit(tenantId: TenantId, limit: number | null, options?: SettingsWriteOptions): Promise<void>;

  /** Whether mail the tenant relays to outside recipients keeps our X-Relaygate-* fields; false when never set. */
  keepsRelayedHeaders(tenantId: TenantId): Promise<boolean>;
  setRelayedHeaders(tenantId: TenantId, keep: boolean, options?: SettingsWriteOptions): Promise<void>;
}
