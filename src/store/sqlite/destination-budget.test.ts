import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { destinationBudgetContract } from '../destination-budget-contract.js';
import { openSqlite } from './database.js';
import { SqliteDestinationBudget } from './destination-budget.js';

const root = mkdtempSync(join(tmpdir(), 'relaygate-budget-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

destinationBudgetContract('sqlite', async () => {
  const file = join(root, `case-${++n}`, 'relaygate.db');
  const db = openSqlite(file);
  const other = openSqlite(file);
  return {
    budget: new SqliteDestinationBudget(db),
    second: new SqliteDestinationBudget(other),
    close: async () => {
      db.close();
      other.close();
    },
  };
});

test('sqlite destination budget: its writes leave the connection as durable as it was for everything else', async () => {
  const db = openSqlite(join(root, 'durability', 'relaygate.db'));
  try {
    const budget = new SqliteDestinationBudget(db);
    const before = db.pragma('synchronous', { simple: true });
    await budget.acquireSlots('node-a', 'mx.remote.test', 1, 1, 0, 1000);
    await budget.renewSlots('node-a', 0, 2000);
    await budget.countMessages('mx.remote.test', 0, 1, 1);
    await budget.releaseSlots('node-a');
    assert.equal(db.pragma('synchronous', { simple: true }), before);
    assert.equal(before, 2, 'FULL, as openSqlite sets it');
  } finally {
    db.close();
  }
});
