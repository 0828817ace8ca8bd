/**
 * Micro-benchmark of the policy engine: decisions per second and per-decision latency with a
 * directory of N tenants (default 10,000), each with two accepted domains, an IP connector (/28) and
 * a certificate connector. Bounded: a fixed number of decisions.
 */
import { performance } from 'node:perf_hooks';
import { connectorDefaults, type Directory, type Tenant } from '../src/directory/model.js';
import { buildSnapshot, evaluate } from '../src/policy/index.js';
import type { EvaluationInput } from '../src/policy/types.js';

export interface PolicyBenchResult {
  tenants: number;
  buildMs: number;
  decisions: number;
  decisionsPerSecond: number;
  microsPerDecision: number;
}

function tenantAt(i: number): Tenant {
  const range = `10.${(i >> 8) & 255}.${i & 255}.0/28`;
  return {
    name: `tenant${i}`,
    relayRuleSet: 'auto',
    rejectDirectSend: i % 7 === 0,
    acceptedDomains: [
      { domain: `t${i}.example`, type: 'Authoritative', matchSubDomains: false },
      { domain: `mail.t${i}.example`, type: 'InternalRelay', matchSubDomains: true },
    ],
    inboundConnectors: [
      { ...connectorDefaults, name: 'ip', type: 'OnPremises', senderIPAddresses: [range] },
      { ...connectorDefaults, name: 'cert', type: 'OnPremises', tlsSenderCertificateName: `mail.t${i}.example` },
    ],
  };
}

export function runPolicyBench(tenantCount = 10_000, decisions = 200_000): PolicyBenchResult {
  const directory: Directory = { tenants: Array.from({ length: tenantCount }, (_, i) => tenantAt(i)) };
  const t0 = performance.now();
  const snapshot = buildSnapshot(directory);
  const buildMs = performance.now() - t0;

  const inputs: EvaluationInput[] = [];
  const at = new Date('2026-01-01T00:00:00Z');
  for (let k = 0; k < 1000; k++) {
    const i = (k * 7919) % tenantCount;
    const t = tenantAt(i);
    const ip = t.inboundConnectors[0]!.senderIPAddresses[0]!.replace(/\.0\/28$/, '.3');
    inputs.push(
      k % 2 === 0
        ? { at, connection: { ip, tls: false }, message: { mailFrom: `app@t${i}.example`, recipients: ['someone@external.example'] } }
        : { at, connection: { ip: '192.0.2.1', tls: true, certificate: { names: [`mail.t${i}.example`], trusted: true } }, message: { mailFrom: '', recipients: [`x@t${(i + 1) % tenantCount}.example`] } },
    );
  }
  let sink = 0;
  const t1 = performance.now();
  for (let n = 0; n < decisions; n++) sink += evaluate(snapshot, inputs[n % inputs.length]!).recipients.length;
  const elapsed = performance.now() - t1;
  if (sink !== decisions) throw new Error('benchmark decisions miscounted');
  return {
    tenants: tenantCount,
    buildMs: Math.round(buildMs),
    decisions,
    decisionsPerSecond: Math.round(decisions / (elapsed / 1000)),
    microsPerDecision: Number(((elapsed * 1000) / decisions).toFixed(2)),
  };
}
