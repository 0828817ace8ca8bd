/**
 * A problem with an Exchange Online export that stops the import: the file, the object (by its
 * Name/Identity when it has one), the property and the value are named so the admin can find it.
 * The CLI turns it into exit code 2.
 */
export class ExchangeImportError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
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
