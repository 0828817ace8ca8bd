/**
 * The shapes the admin API answers with (for the OpenAPI document and the tests that hold answers
 * to it) and the request shapes of the directory. Request shapes check types only: the rules of a
 * valid directory entry stay in directory/ (validateDirectory), which every write goes through.
 */
import { z } from 'zod';

export const ruleSetSetting = z.enum(['auto', '2023-11', 'legacy']);
export const connectorType = z.enum(['OnPremises', 'Partner']);
export const domainType = z.enum(['Authoritative', 'InternalRelay']);

export const acceptedDomainView = z.object({ domain: z.string(), type: domainType, matchSubDomains: z.boolean() });

/** A connector's settings: what the API answers with and what a write may set (by name in the path). */
const connectorFields = {
  type: connectorType,
  enabled: z.boolean(),
  senderIPAddresses: z.array(z.string()),
  tlsSenderCertificateName: z.string().nullable(),
  requireTls: z.boolean(),
  restrictDomainsToIPAddresses: z.boolean(),
  restrictDomainsToCertificate: z.boolean(),
  senderDomains: z.array(z.string()),
  treatMessagesAsInternal: z.boolean(),
  cloudServicesMailEnabled: z.boolean(),
  allowBareLineEndings: z.enum(['reject', 'normalize']),
  comment: z.string(),
};

export const connectorView = z.object({ name: z.string(), ...connectorFields });

export const tenantView = z.object({
  id: z.string().describe('The tenant id (a ULID); a rename keeps it. Paths take it or the name.'),
  name: z.string(),
  relayRuleSet: ruleSetSetting,
  rejectDirectSend: z.boolean(),
  acceptedDomains: z.array(acceptedDomainView),
  inboundConnectors: z.array(connectorView),
});

export const changeView = z.object({
  action: z.enum(['add', 'remove', 'change']),
  entity: z.enum(['tenant', 'acceptedDomain', 'connector']),
  tenant: z.string(),
  name: z.string(),
  fields: z.array(z.object({ field: z.string(), before: z.unknown(), after: z.unknown() })),
});

export const changesAnswer = z.object({ revision: z.number().int(), changes: z.array(changeView) });

export const connectorPatchBody = z.strictObject(connectorFields).partial();
export const connectorBody = connectorPatchBody.extend({ name: z.string(), type: connectorType });
export const domainBody = z.strictObject({ domain: z.string(), type: domainType.optional(), matchSubDomains: z.boolean().optional() });
export const tenantPatchBody = z.strictObject({ relayRuleSet: ruleSetSetting.optional(), rejectDirectSend: z.boolean().optional() });
export const tenantBody = tenantPatchBody.extend({
  name: z.string(),
  acceptedDomains: z.array(domainBody).optional(),
  inboundConnectors: z.array(connectorBody).optional(),
});

export const tenantParams = z.strictObject({ tenant: z.string().min(1).describe('The tenant id or name (any case).') });

/** The query parameter that pages: `limit` as a whole number in text. */
export function limitQuery(max: number, fallback: number) {
  return z
    .string()
    .regex(/^[1-9]\d{0,6}$/, { error: `expected a whole number from 1 to ${max}` })
    .transform(Number)
    .refine((n) => n <= max, { error: `expected a whole number from 1 to ${max}` })
    .optional()
    .transform((n) => n ?? fallback);
}
