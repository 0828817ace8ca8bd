/** New tenant ids for the SQLite adapter: ULIDs on the system clock and crypto's random bytes. */
import { randomBytes } from 'node:crypto';
import { ulidGenerator, type IdGenerator } from '../../core/ulid.js';

export function systemTenantIds(): IdGenerator {
  return ulidGenerator(Date.now, (size) => randomBytes(size));
}
