/**
 * Test certificates made with `openssl` in a temporary folder: a CA, server certificates it
 * signed (for `localhost` or any host name), and client certificates that are valid, expired, not
 * yet valid, self-signed, signed by another CA, or carry another name, subject, key usage or kind of
 * alternative name, or that a leaf (not a CA) signed. The one certificate factory
 * for every test that speaks TLS (receiving side, delivery side and the CLI).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeyPair {
  /** PEM text. */
  key: string;
  cert: string;
  keyPath: string;
  certPath: string;
}

export interface ClientCertOptions {
  /** Subject CN. */
  cn: string;
  /** DNS subjectAltNames. */
  dnsNames?: string[];
  /** Validity window (defaults: yesterday to a year from now). */
  notBefore?: Date;
  notAfter?: Date;
  /** The whole subject in openssl's `/O=Contoso/OU=Mail/CN=name` form, instead of `/CN=<cn>`. */
  subject?: string;
  /** extendedKeyUsage (default `clientAuth`), e.g. `serverAuth`. */
  extendedKeyUsage?: string;
  /**
   * More subjectAltNames, each written as one value of an openssl config section, so a value may
   * hold a comma: `{ type: 'URI', value: 'relay.contoso.example' }`.
   */
  altNames?: Array<{ type: 'DNS' | 'URI' | 'email' | 'IP'; value: string }>;
}

export interface TestPki {
  dir: string;
  ca: KeyPair;
  /** A second CA the server does not trust. */
  otherCa: KeyPair;
  /** Server certificate for `localhost`, 127.0.0.1 and ::1, signed by `ca`. */
  server: KeyPair;
  /**
   * Another server certificate signed by `ca`: subject and DNS name `hostName`, plus 127.0.0.1 and ::1;
   * valid from yesterday for a year unless `validity` says otherwise (an expired one, say).
   */
  serverFor(name: string, hostName: string, validity?: { notBefore?: Date; notAfter?: Date }): KeyPair;
  /** A client certificate signed by `ca` (or `otherCa` with `signer: 'other'`). */
  client(name: string, opts: ClientCertOptions & { signer?: 'ca' | 'other' }): KeyPair;
  /** A self-signed client certificate. */
  selfSigned(name: string, opts: ClientCertOptions): KeyPair;
  /**
   * A client certificate whose issuer is `issuer`, which need not be a CA (a tenant's own leaf
   * certificate signing a name it does not hold); `cert` holds the chain: it, then the issuer.
   */
  signedBy(name: string, issuer: KeyPair, opts: ClientCertOptions): KeyPair;
  cleanup(): void;
}

