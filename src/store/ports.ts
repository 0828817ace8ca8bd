/**
 * Store ports: what the rest of relaygate needs from storage, free of any engine's details. This is
 * the one list an adapter implements (store/sqlite/, store/postgres/, store/filesystem/ for bodies),
 * each port in its own file under ports/ with the records it carries, and each with a contract suite
 * (store/<name>-contract.ts) that every adapter runs. Only app/ picks the adapter behind a port.
 */
export * from './ports/directory.js';
export * from './ports/queue.js';
export * from './ports/bodies.js';
export * from './ports/srs-minted.js';
export * from './ports/tenant-settings.js';
export * from './ports/quota-counters.js';
export * from './ports/server-secrets.js';
export * from './ports/destination-budget.js';
export * from './ports/queue-stats.js';
export * from './ports/access.js';
export * from './ports/connector-health.js';
export * from './ports/trace.js';
export * from './ports/webhooks.js';
