import { reply } from '../core/reply.js';

/**
 * Replies of the SMTP session that the contract (relay-policy.md §8) leaves to us. The contract's
 * own replies are in core/reply.ts and are never retyped here.
 */
export const SessionReplies = Object.freeze({
  tooManyConnections: reply(421, '4.7.0', 'Too many connections, try again later'),
  tooManyConnectionsFromIp: reply(421, '4.7.0', 'Too many connections from your address, try again later'),
  tooManyErrors: reply(421, '4.7.0', 'Too many errors, closing connection'),
  tooManyUnknownCommands: reply(421, '4.7.0', 'Too many unrecognized commands, closing connection'),
  pipelinedAfterStartTls: reply(421, '4.7.0', 'Commands sent before the TLS handshake completed, closing connection'),
  proxyRefused: reply(421, '4.7.0', 'PROXY protocol not accepted from this address'),
  badProxyHeader: reply(421, '4.7.0', 'Invalid PROXY protocol header'),
  headerTooLarge: reply(552, '5.3.4', 'Message header size exceeds limit'),
});
