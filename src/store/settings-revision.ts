/** The tenant settings' optimistic concurrency, shared by the adapters (SettingsWriteOptions). */
import { RelaygateError } from '../core/errors.js';

/** Inside a settings write transaction: refuses the write when `ifRevision` is not the settings revision it sees. */
export function checkSettingsRevision(ifRevision: number | undefined, current: number): void {
  if (ifRevision === undefined || ifRevision === current) return;
  throw new RelaygateError('stale-revision', `the tenant settings are at revision ${current}, not ${ifRevision}: read them again and retry`, {
    details: { expected: ifRevision, current },
  });
}
