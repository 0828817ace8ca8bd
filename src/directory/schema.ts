/**
 * The tenants.yaml shape as zod schemas (issue 2, relay-policy.md §1). Parsing also canonicalises:
 * domains to A-label lower case, IP entries to CIDR text, certificate names to lower case, and fills
 * every default so a parsed directory is complete. Rules between fields and items (duplicates,
 * combinations) live in validate.ts, so they are checked even when a neighbouring field is malformed.
 */
import { z } from 'zod';
import { normalizeDomain } from '../core/domain.js';
import { canonicalCidr } from '../core/ip-prefix.js';
import { canonicalUlid } from '../core/ulid.js';
import { connectorDefaults } from './model.js';

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: (iss) => `expected one of ${values.join('|')}, got ${JSON.stringify(iss.input)}` });
}

/** Names of tenants and connectors: printable, no surrounding blanks, at most 64 characters. */
export const nameSchema = z.string().check((ctx) => {
  const v = ctx.value;
  if (v.length === 0) ctx.issues.push({ code: 'custom', input: v, message: 'must not be empty' });
  else if (v.length > 64) ctx.issues.push({ code: 'custom', input: v, message: 'at most 64 characters' });
  else if (v.trim() !== v || /[\x00-\x1f\x7f]/.test(v)) {
    ctx.issues.push({ code: 'custom', input: v, message: `${JSON.stringify(v)} has surrounding blanks or control characters` });
  }
});

export const domainSchema = z.string().transform((v, ctx) => {
  const d = normalizeDomain(v);
  if (d === null) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not a valid domain name` });
    return z.NEVER;
  }
  return d as string;
});

export const acceptedDomainSchema = z
  .strictObject({
    domain: domainSchema,
    type: z
      .string()
      .transform((v, ctx) => {
        if (v === 'Authoritative' || v === 'InternalRelay') return v;
        ctx.addIssue({
          code: 'custom',
          message:
            v === 'ExternalRelay'
              ? 'ExternalRelay exists only in on-premises Exchange; use Authoritative or InternalRelay'
              : `expected one of Authoritative|InternalRelay, got ${JSON.stringify(v)}`,
        });
        return z.NEVER;
      })
      .default('Authoritative'),
    matchSubDomains: z.boolean().default(false),
  });

/** An IP address or CIDR range, in canonical CIDR form (also used by relaygate.yaml's proxy.trusted). */
export const ipRangeSchema = z.string().transform((v, ctx) => {
  const c = canonicalCidr(v);
  if (c === null) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not an IP address or CIDR range` });
    return z.NEVER;
  }
  return c;
});

/** A host name, or `*.parent` (matches parent and every subdomain); any other `*` is invalid. */
const certificateName = z.string().transform((v, ctx) => {
  const wildcard = v.startsWith('*.');
  const rest = wildcard ? v.slice(2) : v;
  if (rest.includes('*')) {
    ctx.addIssue({
      code: 'custom',
      message: `${JSON.stringify(v)} has an embedded wildcard; only a leading "*.parent" is allowed`,
    });
    return z.NEVER;
  }
  const d = normalizeDomain(rest);
  if (d === null) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not a host name` });
    return z.NEVER;
  }
  return wildcard ? `*.${d}` : (d as string);
});

const senderDomain = z.string().transform((v, ctx) => {
  if (v === '*') return v;
  const wildcard = v.startsWith('*.');
  const d = normalizeDomain(wildcard ? v.slice(2) : v);
  if (d === null) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not a domain, "*.domain" or "*"` });
    return z.NEVER;
  }
  return wildcard ? `*.${d}` : (d as string);
});

const cd = connectorDefaults;

export const connectorSchema = z
  .strictObject({
    name: nameSchema,
    type: oneOf(['OnPremises', 'Partner']),
    enabled: z.boolean().default(cd.enabled),
    senderIPAddresses: z.array(ipRangeSchema).default([]),
    tlsSenderCertificateName: certificateName.nullable().default(null),
    requireTls: z.boolean().default(cd.requireTls),
    restrictDomainsToIPAddresses: z.boolean().default(cd.restrictDomainsToIPAddresses),
    restrictDomainsToCertificate: z.boolean().default(cd.restrictDomainsToCertificate),
    senderDomains: z.array(senderDomain).default(() => [...cd.senderDomains]),
    treatMessagesAsInternal: z.boolean().default(cd.treatMessagesAsInternal),
    cloudServicesMailEnabled: z.boolean().default(cd.cloudServicesMailEnabled),
    allowBareLineEndings: oneOf(['reject', 'normalize']).default(cd.allowBareLineEndings),
    comment: z.string().default(cd.comment),
  });

/** A tenant id as `export` writes it: a ULID (26 characters of Crockford base32), any case in. */
export const tenantIdSchema = z.string().transform((v, ctx) => {
  const id = canonicalUlid(v);
  if (id === null) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not a tenant id (a ULID of 26 characters, as export writes it)` });
    return z.NEVER;
  }
  return id;
});

export const tenantSchema = z.strictObject({
  name: nameSchema,
  id: tenantIdSchema.optional(),
  relayRuleSet: oneOf(['auto', '2023-11', 'legacy']).default('auto'),
  rejectDirectSend: z.boolean().default(false),
  acceptedDomains: z.array(acceptedDomainSchema).default([]),
  inboundConnectors: z.array(connectorSchema).default([]),
});

export const directorySchema = z.strictObject({
  tenants: z.array(tenantSchema).default([]),
});

/** What a file or command may give: the parsed shape before defaults. */
export type TenantInput = z.input<typeof tenantSchema>;
export type AcceptedDomainInput = z.input<typeof acceptedDomainSchema>;
export type ConnectorInput = z.input<typeof connectorSchema>;
export type DirectoryInput = z.input<typeof directorySchema>;
