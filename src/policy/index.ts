/** The relay policy engine: the one implementation of every rule of relay-policy.md. */
export { buildSnapshot, DirectorySnapshot } from './snapshot.js';
export { evaluate } from './evaluate.js';
export { parseEnvelopeAddress, firstHeaderAddress } from './address.js';
export { ruleSetInForce, RULE_CHANGE_AT } from './rule-set.js';
export { SRS_RETURN_RATE, SRS_RETURNS_PER_OUTSIDE_RECIPIENT } from './srs-return.js';
export { connectorFindings, tenantFindings } from './findings.js';
export { parsePrefix, formatPrefix, canonicalCidr } from '../core/ip-prefix.js';
export { parseCertificateNamePattern } from './certificate-name.js';
export type * from './types.js';
