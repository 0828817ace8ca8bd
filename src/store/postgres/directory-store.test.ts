import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { demoDirectory } from '../../directory/index.js';
import { ulidGenerator } from '../../core/ulid.js';
import { freshSchema, testDatabase } from '../../../test/support/postgres.js';
import { directoryStoreContract, type OpenedDirectoryStore } from '../directory-contract.js';
import { openPostgres } from './database.js';
import { PgDirectoryStore } from './directory-store.js';

const database = testDatabase('directory');
const newId = ulidGenerator(Date.now, (n) => randomBytes(n));

async function openAt(url: string): Promise<OpenedDirectoryStore> {
  const db = await openPostgres(url, { poolSize: 2 });
  let closed: Promise<void> | undefined;
  return {
    store: new PgDirectoryStore(db, newId),
    close: () => (closed ??= db.close()),
    reopen: () => openAt(url),
  };
}

directoryStoreContract('postgres', async () => openAt(await freshSchema(await database)));

test('a second node on the same database sees every committed change and its revision', async () => {
  const url = await freshSchema(await database);
  const writer = await openAt(url);
  const reader = await openAt(url);
  try {
    assert.equal(await reader.store.revision(), 0);
    await writer.store.replace(demoDirectory);
    assert.equal(await reader.store.revision(), 1);
    assert.deepEqual(await reader.store.load(), await writer.store.load());
    await writer.store.removeTenant('fabrikam');
    assert.equal(await reader.store.revision(), 2);
    assert.deepEqual((await reader.store.load()).tenants.map((t) => t.name), ['demo']);
  } finally {
    await writer.close();
    await reader.close();
  }
});

test('edits from two nodes at once are serialised: none is lost and each bumps the revision', async () => {
  const url = await freshSchema(await database);
  const a = await openAt(url);
  const b = await openAt(url);
  try {
    await a.store.replace(demoDirectory);
    // Each edit rewrites the tenant's domains: without one lock, two at once lose one of them.
    const domains = Array.from({ length: 10 }, (_, i) => `d${i}.example`);
    await Promise.all(domains.map((domain, i) => (i % 2 === 0 ? a : b).store.addDomain('fabrikam', { domain })));
    const fabrikam = (await a.store.load()).tenants.find((t) => t.name === 'fabrikam')!;
    assert.deepEqual(fabrikam.acceptedDomains.map((d) => d.domain).sort(), ['fabrikam.example', ...domains].sort());
    assert.equal(await b.store.revision(), 1 + domains.length);
  } finally {
    await a.close();
    await b.close();
  }
});
