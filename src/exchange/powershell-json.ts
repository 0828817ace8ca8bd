import { readFile } from 'node:fs/promises';
import { ExchangeImportError, showValue } from './import-error.js';
import { fileErrorReason } from '../core/file-error.js';

/**
 * Reading what `Get-Xxx | ConvertTo-Json -Depth 5` writes, in every shape Windows PowerShell 5.1 and
 * PowerShell 7 produce:
 * - UTF-8 with or without BOM, and UTF-16 LE/BE with BOM (Windows PowerShell 5.1's `>` and
 *   `Out-File` write UTF-16 LE by default);
 * - one object (a single result is not wrapped in an array) or an array of objects;
 * - Windows PowerShell 5.1's wrapped arrays `{"value": [...], "Count": n}`, at the top and inside.
 */

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Decodes a file's bytes by its byte-order mark (UTF-8 when there is none). */
export function decodeText(bytes: Buffer): string {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString('utf16le');
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) {
    const swapped = Buffer.from(bytes.subarray(2));
    swapped.swap16();
    return swapped.toString('utf16le');
  }
  const text = bytes.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** The `{"value":[...],"Count":n}` wrapper of Windows PowerShell 5.1, unwrapped; null if not one. */
export function unwrapPsArray(value: unknown): unknown[] | null {
  if (Array.isArray(value)) return value;
  if (!isJsonObject(value)) return null;
  const keys = Object.keys(value);
  const valueKey = keys.find((k) => k.toLowerCase() === 'value');
  if (!valueKey || !Array.isArray(value[valueKey])) return null;
  const others = keys.filter((k) => k !== valueKey);
  if (others.some((k) => k.toLowerCase() !== 'count')) return null;
  return value[valueKey] as unknown[];
}

/** Parses the text of an export into its objects; `file` names the file in errors. */
export function parsePowerShellJson(text: string, file: string): JsonObject[] {
  if (text.trim() === '') throw new ExchangeImportError(`${file}: the file is empty`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const truncated = /end of JSON input|Unterminated|Expected .* after/i.test(reason);
    throw new ExchangeImportError(
      `${file}: not valid JSON${truncated ? ' (the file looks truncated)' : ''}: ${reason}${where(text, reason)}`,
    );
  }
  const items = unwrapPsArray(parsed) ?? [parsed];
  if (items.length === 0) return [];
  items.forEach((item, i) => {
    if (!isJsonObject(item)) {
      throw new ExchangeImportError(
        `${file}: item ${i + 1} is ${showValue(item)}, not an object: expected the output of ConvertTo-Json on cmdlet results`,
      );
    }
  });
  return items as JsonObject[];
}

/** The objects of a ConvertTo-Json export; `label` (`--accepted-domains`) names the file when it cannot be read. */
export async function readPowerShellJson(file: string, label: string): Promise<JsonObject[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new ExchangeImportError(`${label} ${file}: ${fileErrorReason(err)}`);
  }
  return parsePowerShellJson(decodeText(bytes), file);
}

/** "at line L column C" from Node's "at position N" in a JSON.parse message, when present. */
function where(text: string, reason: string): string {
  const m = /at position (\d+)/.exec(reason);
  if (!m || /line \d+/.test(reason)) return '';
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return ` (line ${line}, column ${column})`;
}
