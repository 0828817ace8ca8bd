/**
 * DKIM signing keys per tenant domain: the rules every front end shares (domain, selector, key
 * type and size) and the record to publish. Delivery signs with the newest active key of the From
 * domain (or its nearest parent) from the next pass on.
 */
import { compareText, normalizeDomain } from '../core/domain.js';
import { invalidField } from '../core/field-error.js';
import { requireTenant } from '../directory/find-tenant.js';
import type { DirectoryStore, DkimAlgorithm, SettingsWriteOptions, TenantSettingsStore } from '../store/ports.js';
import { dkimRecordName, dkimTxtRecord, generateDkimKey } from './dkim-keys.js';

const SELECTOR = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

export interface DkimKeyRequest {
  tenant: string;
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  /** RSA key size (1024 to 8192); ignored for ed25519. */
  bits: number;
}

/** A key as it may be shown, with the TXT record that publishes it. */
export interface DkimKeyView {
  tenant: string;
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  publicKey: string;
  /** `<selector>._domainkey.<domain>` */
  name: string;
  txt: string;
}

export class DkimService {
  constructor(
    private readonly deps: { directory: Pick<DirectoryStore, 'load'>; settings: TenantSettingsStore },
    private readonly now: () => number = Date.now,
  ) {}

  /** Makes and stores a key (replacing the tenant's key of that domain and selector). */
  async generate(request: DkimKeyRequest, options: SettingsWriteOptions = {}): Promise<DkimKeyView> {
    const domain = normalizeDomain(request.domain);
    if (domain === null) throw invalidField('domain', `not a domain name: ${request.domain}`);
    if (!SELECTOR.test(request.selector)) throw invalidField('selector', `not a valid selector: ${request.selector}`);
    if (request.algorithm !== 'rsa' && request.algorithm !== 'ed25519') throw invalidField('algorithm', `expected rsa or ed25519, got ${JSON.stringify(request.algorithm)}`);
    if (request.algorithm === 'rsa' && (!Number.isInteger(request.bits) || request.bits < 1024 || request.bits > 8192)) {
      throw invalidField('bits', `must be between 1024 and 8192, got ${request.bits}`);
    }
    const tenant = requireTenant(await this.deps.directory.load(), request.tenant);
    const selector = request.selector.toLowerCase();
    const pair = generateDkimKey(request.algorithm, request.bits);
    await this.deps.settings.putDkimKey({ tenantId: tenant.id, domain, selector, algorithm: request.algorithm, ...pair, active: true, createdAt: this.now() }, options);
    return view(tenant.name, { domain, selector, algorithm: request.algorithm, publicKey: pair.publicKey });
  }

  /** Every key, or one tenant's (any case), by tenant name, domain and selector. */
  async list(tenantName?: string): Promise<DkimKeyView[]> {
    const directory = await this.deps.directory.load();
    const tenant = tenantName === undefined ? undefined : requireTenant(directory, tenantName);
    const names = new Map(directory.tenants.map((t) => [t.id, t.name]));
    return (await this.deps.settings.dkimKeys(tenant?.id))
      .map((k) => view(names.get(k.tenantId) ?? k.tenantId, k))
      .sort((a, b) => compareText(a.tenant, b.tenant) || compareText(a.domain, b.domain) || compareText(a.selector, b.selector));
  }
}

function view(tenant: string, k: Pick<DkimKeyView, 'domain' | 'selector' | 'algorithm' | 'publicKey'>): DkimKeyView {
  return { tenant, domain: k.domain, selector: k.selector, algorithm: k.algorithm, publicKey: k.publicKey, name: dkimRecordName(k.selector, k.domain), txt: dkimTxtRecord(k) };
}
