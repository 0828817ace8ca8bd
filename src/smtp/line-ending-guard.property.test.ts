/**
 * The guard's answer depends on the bytes, never on the chunking: every smuggling ending, in the
 * headers and in the body, split at every byte offset and in random three-way splits, in both modes,
 * gives the verdict and the output of the unsplit stream, and both agree with a reference written
 * independently with regular expressions over the whole message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fuzzParameters } from '../../test/support/fuzz.js';
import type { BareLineEndingPolicy } from '../directory/model.js';
import { BareLineEndingError, LineEndingGuard, NulCharacterError } from './line-ending-guard.js';

type Verdict = { kind: 'passed'; output: string } | { kind: 'bare' | 'nul'; offset: number };

/** Feeds the chunks to a guard one write each, as smtp-server does, and collects what passes. */
function guard(policy: BareLineEndingPolicy, chunks: string[]): Promise<Verdict> {
  const g = new LineEndingGuard(policy);
  const out: Buffer[] = [];
  return new Promise((resolve, reject) => {
    g.on('data', (c: Buffer) => out.push(c));
    g.on('end', () => resolve({ kind: 'passed', output: Buffer.concat(out).toString('latin1') }));
    g.on('error', (err) => {
      if (err instanceof BareLineEndingError) resolve({ kind: 'bare', offset: err.offset });
      else if (err instanceof NulCharacterError) resolve({ kind: 'nul', offset: err.offset });
      else reject(err);
    });
    for (const c of chunks) g.write(Buffer.from(c, 'latin1'));
    g.end();
  });
}

/** The contract, over the whole message at once. */
function reference(policy: BareLineEndingPolicy, message: string): Verdict {
  if (policy === 'normalize') return { kind: 'passed', output: message.replace(/\x00/g, '').replace(/\r\n|\r|\n/g, '\r\n') };
  const bad = /\x00|\r(?!\n)|(?<!\r)\n/.exec(message);
  if (!bad) return { kind: 'passed', output: message };
  return { kind: bad[0] === '\x00' ? 'nul' : 'bare', offset: bad.index };
}

// hannob/smtpsmug's eight malformed ends of DATA, three more CR/LF mixes, and the NUL vectors
// (smtpsmug's `nullbefore`, and the NUL after the dot a NUL-stripping hop reads the same way).
const smtpsmug = ['\n.\n', '\n.\r\n', '\r.\r', '\r.\r\n', '\r\n.\r', '\r\n.\n', '\n.\r', '\r.\n'];
const endings = [...smtpsmug, '\r\r\n', '\r\n\r', '\n\r\n', '\r\n\x00.\r\n', '\r\n.\x00\r\n', '\x00', '\r\x00\n'];

const head = 'From: app@contoso.example\r\nSubject: hello';
const middle = '\r\nTo: office@elsewhere.example\r\n\r\nline one';
const tail = '\r\nMAIL FROM:<evil@contoso.example>\r\n\r\nline two\r\n';
/** The ending in the headers (right after Subject) or in the body (right after the first line). */
function placed(ending: string, where: 'header' | 'body'): string {
  return where === 'header' ? head + ending + middle + tail : head + middle + ending + tail;
}

const policies: BareLineEndingPolicy[] = ['reject', 'normalize'];
const cases = endings.flatMap((ending) => (['header', 'body'] as const).map((where) => ({ ending, where, message: placed(ending, where) })));

test('every ending in headers and body, split at every byte offset, gives the unsplit verdict in both modes', async () => {
  for (const policy of policies) {
    for (const { ending, where, message } of cases) {
      const whole = await guard(policy, [message]);
      assert.deepEqual(whole, reference(policy, message), JSON.stringify({ policy, ending, where }));
      assert.ok(whole.kind !== 'passed' || whole.output !== message, 'every case has something to refuse or rewrite');
      for (let i = 0; i <= message.length; i++) {
        const chunks = [message.slice(0, i), message.slice(i)];
        assert.deepEqual(await guard(policy, chunks), whole, JSON.stringify({ policy, chunks }));
      }
    }
  }
});

test('every ending in headers and body, in random three-way splits, gives the unsplit verdict in both modes', async () => {
  const anyCase = fc.constantFrom(...cases);
  await fc.assert(
    fc.asyncProperty(anyCase, fc.constantFrom(...policies), fc.nat(), fc.nat(), async ({ message }, policy, a, b) => {
      const [i, j] = [a % (message.length + 1), b % (message.length + 1)].sort((x, y) => x - y) as [number, number];
      const chunks = [message.slice(0, i), message.slice(i, j), message.slice(j)];
      assert.deepEqual(await guard(policy, chunks), await guard(policy, [message]));
    }),
    fuzzParameters(2000),
  );
});

test('any mix of CR, LF, NUL, dots and text, cut anywhere into any number of chunks, matches the reference', async () => {
  const message = fc.array(fc.constantFrom('\r', '\n', '\x00', '.', 'a', '\r\n', '\r\n.\r\n'), { maxLength: 24 }).map((p) => p.join(''));
  await fc.assert(
    fc.asyncProperty(message, fc.array(fc.nat(), { maxLength: 5 }), fc.constantFrom(...policies), async (text, cuts, policy) => {
      const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((x, y) => x - y);
      const chunks = [0, ...at].map((from, k) => text.slice(from, at[k] ?? text.length));
      assert.deepEqual(await guard(policy, chunks), reference(policy, text), JSON.stringify({ policy, chunks }));
    }),
    fuzzParameters(3000),
  );
});
