/**
 * DKIM key material without the signer (mailauth stays out of what the dkim commands and the
 * DKIM service load): new key pairs and the DNS TXT record that publishes one.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { DkimAlgorithm, DkimKey } from '../store/ports.js';

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

