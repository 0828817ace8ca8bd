import { Option, type Command } from 'commander';
import { normalizeDomain } from '../../core/domain.js';
import type { DkimAlgorithm } from '../../delivery/dkim.js';
import { SqliteDkimKeys } from '../../store/sqlite/delivery-settings.js';
import { CliError } from '../errors.js';
import { addConfigOption, printJson, withStores, type ConfigOption } from '../options.js';
import type { CliContext } from '../io.js';

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

/** delivery/dkim.js brings mailauth, which only the dkim commands need, not the others' help. */
const loadDkim = () => import('../../delivery/dkim.js');

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
    const domain = normalizeDomain(opts.domain);
    if (domain === null) throw new CliError(`not a domain name: ${opts.domain}`);
    if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(opts.selector)) {
      throw new CliError(`not a valid selector: ${opts.selector}`);
    }
    const bits = Number(opts.bits);
    if (opts.algorithm === 'rsa' && (!Number.isInteger(bits) || bits < 1024 || bits > 8192)) {
      throw new CliError(`--bits must be between 1024 and 8192, got ${opts.bits}`);
    }
    const { dkimRecordName, dkimTxtRecord, generateDkimKey } = await loadDkim();
    await withStores(cli, opts, async ({ db, directory }) => {
      const tenant = (await directory.load()).tenants.find((t) => t.name.toLowerCase() === opts.tenant.toLowerCase());
      if (!tenant) throw new CliError(`tenant ${opts.tenant} does not exist`, 'not-found');
      const pair = generateDkimKey(opts.algorithm, bits);
      const key = { tenant: tenant.name, domain, selector: opts.selector.toLowerCase(), algorithm: opts.algorithm, ...pair };
      new SqliteDkimKeys(db).put(key, Date.now());
      const name = dkimRecordName(key.selector, domain);
      const value = dkimTxtRecord(key);
      if (opts.json) return printJson(cli, { tenant: key.tenant, domain, selector: key.selector, algorithm: key.algorithm, name, txt: value });
      cli.stdout.write(`${name}. IN TXT ${zoneTxt(value)}\n`);
    });
  });

  addConfigOption(
    dkim.command('list').description('Signing keys (without private keys)').option('--tenant <name>', 'only this tenant').option('--json', 'machine-readable output'),
  ).action(async (opts: ConfigOption & { tenant?: string; json?: boolean }) => {
    const { dkimRecordName, dkimTxtRecord } = await loadDkim();
    await withStores(cli, opts, async ({ db }) => {
      const keys = new SqliteDkimKeys(db).list(opts.tenant);
      if (opts.json) return printJson(cli, keys.map((k) => ({ ...k, name: dkimRecordName(k.selector, k.domain), txt: dkimTxtRecord(k) })));
      if (keys.length === 0) return void cli.stdout.write('no DKIM keys\n');
      for (const k of keys) cli.stdout.write(`${k.tenant}  ${k.domain}  ${k.selector}  ${k.algorithm}\n`);
    });
  });
}
