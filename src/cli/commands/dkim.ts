import { Option, type Command } from 'commander';
import { fieldOf } from '../../core/field-error.js';
import { DkimService } from '../../delivery/dkim-service.js';
import type { DkimAlgorithm } from '../../store/ports.js';
import { CliError } from '../errors.js';
import { addConfigOption, printJson, withStores, type ConfigOption } from '../options.js';
import type { CliContext } from '../io.js';
import type { Stores } from '../../app/stores.js';

interface GenerateOptions extends ConfigOption {
  tenant: string;
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  bits: string;
  json?: boolean;
}

/** A TXT value as zone-file strings of at most 255 characters each. */
export function zoneTxt(value: string): string {
  const parts: string[] = [];
  for (let i = 0; i < value.length; i += 255) parts.push(`"${value.slice(i, i + 255)}"`);
  return parts.join(' ');
}

function dkimService(stores: Stores): DkimService {
  return new DkimService({ directory: stores.directory, settings: stores.tenantSettings });
}

export function register(program: Command, cli: CliContext): void {
  const dkim = program.command('dkim').description('DKIM signing keys per tenant domain');

  addConfigOption(
    dkim
      .command('generate')
      .description('Make a signing key for a tenant domain, store it and print the DNS TXT record to publish')
      .requiredOption('--tenant <name>', 'the tenant that signs')
      .requiredOption('--domain <domain>', 'the signing domain (d=), normally the From domain')
      .requiredOption('--selector <selector>', 'the selector (s=)')
      .addOption(new Option('--algorithm <alg>', 'key type').choices(['rsa', 'ed25519']).default('rsa'))
      .option('--bits <n>', 'RSA key size', '2048')
      .option('--json', 'machine-readable output'),
  ).action(async (opts: GenerateOptions) => {
    await withStores(cli, opts, async (stores) => {
      const request = { tenant: opts.tenant, domain: opts.domain, selector: opts.selector, algorithm: opts.algorithm, bits: Number(opts.bits) };
      const key = await dkimService(stores)
        .generate(request)
        .catch((err: unknown) => {
          if (fieldOf(err) === 'bits') throw new CliError(`--bits must be between 1024 and 8192, got ${opts.bits}`);
          throw err;
        });
      if (opts.json) return printJson(cli, { tenant: key.tenant, domain: key.domain, selector: key.selector, algorithm: key.algorithm, name: key.name, txt: key.txt });
      cli.stdout.write(`${key.name}. IN TXT ${zoneTxt(key.txt)}\n`);
    });
  });

  addConfigOption(
    dkim.command('list').description('Signing keys (without private keys)').option('--tenant <name>', 'only this tenant').option('--json', 'machine-readable output'),
  ).action(async (opts: ConfigOption & { tenant?: string; json?: boolean }) => {
    await withStores(cli, opts, async (stores) => {
      const keys = await dkimService(stores).list(opts.tenant);
      if (opts.json) return printJson(cli, keys);
      if (keys.length === 0) return void cli.stdout.write('no DKIM keys\n');
      for (const k of keys) cli.stdout.write(`${k.tenant}  ${k.domain}  ${k.selector}  ${k.algorithm}\n`);
    });
  });
}
