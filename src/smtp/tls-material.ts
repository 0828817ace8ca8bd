import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { messageOf, RelaygateError } from '../core/errors.js';
import { fileErrorReason } from '../core/file-error.js';

/** The server's TLS files, read at start and again on SIGHUP. */
export interface TlsFiles {
  cert?: string | undefined;
  key?: string | undefined;
  /** CAs trusted for client certificates; absent: Node's root store. */
  clientCa?: string | undefined;
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

/** Reads the files; throws (invalid) with the field named when one cannot be read or they do not make a usable pair. */
export function loadTlsMaterial(files: TlsFiles): TlsMaterial | null {
  if (!files.cert || !files.key) return null;
  const read = (field: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new RelaygateError('invalid', `tls.${field} ${path}: ${fileErrorReason(err)}`, { details: { field: `tls.${field}`, path }, cause: err });
    }
  };
  const material: TlsMaterial = { cert: read('cert', files.cert), key: read('key', files.key) };
  if (files.clientCa) material.ca = read('clientCa', files.clientCa);
  try {
    createSecureContext({ cert: material.cert, key: material.key, ...(material.ca ? { ca: material.ca } : {}) });
  } catch (err) {
    throw new RelaygateError('invalid', `tls.cert, tls.key: ${files.cert} and ${files.key} are not a usable certificate and key: ${messageOf(err)}`, {
      details: { cert: files.cert, key: files.key },
      cause: err,
    });
  }
  return material;
}
