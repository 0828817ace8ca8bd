import { X509Certificate } from 'node:crypto';
import type { CertificateFacts } from '../policy/types.js';

/**
 * The names a certificate presents: the subject CN plus every DNS subjectAltName (relay-policy.md
 * §2), lower-cased and without duplicates. IP, e-mail and URI alternative names are not host names
 * and do not count.
 */
export function certificateNames(cert: X509Certificate): string[] {
  const names: string[] = [];
  const cn = commonName(cert.subject);
  if (cn) names.push(cn.toLowerCase());
  for (const entry of splitAltNames(cert.subjectAltName ?? '')) {
    if (entry.startsWith('DNS:')) names.push(entry.slice(4).trim().toLowerCase());
  }
  return [...new Set(names)];
}

/** The CN of a distinguished name as Node renders it (`CN=mail.contoso.com\nO=Contoso`); null when there is none. */
export function commonName(distinguishedName: string): string | null {
  return /(?:^|\n)CN=([^\n]+)/.exec(distinguishedName)?.[1]?.trim() || null;
}

/** The DNS subjectAltNames as presented (case kept). */
export function dnsAltNames(cert: X509Certificate): string[] {
  return splitAltNames(cert.subjectAltName ?? '').filter((e) => e.startsWith('DNS:')).map((e) => e.slice(4).trim());
}

/** A client certificate as presented: its name, its issuer's, and whether the chain verified. */
export interface PresentedCertificate {
  /** The subject CN, or the first DNS subjectAltName when there is no CN (as presented); null when neither. */
  name: string | null;
  /** The issuer's CN (or its whole distinguished name when it has none). */
  issuer: string;
  /** The chain verified against the server's trusted CAs (which also checks the dates). */
  verified: boolean;
  /** SHA-256 of the DER certificate, as Node prints it (`AB:CD:...`). */
  fingerprint?: string;
  /** The subject's and the issuer's whole distinguished names, one `KEY=value` per line. */
  subject?: string;
  issuerName?: string;
}

/** What the Received header says about a presented client certificate. */
export function presentedCertificate(cert: X509Certificate, verified: boolean): PresentedCertificate {
  const firstDns = splitAltNames(cert.subjectAltName ?? '').find((e) => e.startsWith('DNS:'));
  return {
    name: commonName(cert.subject) ?? (firstDns ? firstDns.slice(4).trim() : null),
    issuer: commonName(cert.issuer) ?? cert.issuer.replace(/\n/g, ', '),
    verified,
    fingerprint: cert.fingerprint256,
    subject: cert.subject,
    issuerName: cert.issuer,
  };
}

/** Node renders SANs as `DNS:a, DNS:"b, c", IP Address:1.2.3.4`; quoted values may hold commas. */
function splitAltNames(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      out.push(current.trim());
      current = '';
      continue;
    } else current += ch;
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

/** Facts for the policy engine from a leaf certificate whose chain was judged by the caller. */
export function certificateFacts(cert: X509Certificate, trusted: boolean, untrustedReason?: string): CertificateFacts {
  const facts: CertificateFacts = {
    names: certificateNames(cert),
    trusted,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
  };
  if (!trusted) facts.untrustedReason = untrustedReason ?? 'certificate chain not verified';
  return facts;
}
