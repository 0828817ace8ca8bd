import type { Command } from 'commander';
import { asStoreFailure, openStores } from '../../app/stores.js';
import { lockDataDir, type DataDirLock } from '../../app/data-dir-lock.js';
import type { BoundListener } from '../../smtp/relay-server.js';
import { failedTo } from '../errors.js';
import { addConfigOption, loadCliConfig, type ConfigOption } from '../options.js';
import type { CliContext } from '../io.js';

export function register(program: Command, cli: CliContext): void {
  addConfigOption(
    program
      .command('serve')
      .description('Run the SMTP relay: listeners, policy per recipient, durable queue (SIGHUP reloads TLS files)'),
  ).action(async (opts: ConfigOption) => {
    const config = loadCliConfig(cli, opts);
    let lock: DataDirLock;
    try {
      lock = lockDataDir(config.dataDir);
    } catch (err) {
      throw failedTo('cannot start', err);
    }
    let stores;
    try {
      stores = openStores(config);
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
      stores.close();
      lock.release();
      throw failedTo('cannot start', asStoreFailure(err));
    }
    for (const l of relay.listeners) cli.stdout.write(`relaygate: listening on ${hostPort(l)} (${l.name}, tls: ${l.tls})\n`);
    const plain = relay.listeners.find((l) => l.tls !== 'implicit');
    if (relay.demo && plain) {
      cli.stdout.write(
        `relaygate: demo directory loaded (tenant "demo"). Relay a test message with:\n` +
          `  swaks --server ${hostPort(plain)} --from app@demo.example --to someone@example.com\n` +
          `then see it queued with:  relaygate queue list\n`,
      );
    }
    process.on('SIGHUP', () => {
      try {
        relay.server.reloadTls();
        log('info', 'TLS files reloaded');
      } catch (err) {
        log('error', `TLS reload failed, keeping the previous files: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await relay.stop();
    stores.close();
    lock.release();
  });
}

function hostPort(l: BoundListener): string {
  return l.host.includes(':') ? `[${l.host}]:${l.port}` : `${l.host}:${l.port}`;
}
