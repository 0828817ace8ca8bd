/**
 * The demo's TLS files, made once under `<dataDir>/tls` with `openssl` when `serve` runs with the
 * built-in demo settings: a self-signed server certificate (so STARTTLS and implicit TLS work at
 * once), and a client CA the demo trusts with a client certificate for `mail.demo.example` signed by
 * it, so the demo tenant's certificate connector can be tried with swaks.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { messageOf, RelaygateError } from '../core/errors.js';

/** The name in the demo client certificate: the demo tenant's certificate connector matches it. */
export const DEMO_CLIENT_NAME = 'mail.demo.example';

export interface DemoTlsFiles {
  /** The server certificate and key. */
  cert: string;
  key: string;
  /** The CA the demo trusts for client certificates (its `tls.clientCa`). */
  clientCa: string;
  /** A client certificate for mail.demo.example signed by clientCa, and its key. */
  clientCert: string;
  clientKey: string;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Where the demo's TLS files are (or will be) under `dataDir`, without making them. */
export function demoTlsPaths(dataDir: string): DemoTlsFiles {
  const dir = join(dataDir, 'tls');
  return {
    cert: join(dir, 'demo-server.pem'),
    key: join(dir, 'demo-server.key'),
    clientCa: join(dir, 'demo-client-ca.pem'),
    clientCert: join(dir, 'demo-client.pem'),
    clientKey: join(dir, 'demo-client.key'),
  };
}

/** The demo's TLS files under `dataDir`, made when they are missing. */
export function demoTlsFiles(dataDir: string, hostname: string): DemoTlsFiles {
  const dir = join(dataDir, 'tls');
  const files = demoTlsPaths(dataDir);
  const caKey = join(dir, 'demo-client-ca.key');
  mkdirSync(dir, { recursive: true });
  try {
    if (!existsSync(files.cert) || !existsSync(files.key)) {
      openssl(['req', '-x509', ...EC_KEY, '-keyout', files.key, '-out', files.cert, '-days', '825', '-subj', `/CN=${hostname}`, '-addext', `subjectAltName=DNS:${hostname},DNS:localhost,IP:127.0.0.1,IP:::1`]);
    }
    // A data directory from a version without the client files gets them now; a half-made set is made again.
    if (![files.clientCa, caKey, files.clientCert, files.clientKey].every((f) => existsSync(f))) {
      openssl(['req', '-x509', ...EC_KEY, '-keyout', caKey, '-out', files.clientCa, '-days', '825', '-subj', '/CN=relaygate demo client CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
      const csr = join(dir, 'demo-client.csr');
      const ext = join(dir, 'demo-client.ext');
      writeFileSync(ext, `basicConstraints = CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = clientAuth\nsubjectAltName = DNS:${DEMO_CLIENT_NAME}\n`);
      try {
        openssl(['req', '-new', ...EC_KEY, '-keyout', files.clientKey, '-out', csr, '-subj', `/CN=${DEMO_CLIENT_NAME}`]);
        openssl(['x509', '-req', '-in', csr, '-CA', files.clientCa, '-CAkey', caKey, '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '825', '-extfile', ext, '-out', files.clientCert]);
      } finally {
        rmSync(csr, { force: true });
        rmSync(ext, { force: true });
      }
    }
  } catch (err) {
    throw new RelaygateError('unavailable', `the demo needs openssl to make its TLS certificates (or set tls.cert and tls.key): ${messageOf(err)}`, { cause: err });
  }
  return files;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}
