import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { formatReply, Replies } from '../core/reply.js';
import { RawSmtpClient } from '../../test/support/smtp-client.js';
import { libraryRefusal } from './reply-control.js';

test('a refusal smtp-server writes itself (a session without context) reads exactly 451 4.3.0 and the catalogue text', async () => {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    hideENHANCEDSTATUSCODES: false,
    onMailFrom: (_address, _session, done) => done(libraryRefusal(Replies.temporaryFailure)),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  const c = await RawSmtpClient.connect({ host: '127.0.0.1', port, waitMs: 5_000 });
  try {
    assert.match(await c.read(), /^220 /);
    assert.match(await c.command('EHLO client.test'), /^250/);
    assert.equal(await c.command('MAIL FROM:<a@b.test>'), formatReply(Replies.temporaryFailure));
    assert.equal(formatReply(Replies.temporaryFailure), '451 4.3.0 Temporary server error, please try again later');
  } finally {
    c.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
