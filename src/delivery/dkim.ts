/**
 * DKIM signing per tenant domain with mailauth. Keys live in the store (migration 003, table
 * dkim_keys); the signing domain is the RFC5322.From domain of the message, or the nearest parent
 * domain the tenant has a key for (relaxed alignment for DMARC).
 */
import { generateKeyPairSync } from 'node:crypto';
import type { Readable } from 'node:stream';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { parentDomains, normalizeDomain } from '../core/domain.js';

export type DkimAlgorithm = 'rsa' | 'ed25519';

export interface DkimKey {
  tenant: string;
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  privateKey: string; // PEM
  /** The p= value of the TXT record (base64). */
  publicKey: string;
}

/** Where keys come from (the SQLite adapter is SqliteDkimKeyStore in the delivery store). */
export interface DkimKeySource {
  activeKey(tenant: string, domain: string): DkimKey | null;
}

/** A new key pair and the value of its `<selector>._domainkey.<domain>` TXT record. */
export function generateDkimKey(algorithm: DkimAlgorithm = 'rsa', bits = 2048): { privateKey: string; publicKey: string } {
  if (algorithm === 'ed25519') {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    // RFC 8463: p= is the raw 32-byte public key, not the SPKI structure.
    const spki = publicKey.export({ format: 'der', type: 'spki' });
    return { privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), publicKey: spki.subarray(spki.length - 32).toString('base64') };
  }
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return {
    privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
  };
}

export function dkimRecordName(selector: string, domain: string): string {
  return `${selector}._domainkey.${domain}`;
}

export function dkimTxtRecord(key: Pick<DkimKey, 'algorithm' | 'publicKey'>): string {
  return `v=DKIM1; k=${key.algorithm}; p=${key.publicKey}`;
}

/** The key for the From domain of `tenant`: exact domain first, then its parents. */
export function findSigningKey(keys: DkimKeySource, tenant: string, fromDomain: string): DkimKey | null {
  const d = normalizeDomain(fromDomain);
  if (d === null) return null;
  for (const candidate of [d, ...parentDomains(d)]) {
    if (!candidate.includes('.')) break;
    const key = keys.activeKey(tenant, candidate);
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
