import { RelaygateError } from '../core/errors.js';

/**
 * A problem with an Exchange Online export that stops the import: the file, the object (by its
 * Name/Identity when it has one), the property and the value are named so the admin can find it.
 */
export class ExchangeImportError extends RelaygateError {
  constructor(message: string) {
    super('invalid', message);
    this.name = 'ExchangeImportError';
  }
}

/** A short, printable rendering of a JSON value for error messages (never the whole file). */
export function showValue(value: unknown): string {
  let text: string;
  try {
    text = value === undefined ? 'undefined' : JSON.stringify(value);
  } catch {
    text = String(value);
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
