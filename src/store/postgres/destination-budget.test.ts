import { freshSchema, testDatabase } from '../../../test/support/postgres.js';
import { destinationBudgetContract } from '../destination-budget-contract.js';
import { openPostgres } from './database.js';
import { PgDestinationBudget } from './destination-budget.js';

const database = testDatabase('budget');

destinationBudgetContract('postgres', async () => {
  const url = await freshSchema(await database);
  const db = await openPostgres(url, { poolSize: 4 });
  const other = await openPostgres(url, { poolSize: 4 });
  return {
    budget: new PgDestinationBudget(db),
    second: new PgDestinationBudget(other),
    close: async () => {
      await db.close();
      await other.close();
    },
  };
});
