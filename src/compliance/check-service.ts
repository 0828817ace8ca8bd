/**
 * `check` as a service: the facts of a message and its connection in, the engine's decision with
 * the chart walk out, for every front end (`relaygate check --eml`, POST /v1/check). The rules of
 * what a check needs (a source address, recipients from the message when none are given, the null
 * sender assumed without a Return-Path) are here; the front ends read files or bodies and word the
 * errors (`details.field`) their own way.
 */
import type { X509Certificate } from 'node:crypto';
import { invalidField } from '../core/field-error.js';
import { parseIpAddress } from '../core/ip-prefix.js';
import type { Directory } from '../directory/model.js';
import { buildSnapshot, evaluate } from '../policy/index.js';
import type { CertificateFacts, EvaluationInput, PolicySettings, TransactionDecision } from '../policy/types.js';
import { certificateFactsFromChain, type TrustStore } from '../tls/pem-chain.js';
import { allAccepted, toCheckJson, type CheckJson } from './check-report.js';
import type { EmlFacts } from './eml.js';

/** What a message check is given beside the message's own facts. */
export interface MessageCheckRequest {
  /** The source address of the connection. */
  ip: string;
  tls?: boolean;
  /** The client certificate chain the connection presented. */
  certificate?: readonly X509Certificate[] | null;
  /** MAIL FROM; default: the Return-Path, else the null sender. */
  mailFrom?: string;
  /** RCPT TO; default: the message's To and Cc. */
  recipients?: readonly string[];
  at: Date;
}

/** What the engine is asked, and what the checker adds to its report. */
export interface CheckInput {
  input: EvaluationInput;
  trustStore: string | null;
  notes: string[];
}

/**
 * The engine's input for a message and its connection; `invalid` errors name the field (ip,
 * recipients). `words.mailFrom` is how the front end names the sender in its notes (`--mail-from`).
 */
export function messageCheckInput(facts: EmlFacts, request: MessageCheckRequest, trust: () => TrustStore, words: { mailFrom: string } = { mailFrom: 'mailFrom' }): CheckInput {
  if (parseIpAddress(request.ip) === null) throw invalidField('ip', `expected an IPv4 or IPv6 address (no /prefix), got ${JSON.stringify(request.ip)}`);
  let certificate: CertificateFacts | null = null;
  let trustStore: string | null = null;
  if (request.certificate && request.certificate.length > 0) {
    const store = trust();
    certificate = certificateFactsFromChain([...request.certificate], store.anchors, request.at);
    trustStore = store.source;
  }
  const recipients = request.recipients?.length ? [...request.recipients] : facts.recipients;
  if (recipients.length === 0) throw invalidField('recipients', 'no recipients (no To or Cc)');
  const notes: string[] = [];
  if (request.mailFrom === undefined && facts.returnPath === null) {
    notes.push(`The message has no Return-Path and ${words.mailFrom} was not given: MAIL FROM <> (the null sender of a bounce) is assumed.`);
  }
  return {
    trustStore,
    notes,
    input: {
      at: request.at,
      connection: { ip: request.ip, tls: Boolean(request.tls) || certificate !== null, certificate },
      message: { mailFrom: request.mailFrom ?? facts.returnPath ?? '', recipients, headerFrom: facts.headerFrom },
    },
  };
}

/** The decision for the input against the directory, with what the checker reports. */
export function runCheck(directory: Directory, check: CheckInput, settings: PolicySettings): { decision: TransactionDecision; json: CheckJson & { accepted: boolean } } {
  const decision = evaluate(buildSnapshot(directory), { ...check.input, settings });
  return { decision, json: { ...toCheckJson(decision, { trustStore: check.trustStore, notes: check.notes }), accepted: allAccepted(decision) } };
}