function openssl(cwd: string, args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** openssl ca's date form: YYYYMMDDHHMMSSZ. */
function asn1Time(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
}

function caConfig(dir: string, name: string): string {
  const base = join(dir, name);
  const path = join(dir, `${name}.cnf`);
  writeFileSync(join(dir, `${name}.index`), '');
  writeFileSync(join(dir, `${name}.serial`), '1000\n');
  writeFileSync(
    path,
    `[ ca ]
default_ca = this_ca
[ this_ca ]
database = ${base}.index
serial = ${base}.serial
new_certs_dir = ${dir}
default_md = sha256
policy = any
unique_subject = no
copy_extensions = copy
[ any ]
commonName = supplied
organizationName = optional
organizationalUnitName = optional
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
`,
  );
  return path;
}

function makeCa(dir: string, name: string, cn: string): KeyPair {
  const keyPath = join(dir, `${name}.key`);
  const certPath = join(dir, `${name}.pem`);
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '3650', '-subj', `/CN=${cn}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  caConfig(dir, name);
  return { keyPath, certPath, key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') };
}

function signed(dir: string, caName: string, ca: KeyPair, name: string, subject: string, sans: string[], usage: string, opts: Omit<ClientCertOptions, 'cn'>): KeyPair {
  const keyPath = join(dir, `${name}.key`);
  const csrPath = join(dir, `${name}.csr`);
  const certPath = join(dir, `${name}.pem`);
  openssl(dir, csrArgs(keyPath, csrPath, subject, sans, usage));
  const notBefore = opts.notBefore ?? new Date(Date.now() - 86_400_000);
  const notAfter = opts.notAfter ?? new Date(Date.now() + 365 * 86_400_000);
  openssl(dir, ['ca', '-batch', '-config', join(dir, `${caName}.cnf`), '-cert', ca.certPath, '-keyfile', ca.keyPath, '-in', csrPath, '-out', certPath, '-startdate', asn1Time(notBefore), '-enddate', asn1Time(notAfter), '-notext', ...altNameExtension(dir, name, opts)]);
  return { keyPath, certPath, key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') };
}

function csrArgs(keyPath: string, csrPath: string, subject: string, sans: string[], usage: string): string[] {
  const args = ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', csrPath, '-subj', subject, '-addext', `extendedKeyUsage=${usage}`];
  if (sans.length) args.push('-addext', `subjectAltName=${sans.join(',')}`);
  return args;
}

/** `-extfile` arguments adding `altNames` at signing (one config value each, so a value may hold a comma). */
function altNameExtension(dir: string, name: string, opts: Pick<ClientCertOptions, 'altNames'>): string[] {
  if (!opts.altNames?.length) return [];
  const path = join(dir, `${name}.ext`);
  const entries = opts.altNames.map((a, i) => `${a.type}.${i + 1} = ${a.value}`).join('\n');
  writeFileSync(path, `[ ext ]\nsubjectAltName = @alt\n[ alt ]\n${entries}\n`);
  return ['-extfile', path, '-extensions', 'ext'];
}

function subjectOf(opts: ClientCertOptions): string {
  return opts.subject ?? `/CN=${opts.cn}`;
}

export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-pki-'));
  const ca = makeCa(dir, 'ca', 'Relaygate Test CA');
  const otherCa = makeCa(dir, 'other-ca', 'Some Other CA');
  const serverFor = (name: string, hostName: string, validity: { notBefore?: Date; notAfter?: Date } = {}): KeyPair =>
    signed(dir, 'ca', ca, name, `/CN=${hostName}`, [`DNS:${hostName}`, 'IP:127.0.0.1', 'IP:::1'], 'serverAuth', validity);
  return {
    dir,
    ca,
    otherCa,
    server: serverFor('server', 'localhost'),
    serverFor,
    client(name, opts) {
      const signer = opts.signer === 'other' ? otherCa : ca;
      const sans = (opts.dnsNames ?? []).map((d) => `DNS:${d}`);
      return signed(dir, opts.signer === 'other' ? 'other-ca' : 'ca', signer, name, subjectOf(opts), sans, opts.extendedKeyUsage ?? 'clientAuth', opts);
    },
    selfSigned(name, opts) {
      const keyPath = join(dir, `${name}.key`);
      const certPath = join(dir, `${name}.pem`);
      const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '365', '-subj', subjectOf(opts)];
      if (opts.dnsNames?.length) args.push('-addext', `subjectAltName=${opts.dnsNames.map((d) => `DNS:${d}`).join(',')}`);
      openssl(dir, args);
      return { keyPath, certPath, key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') };
    },
    signedBy(name, issuer, opts) {
      const keyPath = join(dir, `${name}.key`);
      const csrPath = join(dir, `${name}.csr`);
      const certPath = join(dir, `${name}.pem`);
      openssl(dir, csrArgs(keyPath, csrPath, subjectOf(opts), (opts.dnsNames ?? []).map((d) => `DNS:${d}`), opts.extendedKeyUsage ?? 'clientAuth'));
      openssl(dir, ['x509', '-req', '-in', csrPath, '-CA', issuer.certPath, '-CAkey', issuer.keyPath, '-set_serial', '4242', '-days', '30', '-copy_extensions', 'copy', '-out', certPath]);
      const cert = readFileSync(certPath, 'utf8') + issuer.cert;
      writeFileSync(certPath, cert);
      return { keyPath, certPath, key: readFileSync(keyPath, 'utf8'), cert };
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
