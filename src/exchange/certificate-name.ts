import { isJsonObject } from './powershell-json.js';

/**
 * Exchange's TlsSenderCertificateName (a TlsCertificate / SmtpX509Identifier) in its forms:
 * - a plain host name or `*.parent` (what New-InboundConnector takes in Exchange Online);
 * - `<I>issuer DN<S>subject DN` (Exchange's X.509 identifier: issuer and subject distinguished names);
 * - `<S>subject DN` alone;
 * - a serialized object with CertificateSubject/CertificateIssuer (or a plain name property).
 *
 * relaygate matches a certificate by name only (CN and DNS SANs) and trusts any CA in the server's
 * client-CA bundle, so from a DN we take the subject's CN. The issuer is NOT kept: it is returned so
 * the importer can tell the admin it is not enforced (pin it by putting only that CA in `tls.clientCa`).
 */
export interface ParsedCertificateName {
  name: string;
  issuer: string | null;
}

export type CertificateNameResult = ParsedCertificateName | null | { error: string };

export function parseCertificateName(value: unknown): CertificateNameResult {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'string') return fromText(value.trim());
  if (isJsonObject(value)) return fromObject(value);
  return { error: 'expected a host name or "<I>issuer<S>subject"' };
}

function fromText(text: string): CertificateNameResult {
  const x509 = /^(?:<I>(.*?))?<S>(.*)$/is.exec(text);
  if (x509) {
    const issuer = x509[1]?.trim() || null;
    const cn = commonName(x509[2] ?? '');
    if (!cn) return { error: 'the subject of "<I>issuer<S>subject" has no CN=' };
    return { name: cn.toLowerCase(), issuer };
  }
  if (/^<I>/i.test(text)) return { error: 'an "<I>issuer" without "<S>subject"' };
  if (/[=,<>\s]/.test(text)) {
    const cn = commonName(text);
    if (cn) return { name: cn.toLowerCase(), issuer: null };
    return { error: 'expected a host name or "<I>issuer<S>subject"' };
  }
  return { name: text.toLowerCase(), issuer: null };
}

function fromObject(obj: Record<string, unknown>): CertificateNameResult {
  const field = (pattern: RegExp): string | null => {
    const key = Object.keys(obj).find((k) => pattern.test(k));
    const v = key === undefined ? undefined : obj[key];
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
  };
  const subject = field(/^(certificate)?subject$/i);
  const issuer = field(/^(certificate)?issuer$/i);
  if (subject) {
    const cn = commonName(subject) ?? (/[=,]/.test(subject) ? null : subject);
    return cn ? { name: cn.toLowerCase(), issuer } : { error: 'CertificateSubject has no CN=' };
  }
  const plain = field(/^(subjectcommonname|certificatename|certificatedomainname|tlscertificatename|name)$/i);
  if (plain) return fromText(plain);
  return { error: 'an object without CertificateSubject or a certificate name' };
}

/** The CN of a distinguished name such as `CN=mail.contoso.com, OU=IT, O=Contoso, C=US`. */
export function commonName(dn: string): string | null {
  const m = /(?:^|[,;+]\s*)CN\s*=\s*("([^"]*)"|[^,;+]+)/i.exec(dn.trim());
  if (!m) return null;
  const value = (m[2] ?? m[1] ?? '').trim();
  return value === '' ? null : value;
}
