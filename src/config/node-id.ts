/**
 * The node id: the name this process's delivery leases carry (and its serve lock). Stable across
 * restarts, so a node that starts again releases its own previous leases at once; different on every
 * process sharing a queue, so none releases another's live work. Without `nodeId` in relaygate.yaml
 * it comes from the host name and the data directory: one serve per machine and data directory, as
 * before, gets the same id at every start.
 */
import { createHash } from 'node:crypto';
import { hostname as osHostname } from 'node:os';

/** Letters, digits, `.`, `_` and `-`, starting with a letter or digit: safe in a file name and a log line. */
export const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const NODE_ID_RULE = 'expected 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit';

/** `<host>-<first 8 hex of sha256(dataDir)>`, the host name cut to what NODE_ID allows. */
export function defaultNodeId(dataDir: string, host: string = osHostname()): string {
  const name = host.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 48) || 'node';
  return `${name}-${createHash('sha256').update(dataDir).digest('hex').slice(0, 8)}`;
}
