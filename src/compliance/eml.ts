import { readFile } from 'node:fs/promises';
import { simpleParser, type AddressObject } from 'mailparser';
import { RelaygateError } from '../core/errors.js';
import { fileErrorReason } from '../core/file-error.js';

/** What `check --eml` reads from a message: P2, the Return-Path (default P1) and the To/Cc recipients. */
export interface EmlFacts {
  headerFrom: string | null;
  returnPath: string | null;
  recipients: string[];
}

/** The facts of the message in PATH, named by `label` (`--eml`) when it cannot be read. */
export async function readEmlFacts(path: string, label: string): Promise<EmlFacts> {
  let text: Buffer;
  try {
    text = await readFile(path);
  } catch (err) {
    throw new RelaygateError('invalid', `${label} ${path}: ${fileErrorReason(err)}`, { details: { path, field: label }, cause: err });
  }
  return emlFacts(text);
}

/** The facts of a message given as its bytes (an upload). */
export async function emlFacts(text: Buffer): Promise<EmlFacts> {
  const parsed = await simpleParser(text);
  const returnPathHeader = parsed.headers.get('return-path');
  const returnPath = returnPathHeader === undefined ? null : addressText(returnPathHeader);
  return {
    headerFrom: parsed.from?.value[0]?.address ?? null,
    returnPath,
    recipients: [...addresses(parsed.to), ...addresses(parsed.cc)],
  };
}

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  if (!field) return [];
  const list = Array.isArray(field) ? field : [field];
  return list.flatMap((a) => a.value.map((v) => v.address).filter((x): x is string => Boolean(x)));
}

function addressText(value: unknown): string {
  if (typeof value === 'string') return value.trim().replace(/^<|>$/g, '');
  if (value && typeof value === 'object' && 'value' in value) {
    const first = (value as AddressObject).value[0];
    return first?.address ?? '';
  }
  return '';
}
