/**
 * DKIM signing per tenant domain with mailauth. Keys live in the tenant settings store and are read
 * from its snapshot (store/tenant-settings-snapshot.ts); the signing domain is the RFC5322.From domain of the message, or the nearest parent
 * domain the tenant has a key for (relaxed alignment for DMARC).
 */
import type { Readable } from 'node:stream';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { parentDomains, normalizeDomain } from '../core/domain.js';
import type { DkimAlgorithm, DkimKey } from '../store/ports.js';

export type { DkimAlgorithm, DkimKey };
export { dkimRecordName, dkimTxtRecord, generateDkimKey } from './dkim-keys.js';

/** Where keys come from: the tenant settings snapshot of the delivery pass. */
export interface DkimKeySource {
  /** The tenant's (by id) newest active key for exactly `domain`. */
  activeKey(tenantId: string, domain: string): DkimKey | null;
}

/** The key of the tenant (by id) for the From domain: exact domain first, then its parents. */
export function findSigningKey(keys: DkimKeySource, tenantId: string, fromDomain: string): DkimKey | null {
  const d = normalizeDomain(fromDomain);
  if (d === null) return null;
  for (const candidate of [d, ...parentDomains(d)]) {
    if (!candidate.includes('.')) break;
    const key = keys.activeKey(tenantId, candidate);
    if (key) return key;
  }
  return null;
}

/** The DKIM-Signature header(s) for the message read from `input` ("" when signing failed). */
export async function dkimSignatureFor(input: Readable | Buffer, key: DkimKey, signTime: Date): Promise<{ header: string; errors: string[] }> {
  const signature = {
    signingDomain: key.domain,
    selector: key.selector,
    privateKey: key.privateKey,
    algorithm: key.algorithm === 'ed25519' ? 'ed25519-sha256' : 'rsa-sha256',
  };
  // mailauth reads only signatureData; the typings also ask for the fields at the top level.
  const result = await dkimSign(input, { ...signature, canonicalization: 'relaxed/relaxed', signTime, signatureData: [signature] });
  const errors = (result.errors ?? []).map((e) => (e instanceof Error ? e.message : String(e)));
  const header = result.signatures.trim() === '' ? '' : result.signatures;
  return { header, errors };
}
