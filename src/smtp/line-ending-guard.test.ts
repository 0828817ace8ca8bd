import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { LineEndingGuard, BareLineEndingError, NulCharacterError } from './line-ending-guard.js';

async function run(policy: 'reject' | 'normalize', chunks: string[]): Promise<string> {
  const out: Buffer[] = [];
  const guard = Readable.from(chunks.map((c) => Buffer.from(c, 'latin1'))).pipe(new LineEndingGuard(policy));
  for await (const c of guard) out.push(c as Buffer);
  return Buffer.concat(out).toString('latin1');
}

/** Every way of cutting the text into two chunks, so chunk boundaries cannot hide anything. */
function splits(text: string): string[][] {
  const out: string[][] = [[text]];
  for (let i = 1; i < text.length; i++) out.push([text.slice(0, i), text.slice(i)]);
  return out;
}

test('CRLF-only messages pass unchanged in both modes, however they are chunked', async () => {
  const msg = 'Subject: x\r\n\r\nline\r\n.dot\r\n\r\n';
  for (const chunks of splits(msg)) {
    assert.equal(await run('reject', chunks), msg);
    assert.equal(await run('normalize', chunks), msg);
  }
});

test('every smuggling variant and lone CR/LF is refused in reject mode, at any chunk boundary', async () => {
  const variants = ['\n.\n', '\n.\r\n', '\r\n.\n', '\r.\r', '\r.\r\n', 'a\rb', 'a\nb', 'end\r'];
  for (const v of variants) {
    const msg = `Subject: x\r\n\r\nbody${v}MAIL FROM:<evil@example.com>\r\n`;
    for (const chunks of splits(msg)) {
      await assert.rejects(run('reject', chunks), BareLineEndingError, JSON.stringify({ v, chunks }));
    }
  }
  await assert.rejects(run('reject', ['body\r']), BareLineEndingError);
});

test('normalize mode turns every bare CR and LF into CRLF, at any chunk boundary', async () => {
  const cases: Array<[string, string]> = [
    ['a\nb\n', 'a\r\nb\r\n'],
    ['a\rb\r', 'a\r\nb\r\n'],
    ['a\r\n.\nb', 'a\r\n.\r\nb'],
    ['\r.\r\n', '\r\n.\r\n'],
    ['x\r\r\ny', 'x\r\n\r\ny'],
  ];
  for (const [input, expected] of cases) {
    for (const chunks of splits(input)) {
      assert.equal(await run('normalize', chunks), expected, JSON.stringify(chunks));
    }
  }
});

test('the error names the offset of the first bare line ending', async () => {
  await assert.rejects(run('reject', ['ab\r\n', 'cd\nef']), (err: unknown) => {
    assert.ok(err instanceof BareLineEndingError);
    assert.equal(err.offset, 6);
    return true;
  });
});

test('a NUL is refused at its offset in reject mode and dropped in normalize mode, at any chunk boundary', async () => {
  const msg = 'Subject: x\r\n\r\nbody\r\n\x00.\r\nMAIL FROM:<evil@example.com>\r\n';
  for (const chunks of splits(msg)) {
    await assert.rejects(run('reject', chunks), (err: unknown) => err instanceof NulCharacterError && err.offset === 20, JSON.stringify(chunks));
    assert.equal(await run('normalize', chunks), msg.replace('\x00', ''), JSON.stringify(chunks));
  }
  // The NUL goes first, so the CR and LF around it make one line ending.
  for (const chunks of splits('a\r\x00\nb')) assert.equal(await run('normalize', chunks), 'a\r\nb');
});

test('a CR held at a chunk end reaches the next stage only once the next byte shows it starts a CRLF', async () => {
  const guard = new LineEndingGuard('reject');
  const seen: string[] = [];
  guard.on('data', (c: Buffer) => seen.push(c.toString('latin1')));
  guard.write(Buffer.from('Subject: x\r', 'latin1'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen, ['Subject: x']);
  const failed = new Promise((resolve) => guard.once('error', resolve));
  guard.write(Buffer.from('\r\nFrom: y\r\n', 'latin1'));
  assert.ok((await failed) instanceof BareLineEndingError);
  assert.deepEqual(seen, ['Subject: x'], 'the bare CR never passed');
});
