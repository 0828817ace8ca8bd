import type { Command } from 'commander';
import { register as registerApply } from './apply.js';
import { register as registerConnector } from './connector.js';
import { register as registerDomain } from './domain.js';
import { register as registerExport } from './export.js';
import { register as registerMigrate } from './migrate.js';
import { register as registerTenant } from './tenant.js';
import { register as registerCheck } from './check.js';
import { register as registerImport } from './import.js';
import { register as registerServe } from './serve.js';
import { register as registerQueue } from './queue.js';
import { register as registerDkim } from './dkim.js';
import { register as registerRoute } from './route.js';
import { register as registerQuota } from './quota.js';
import { register as registerSrs } from './srs.js';

/** Every command module registers itself here, one line each. */
export function registerCommands(program: Command): void {
  registerMigrate(program);
  registerApply(program);
  registerExport(program);
  registerTenant(program);
  registerDomain(program);
  registerConnector(program);
  registerCheck(program);
  registerImport(program);
  registerServe(program);
  registerQueue(program);
  registerDkim(program);
  registerRoute(program);
  registerQuota(program);
  registerSrs(program);
}
