import { after } from 'node:test';
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
