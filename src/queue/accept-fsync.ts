import { open } from 'node:fs/promises';

/** Makes a directory's entries (a new file, a new subdirectory) durable. */
export async function fsyncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
