import { readFileSync } from 'node:fs';

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

/** Reads the files; throws with the file named when one cannot be read. */
export function loadTlsMaterial(files: TlsFiles): TlsMaterial | null {
  if (!files.cert || !files.key) return null;
  const read = (field: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`tls.${field}: cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const material: TlsMaterial = { cert: read('cert', files.cert), key: read('key', files.key) };
  if (files.clientCa) material.ca = read('clientCa', files.clientCa);
  return material;
}
