import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { Joiner, Splitter } from 'mailsplit';
import { HeaderStamper, type HeaderFacts } from './header-stamper.js';
import { receivedHeader, rfc5322Date } from './received-header.js';

async function stamp(message: string, chunkSize = 7): Promise<{ out: string; facts: HeaderFacts | null }> {
  let facts: HeaderFacts | null = null;
  const chunks: Buffer[] = [];
  for (let i = 0; i < message.length; i += chunkSize) chunks.push(Buffer.from(message.slice(i, i + chunkSize), 'latin1'));
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(chunks),
    new Splitter(),
    new HeaderStamper(async (f) => {
      facts = f;
      return ['Received: from a\r\n\tby b', 'X-Relaygate-Tenant: t'];
    }),
    new Joiner(),
    new Writable({
      write(c: Buffer, _e, done) {
        out.push(c);
        done();
      },
    }),
  );
  return { out: Buffer.concat(out).toString('latin1'), facts };
}

test('our headers go on top, inbound X-Relaygate-* copies go, the body is untouched', async () => {
  const msg = 'From: "A, B" <a@contoso.example>, c@x.example\r\nX-Relaygate-Tenant: forged\r\nx-relaygate-attribution: cert\r\nSubject: multi\r\n line\r\nMessage-ID: <1@x>\r\n\r\nbody\r\nX-Relaygate-Tenant: in body stays\r\n';
  const { out, facts } = await stamp(msg);
  assert.deepEqual(facts, { headerFrom: 'a@contoso.example', subject: 'multi line', messageId: '<1@x>', received: 0 });
  assert.equal(
    out,
    'Received: from a\r\n\tby b\r\nX-Relaygate-Tenant: t\r\nFrom: "A, B" <a@contoso.example>, c@x.example\r\nSubject: multi\r\n line\r\nMessage-ID: <1@x>\r\n\r\nbody\r\nX-Relaygate-Tenant: in body stays\r\n',
  );
});

test('a message without From gives a null P2; an empty message still gets our headers', async () => {
  assert.equal((await stamp('Subject: s\r\n\r\nb\r\n')).facts?.headerFrom, null);
  const empty = await stamp('');
  assert.ok(empty.out.startsWith('Received: from a\r\n\tby b\r\nX-Relaygate-Tenant: t\r\n\r\n'), JSON.stringify(empty.out));
  assert.doesNotMatch(empty.out.replace(/\r\n/g, ''), /[^\r\n]*[\r\n]/);
});

test('the Received header has the TLS details, the queue id, and no client-controlled line breaks', () => {
  const at = new Date('2026-11-22T08:05:09Z');
  assert.equal(rfc5322Date(at), 'Sun, 22 Nov 2026 08:05:09 +0000');
  const h = receivedHeader({
    helo: 'evil\r\nX-Injected: 1',
    clientIp: '192.0.2.1',
    proxyIp: '10.0.0.1',
    hostname: 'relay.test',
    protocol: 'ESMTPS',
    tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' },
    queueId: '01abcdefghjkmnpqrstv',
    recipients: ['a@b.example', 'c@d.example'],
    at,
  });
  assert.equal(
    h,
    'Received: from evil??X-Injected: 1 ([192.0.2.1] via proxy [10.0.0.1])\r\n\tby relay.test (relaygate) with ESMTPS (using TLSv1.3 with cipher TLS_AES_128_GCM_SHA256)\r\n\tid 01abcdefghjkmnpqrstv;\r\n\tSun, 22 Nov 2026 08:05:09 +0000',
  );
});

test('the Received header names a presented client certificate, its issuer and whether it verified, on a line of its own', () => {
  const base = {
    helo: 'mail.contoso.example',
    clientIp: '192.0.2.1',
    proxyIp: null,
    hostname: 'relay.test',
    protocol: 'ESMTPS',
    queueId: '01abcdefghjkmnpqrstv',
    recipients: ['a@b.example'],
    at: new Date('2026-11-22T08:05:09Z'),
  };
  assert.equal(
    receivedHeader({ ...base, tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', clientCertificate: { name: 'mail.contoso.example', issuer: 'Contoso CA', verified: true } } }),
    'Received: from mail.contoso.example ([192.0.2.1])\r\n\tby relay.test (relaygate) with ESMTPS (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\r\n' +
      '\t(Client CN "mail.contoso.example", Issuer "Contoso CA" (verified OK))\r\n\tid 01abcdefghjkmnpqrstv for <a@b.example>;\r\n\tSun, 22 Nov 2026 08:05:09 +0000',
  );
  const hostile = receivedHeader({
    ...base,
    tls: { protocol: 'TLSv1.2', cipher: 'ECDHE-ECDSA-AES128-GCM-SHA256', clientCertificate: { name: 'x") (verified OK))\r\nX-Injected: 1', issuer: 'Bé\\CA', verified: false } },
  });
  assert.equal(
    hostile.split('\r\n')[2],
    '\t(Client CN "x\\"\\) \\(verified OK\\)\\)??X-Injected: 1", Issuer "B?\\\\CA" (not verified))',
    'the client cannot end the comment, add a line or put non-ASCII in the header',
  );
  assert.equal(hostile.split('\r\n').length, 5);
  // The HELO name is ASCII in the header: an IDN as its A-label, anything else non-ASCII as ?.
  assert.match(receivedHeader({ ...base, helo: 'müller.example', tls: null }), /^Received: from xn--mller-kva\.example \(/);
  assert.match(receivedHeader({ ...base, helo: '\ufffd\ufffd.example\r\nX: 1', tls: null }), /^Received: from \?\?\.example\?\?X: 1 \(/);
  assert.equal(
    receivedHeader({ ...base, tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', clientCertificate: null } }).split('\r\n')[2],
    '\tid 01abcdefghjkmnpqrstv for <a@b.example>;',
    'no certificate, no comment: the header keeps its form',
  );
});

test('header facts are the UTF-8 reading of the bytes; bytes that are not UTF-8 read as U+FFFD, not as Latin-1', async () => {
  const utf8 = Buffer.from('From: Jörg <jörg@müller.example>\r\nSubject: Grüße\r\n\r\nx\r\n', 'utf8').toString('latin1');
  assert.deepEqual((await stamp(utf8)).facts, { headerFrom: 'jörg@müller.example', subject: 'Grüße', messageId: null, received: 0 });
  const latin1 = 'From: <j\xf6rg@m\xfcller.example>\r\nSubject: Gr\xfc\xdfe\r\n\r\nx\r\n';
  assert.deepEqual((await stamp(latin1)).facts, { headerFrom: 'j\ufffdrg@m\ufffdller.example', subject: 'Gr\ufffd\ufffde', messageId: null, received: 0 });
});

test('the lines we stamp are written as UTF-8, with or without a header block', async () => {
  for (const message of ['Subject: x\r\n\r\nbody\r\n', 'body only, no header block\r\n']) {
    const out: Buffer[] = [];
    await pipeline(
      Readable.from([Buffer.from(message, 'latin1')]),
      new Splitter(),
      new HeaderStamper(async () => ['Received: from a\r\n\tby b for <jörg@xn--bcher-kva.example>']),
      new Joiner(),
      new Writable({
        write(c: Buffer, _e, done) {
          out.push(c);
          done();
        },
      }),
    );
    assert.ok(Buffer.concat(out).toString('utf8').startsWith('Received: from a\r\n\tby b for <jörg@xn--bcher-kva.example>\r\n'), message);
  }
});
