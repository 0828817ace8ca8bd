import type { Command } from 'commander';
import { asStoreFailure, openStores } from '../../app/stores.js';
import { lockDataDir, type DataDirLock } from '../../app/data-dir-lock.js';
import { failedTo } from '../errors.js';
import { addConfigOption, loadCliConfig, type ConfigOption } from '../options.js';
import type { CliContext } from '../io.js';
import { serveBanner, stopSummaryText } from '../serve-banner.js';

export function register(program: Command, cli: CliContext): void {
  addConfigOption(
    program
      .command('serve')
      .description('Run the SMTP relay: listeners, policy per recipient, durable queue (SIGHUP reloads TLS files)'),
  ).action(async (opts: ConfigOption) => {
    const config = loadCliConfig(cli, opts);
    let lock: DataDirLock;
    try {
      lock = lockDataDir(config.dataDir, config.nodeId);
    } catch (err) {
      throw failedTo('cannot start', err);
    }
    let stores;
    try {
      stores = await openStores(config);
    } catch (err) {
      lock.release();
      throw failedTo('cannot open the store', err);
    }
    // The SMTP and mail libraries are loaded only by the command that needs them.
    const [{ serve }, { createLogger }] = await Promise.all([import('../../app/server.js'), import('../../observability/logger.js')]);
    const { log } = createLogger(cli.env);
    let relay;
    try {
      relay = await serve({ config, stores, log });
    } catch (err) {
      await stores.close();
      lock.release();
      throw failedTo('cannot start', asStoreFailure(err));
    }
    // The admin API on the same stores; without it serve does not start (its port is the operator's choice).
    let listenersUp = true;
    const { startAdmin } = await import('../../app/admin.js');
    let admin;
    try {
      const bound = relay.listeners.map((l) => `${l.name} ${l.host}:${l.port}`).join(', ');
      admin = await startAdmin({ config, stores, log, metrics: relay.metrics, clientCa: relay.demo?.tls?.clientCa, readiness: () => ({ listeners: { ok: listenersUp, detail: listenersUp ? bound : 'stopping' } }) });
    } catch (err) {
      await relay.stop();
      await stores.close();
      lock.release();
      throw failedTo('cannot start', err);
    }
    log('info', `admin API listening on ${admin.url}`);
    const tenants = (await stores.directory.load()).tenants.map((t) => t.name);
    const metrics = relay.metrics ? { host: relay.metrics.host, port: relay.metrics.port, token: relay.metrics.access.token !== undefined, allowFrom: relay.metrics.access.allowFrom?.length ?? 0 } : null;
    cli.stdout.write(serveBanner({ configFile: config.configFile, dataDir: config.dataDir, tenants, listeners: relay.listeners, demo: relay.demo, metrics }));
    process.on('SIGHUP', () => {
      try {
        relay.server.reloadTls();
        log('info', 'TLS files reloaded');
      } catch (err) {
        log('error', `TLS reload failed, keeping the previous files: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    });
    log('info', `${signal} received: stopping (no new connections; open sessions are closed; pending commits and the delivery pass in progress finish)`);
    listenersUp = false;
    await admin.stop();
    const summary = await relay.stop();
    log('info', stopSummaryText(summary), { ...summary });
    await stores.close();
    lock.release();
  });
}
