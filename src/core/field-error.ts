/**
 * An `invalid` RelaygateError about one input field: the message is the reason without the field's
 * name, and `details.field` names it as the service does (`host`, `clientKey`), so each front end
 * words it its own way (`--host: …` on the command line, a JSON pointer in a problem document).
 */
import { RelaygateError } from './errors.js';

export function invalidField(field: string, reason: string, problem?: string): RelaygateError {
  return new RelaygateError('invalid', reason, { details: { field, ...(problem !== undefined ? { problem } : {}) } });
}

/** The field a RelaygateError is about, if it names one. */
export function fieldOf(err: unknown): string | undefined {
  if (!(err instanceof RelaygateError)) return undefined;
  const field = err.details.field;
  return typeof field === 'string' ? field : undefined;
}
