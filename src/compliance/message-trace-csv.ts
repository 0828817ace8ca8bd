import { StringDecoder } from 'node:string_decoder';
import { RelaygateError } from '../core/errors.js';

/**
 * A streaming CSV reader (RFC 4180 as PowerShell's Export-Csv writes it): fields separated by commas,
 * optionally quoted, quotes doubled inside quotes, quoted fields may hold commas and line breaks,
 * records end with CRLF, LF or CR. Input arrives in chunks of any size; memory holds one record.
 * A UTF-8 or UTF-16 byte-order mark is honoured.
 */
export class CsvError extends RelaygateError {
  constructor(message: string) {
    super('invalid', message);
    this.name = 'CsvError';
  }
}

/** A field longer than this is a broken quote swallowing the file, not a value. */
const MAX_FIELD_CHARS = 1 << 20;

export interface CsvRecord {
  fields: string[];
  /** 1-based line number where the record starts. */
  line: number;
}

export async function* readCsvRecords(source: AsyncIterable<Buffer | string>): AsyncGenerator<CsvRecord> {
  let decoder: StringDecoder | null = null;
  let first = true;
  const parser = new CsvParser();
  for await (const chunk of source) {
    let text: string;
    if (typeof chunk === 'string') text = chunk;
    else {
      let bytes = chunk;
      if (decoder === null) {
        if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) {
          decoder = new StringDecoder('utf16le');
          bytes = bytes.subarray(2);
        } else decoder = new StringDecoder('utf8');
      }
      text = decoder.write(bytes);
    }
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    yield* parser.push(text);
  }
  if (decoder) yield* parser.push(decoder.end());
  yield* parser.end();
}

class CsvParser {
  private fields: string[] = [];
  private field = '';
  private quoted = false;
  /** Inside quotes, a quote was just seen: either the end of the quoted part or the first of "". */
  private quotePending = false;
  private fieldStarted = false;
  private line = 1;
  private recordLine = 1;
  private lastWasCr = false;

  *push(text: string): Generator<CsvRecord> {
    const n = text.length;
    let i = 0;
    while (i < n) {
      const ch = text[i]!;
      if (this.lastWasCr) {
        this.lastWasCr = false;
        if (ch === '\n' && !this.quoted) {
          i++;
          continue;
        }
      }
      if (this.quoted) {
        if (this.quotePending) {
          this.quotePending = false;
          if (ch === '"') {
            this.field += '"';
            i++;
            continue;
          }
          this.quoted = false;
          continue; // re-read ch outside quotes
        }
        const next = text.indexOf('"', i);
        const end = next === -1 ? n : next;
        const piece = text.slice(i, end);
        this.countLines(piece);
        this.append(piece);
        i = end;
        if (next !== -1) {
          this.quotePending = true;
          i++;
        }
        continue;
      }
      if (ch === ',') {
        this.endField();
        i++;
      } else if (ch === '\r' || ch === '\n') {
        const record = this.endRecord();
        this.line++;
        if (ch === '\r') this.lastWasCr = true;
        i++;
        if (record) yield record;
      } else if (ch === '"' && !this.fieldStarted) {
        this.quoted = true;
        this.fieldStarted = true;
        i++;
      } else {
        let j = i;
        while (j < n) {
          const c = text[j];
          if (c === ',' || c === '\r' || c === '\n' || (c === '"' && !this.fieldStarted && j === i)) break;
          j++;
        }
        this.append(text.slice(i, j));
        this.fieldStarted = true;
        i = j;
      }
    }
  }

  *end(): Generator<CsvRecord> {
    if (this.quotePending) {
      this.quotePending = false;
      this.quoted = false;
    }
    if (this.quoted) throw new CsvError(`line ${this.recordLine}: a quoted field is not closed before the end of the file`);
    const record = this.endRecord();
    if (record) yield record;
  }

  private append(piece: string): void {
    this.field += piece;
    if (this.field.length > MAX_FIELD_CHARS) {
      throw new CsvError(`line ${this.recordLine}: a field is longer than ${MAX_FIELD_CHARS} characters (an unclosed quote?)`);
    }
  }

  private countLines(piece: string): void {
    for (let k = piece.indexOf('\n'); k !== -1; k = piece.indexOf('\n', k + 1)) this.line++;
  }

  private endField(): void {
    this.fields.push(this.field);
    this.field = '';
    this.fieldStarted = false;
  }

  /** Ends the current record; blank lines yield nothing. */
  private endRecord(): CsvRecord | null {
    const blank = this.fields.length === 0 && !this.fieldStarted && this.field === '';
    if (blank) {
      this.recordLine = this.line + 1;
      return null;
    }
    this.endField();
    const record = { fields: this.fields, line: this.recordLine };
    this.fields = [];
    this.recordLine = this.line + 1;
    return record;
  }
}
