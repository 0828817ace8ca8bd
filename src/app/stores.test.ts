import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStores, UnsupportedStoreError } from './stores.js';

test('openStores creates <dataDir>/relaygate.db with the directory store on it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-stores-'));
  try {
    const dataDir = join(dir, 'nested', 'data');
    const stores = openStores({ dataDir, store: 'sqlite' });
    try {
      assert.ok(existsSync(join(dataDir, 'relaygate.db')));
      assert.deepEqual(await stores.directory.load(), { tenants: [] });
      const versions = stores.db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[];
      assert.equal(versions[0]!.version, 1);
    } finally {
      stores.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a PostgreSQL store URL is refused for now, without showing the password', () => {
  assert.throws(() => openStores({ dataDir: '/nonexistent', store: 'postgres://relay:s3cret@db.example/relay' }), (err: unknown) => {
    assert.ok(err instanceof UnsupportedStoreError);
    assert.equal(err.message, 'store postgres://relay:***@db.example/relay is not supported yet: use "sqlite"');
    return true;
  });
});
