/**
 * ETags and If-Match: a directory answer is at a directory revision (`"dir-12"`), a tenant
 * settings answer at a settings revision (`"settings-5"`). A write with If-Match applies only at
 * that revision (412 stale-revision otherwise), so two admins never overwrite each other.
 */
import { RelaygateError } from '../core/errors.js';
import { invalidField } from '../core/field-error.js';
import type { DirectoryChange, StoredDirectory } from '../directory/index.js';
import type { DirectoryStore } from '../store/ports.js';
import type { Revisioned, RouteContext } from './api-route.js';

const PREFIX: Readonly<Record<Revisioned, string>> = { directory: 'dir', settings: 'settings' };

export function etag(kind: Revisioned, revision: number): string {
  return `"${PREFIX[kind]}-${revision}"`;
}

/** The revision an If-Match header names; undefined for none or `*`. */
export function parseIfMatch(header: string | undefined, kind: Revisioned): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const m = /^\s*"([a-z]+)-(\d{1,15})"\s*$/.exec(header);
  if (!m) throw invalidField('If-Match', `expected an ETag this API sent, such as ${etag(kind, 12)}, got ${JSON.stringify(header)}`);
  if (m[1] !== PREFIX[kind]) {
    throw new RelaygateError('stale-revision', `If-Match ${header.trim()} is not a revision of this resource (its ETags look like ${etag(kind, 12)})`, {
      details: { field: 'If-Match' },
    });
  }
  return Number(m[2]);
}

const ATTEMPTS = 3;

/**
 * A directory write made against the directory it read: the handler sees the directory at one
 * revision and the store writes only if it is still that revision. With If-Match the revision is
 * the client's; without, a write that lost a race is tried again on the newer directory (at most
 * three times), as the client asked for no precondition.
 */
export async function directoryWrite<T>(
  store: DirectoryStore,
  ctx: RouteContext<unknown, unknown, unknown>,
  write: (directory: StoredDirectory, ifRevision: number) => Promise<{ changes: DirectoryChange[]; answer: T }>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const { directory, revision } = await store.loadWithRevision();
    if (ctx.ifMatch !== undefined && ctx.ifMatch !== revision) {
      throw new RelaygateError('stale-revision', `the directory is at revision ${revision}, not ${ctx.ifMatch}: read it again and retry`, {
        details: { expected: ctx.ifMatch, current: revision },
      });
    }
    try {
      const { changes, answer } = await write(directory, revision);
      ctx.revision(changes.length > 0 ? revision + 1 : revision);
      return answer;
    } catch (err) {
      const raced = err instanceof RelaygateError && err.code === 'stale-revision' && ctx.ifMatch === undefined;
      if (!raced || attempt >= ATTEMPTS) throw err;
    }
  }
}
