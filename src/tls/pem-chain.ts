import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import type { CertificateFacts } from '../policy/types.js';
import { messageOf, RelaygateError } from '../core/errors.js';
import { fileErrorReason } from '../core/file-error.js';
import { certificateFacts } from './certificate-facts.js';

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export function parsePemBundle(text: string): X509Certificate[] {
  return (text.match(PEM_BLOCK) ?? []).map((pem) => new X509Certificate(pem));
}

/**
 * The certificates of a PEM file the person named; a file that cannot be read or holds none is
 * invalid input. `label` is where the path came from (`--cert`, `tls.clientCa`), named in the message.
 */
export function readPemBundle(path: string, label: string): X509Certificate[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RelaygateError('invalid', `${label} ${path}: ${fileErrorReason(err)}`, { details: { path, field: label }, cause: err });
  }
  let certs: X509Certificate[];
  try {
    certs = parsePemBundle(text);
  } catch (err) {
    throw new RelaygateError('invalid', `${label} ${path}: not a PEM certificate: ${messageOf(err)}`, { details: { path, field: label }, cause: err });
  }
  if (certs.length === 0) throw new RelaygateError('invalid', `${label} ${path}: no PEM certificate found`, { details: { path, field: label } });
  return certs;
}

/** The CAs a client certificate is judged against, and where they came from, to say so. */
export interface TrustStore {
  anchors: X509Certificate[];
  /** `--ca ca.pem`, `tls.clientCa /etc/relaygate/client-ca.pem of relaygate.yaml`, `Node's root certificates`. */
  source: string;
}

/** The CAs of a bundle file. */
export function caBundleTrustStore(path: string, label: string, source: string): TrustStore {
  return { anchors: readPemBundle(path, label), source };
}

/** Node's built-in roots: what the SMTP server trusts when tls.clientCa is not set. */
export function nodeRootsTrustStore(source: string): TrustStore {
  return { anchors: rootCertificates.map((pem) => new X509Certificate(pem)), source };
}

/**
 * Facts for the policy engine from a client certificate chain given as a file (the `check`
 * command's what-if of a TLS handshake): the leaf's names, and whether the chain verifies against
 * the anchors at the instant. Signature and issuer checks are Node's (X509Certificate); the leaf's own
 * validity period is left to the engine, which compares it with the evaluation instant.
 */
export function certificateFactsFromChain(chain: X509Certificate[], anchors: X509Certificate[], at: Date): CertificateFacts {
  const [leaf, ...intermediates] = chain;
  if (!leaf) throw new Error('empty certificate chain');
  const verdict = verifyChain(leaf, intermediates, anchors, at);
  return certificateFacts(leaf, verdict === null, verdict ?? undefined);
}

/** Null when the chain leads to an anchor; otherwise the reason, in OpenSSL's words where they exist. */
function verifyChain(leaf: X509Certificate, intermediates: X509Certificate[], anchors: X509Certificate[], at: Date): string | null {
  let current = leaf;
  for (let depth = 0; depth < 10; depth++) {
    const anchor = anchors.find((a) => current.checkIssued(a) && current.verify(a.publicKey));
    if (anchor) return withinValidity(anchor, at) ? null : 'CERT_HAS_EXPIRED (trust anchor)';
    if (current.checkIssued(current)) {
      return depth === 0 ? 'DEPTH_ZERO_SELF_SIGNED_CERT' : 'SELF_SIGNED_CERT_IN_CHAIN';
    }
    const next = intermediates.find((c) => c.ca && current.checkIssued(c) && current.verify(c.publicKey));
    if (!next) return 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY';
    if (!withinValidity(next, at)) return 'CERT_HAS_EXPIRED (intermediate)';
    current = next;
  }
  return 'CERT_CHAIN_TOO_LONG';
}

function withinValidity(cert: X509Certificate, at: Date): boolean {
  return at.getTime() >= Date.parse(cert.validFrom) && at.getTime() <= Date.parse(cert.validTo);
}
