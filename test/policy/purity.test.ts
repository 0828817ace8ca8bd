/**
 * The engine is pure (architecture.md: policy/ never touches the clock or randomness): the same
 * input gives deep-equal output, the input and the directory are not mutated, a snapshot is not
 * changed by the decisions made on it, and no decision reads the clock or Math.random.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildSnapshot, evaluate, type EvaluationInput, type TransactionDecision } from '../../src/policy/index.js';
import { loadScenarioDirectory } from './scenario-file.js';

function scenarioDirectory(): string {
  const path = fileURLToPath(new URL('../../../test/policy/scenarios', import.meta.url));
  assert.ok(existsSync(path), `${path} not found`);
  return path;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Runs fn with the clock and the random source replaced by functions that throw. */
function withoutClockOrRandom<T>(fn: () => T): T {
  const RealDate = globalThis.Date;
  const realRandom = Math.random;
  class NoClockDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) throw new Error('the engine read the clock (new Date())');
      super(...(args as [string]));
    }
    static override now(): number {
      throw new Error('the engine read the clock (Date.now)');
    }
  }
  globalThis.Date = NoClockDate as DateConstructor;
  Math.random = () => {
    throw new Error('the engine used Math.random');
  };
  try {
    return fn();
  } finally {
    globalThis.Date = RealDate;
    Math.random = realRandom;
  }
}

const files = loadScenarioDirectory(scenarioDirectory());
const all = files.flatMap((f) => f.scenarios.map((s) => ({ file: f, scenario: s })));

test('purity: the scenario set is not empty', () => assert.ok(all.length >= 80));

test('purity: same input twice gives deep-equal output, in any order, on one snapshot or a fresh one', () => {
  const snapshots = new Map(files.map((f) => [f.file, buildSnapshot(f.directory)]));
  const first = new Map<string, TransactionDecision>();
  for (const { file, scenario } of all) first.set(scenario.name, evaluate(snapshots.get(file.file)!, scenario.input));
  // Second pass in reverse order on the same snapshots, then on fresh ones.
  for (const { file, scenario } of [...all].reverse()) {
    assert.deepStrictEqual(evaluate(snapshots.get(file.file)!, scenario.input), first.get(scenario.name), scenario.name);
    assert.deepStrictEqual(evaluate(buildSnapshot(file.directory), scenario.input), first.get(scenario.name), scenario.name);
  }
});

test('purity: neither the input nor the directory is mutated (deep-frozen, and compared with a copy)', () => {
  for (const { file, scenario } of all) {
    const directoryCopy = structuredClone(file.directory);
    const inputCopy: EvaluationInput = structuredClone(scenario.input);
    const frozenInput = deepFreeze(structuredClone(scenario.input));
    const snapshot = buildSnapshot(deepFreeze(structuredClone(file.directory)));
    assert.doesNotThrow(() => evaluate(snapshot, frozenInput), scenario.name);
    evaluate(buildSnapshot(file.directory), scenario.input);
    assert.deepStrictEqual(scenario.input, inputCopy, `${scenario.name}: input changed`);
    assert.deepStrictEqual(file.directory, directoryCopy, `${scenario.name}: directory changed`);
    assert.deepStrictEqual(frozenInput, inputCopy, `${scenario.name}: frozen input changed`);
  }
});

test('purity: the clock guard itself works (so the next test can fail)', () => {
  withoutClockOrRandom(() => {
    assert.throws(() => new Date(), /read the clock/);
    assert.throws(() => Date.now(), /read the clock/);
    assert.throws(() => Math.random(), /Math.random/);
    assert.equal(new Date('2024-03-01T10:00:00Z').getTime(), 1709287200000);
  });
  assert.ok(Date.now() > 0);
});

test('purity: no decision reads the clock or Math.random', () => {
  const snapshots = files.map((f) => ({ f, snapshot: buildSnapshot(f.directory) }));
  withoutClockOrRandom(() => {
    for (const { f, snapshot } of snapshots) {
      for (const s of f.scenarios) evaluate(snapshot, s.input);
    }
  });
});

test('purity: the decision does not share mutable parts with another decision', () => {
  const { file, scenario } = all.find((x) => x.scenario.input.message.recipients.length > 0)!;
  const snapshot = buildSnapshot(file.directory);
  const a = evaluate(snapshot, scenario.input);
  const b = evaluate(snapshot, scenario.input);
  a.recipients[0]!.verdict = 'rejected';
  a.steps.length = 0;
  a.warnings.push({ code: 'x', message: 'x' });
  a.tiedTenants.push('x');
  assert.deepStrictEqual(b, evaluate(snapshot, scenario.input));
});
