/**
 * The golden, table-driven suite of the relay policy engine: every scenario of
 * test/policy/scenarios/*.yaml runs as its own test, comparing the engine's decision, reduced to the
 * expected shape, with what the contract requires. A mismatch fails with a field-by-field diff.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { formatReply } from '../../src/core/reply.js';
import { buildSnapshot, evaluate, type TransactionDecision } from '../../src/policy/index.js';
import { loadScenarioDirectory, type ExpectedTransaction } from './scenario-file.js';

/** The YAML files stay in the source tree; this file runs from dist/test/policy/. */
function scenarioDirectory(): string {
  for (const rel of ['../../../test/policy/scenarios', './scenarios']) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error('test/policy/scenarios not found');
}

/** The decision in the shape of a scenario's `expected`. */
export function summarize(d: TransactionDecision, withConnector: boolean): ExpectedTransaction {
  return {
    tenant: d.tenant,
    ...(withConnector ? { connector: d.connector } : {}),
    attribution: d.attribution,
    ruleSet: d.ruleSet,
    mailFromReply: d.mailFromReply ? formatReply(d.mailFromReply) : null,
    chart: d.steps.filter((s) => s.answer !== 'skipped').map((s) => `${s.id}=${s.answer}`).join(' '),
    warnings: [...new Set(d.warnings.map((w) => w.code))].sort(),
    remedies: d.remedies.map((r) => r.rank),
    tiedTenants: [...d.tiedTenants],
    recipients: d.recipients.map((r) => ({
      verdict: r.verdict,
      reply: formatReply(r.reply),
      currentVerdict: r.currentVerdict,
      legacyVerdict: r.legacyVerdict,
      tenant: r.tenant,
    })),
  };
}

/** One line per differing field: `recipients[1].reply: expected "…", got "…"`. */
function differences(expected: unknown, actual: unknown, path = ''): string[] {
  if (Array.isArray(expected) && Array.isArray(actual) && expected.every((e) => typeof e === 'object' && e !== null)) {
    const out: string[] = [];
    if (expected.length !== actual.length) out.push(`${path}: expected ${expected.length} entries, got ${actual.length}`);
    for (let i = 0; i < Math.min(expected.length, actual.length); i++) out.push(...differences(expected[i], actual[i], `${path}[${i}]`));
    return out;
  }
  if (typeof expected === 'object' && expected !== null && !Array.isArray(expected) && typeof actual === 'object' && actual !== null) {
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    return Object.keys(e).flatMap((k) => differences(e[k], a[k], path ? `${path}.${k}` : k));
  }
  const same = JSON.stringify(expected) === JSON.stringify(actual);
  return same ? [] : [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}

const files = loadScenarioDirectory(scenarioDirectory());
const names = new Set<string>();

test('the golden suite holds at least 80 scenarios with unique names', () => {
  const all = files.flatMap((f) => f.scenarios);
  for (const s of all) {
    assert.ok(!names.has(s.name), `duplicate scenario name: ${s.name}`);
    names.add(s.name);
  }
  assert.ok(all.length >= 80, `only ${all.length} scenarios`);
});

for (const file of files) {
  describe(file.file, () => {
    const snapshot = buildSnapshot(file.directory);
    for (const scenario of file.scenarios) {
      test(scenario.name, () => {
        const decision = evaluate(snapshot, scenario.input);
        const why = decision.recipients.map((r) => `  ${r.address}: ${r.explanation}`).join('\n');
        const steps = decision.steps.map((s) => `  ${s.id}=${s.answer}: ${s.detail}`).join('\n');
        const actual = summarize(decision, 'connector' in scenario.expected);
        const diff = differences(scenario.expected, actual);
        if (diff.length > 0) {
          assert.fail(`${file.file}: ${scenario.name}\n${diff.join('\n')}\nrecipients:\n${why}\nsteps:\n${steps}`);
        }
        assert.deepStrictEqual(actual, scenario.expected);
      });
    }
  });
}
