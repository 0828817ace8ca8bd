/** New ids for what the front ends create outside a store (a tenant `import` writes to a file). */
import { randomBytes } from 'node:crypto';
import { ulidGenerator } from '../core/ulid.js';

export const newTenantId = ulidGenerator(Date.now, (size) => randomBytes(size));
