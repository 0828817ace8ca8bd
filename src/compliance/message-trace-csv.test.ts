import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { CsvError, readCsvRecords, type CsvRecord } from './message-trace-csv.js';
import { parseReceived } from './message-trace-date.js';

async function* chunks(parts: Array<string | Buffer>): AsyncGenerator<Buffer | string> {
  for (const p of parts) yield p;
}

async function records(parts: Array<string | Buffer>): Promise<CsvRecord[]> {
  const out: CsvRecord[] = [];
  for await (const r of readCsvRecords(chunks(parts))) out.push(r);
  return out;
}

const SAMPLE =
  '"Received","Subject","FromIP"\r\n' +
  '"11/14/2023 9:15:02 AM","Disk ""db01"", 90%","203.0.113.25"\r\n' +
  '\r\n' +
  '2023-11-14T10:00:00Z,"two\r\nlines, and\nmore",198.51.100.7\n' +
  'a,,\r' +
  '"",b,"c"';

describe('message trace CSV reader', () => {
  it('handles quotes, doubled quotes, commas and line breaks in fields, CRLF/LF/CR endings and blank lines', async () => {
    const got = await records([SAMPLE]);
    assert.deepEqual(
      got.map((r) => r.fields),
      [
        ['Received', 'Subject', 'FromIP'],
        ['11/14/2023 9:15:02 AM', 'Disk "db01", 90%', '203.0.113.25'],
        ['2023-11-14T10:00:00Z', 'two\r\nlines, and\nmore', '198.51.100.7'],
        ['a', '', ''],
        ['', 'b', 'c'],
      ],
    );
    assert.deepEqual(got.map((r) => r.line), [1, 2, 4, 7, 8]);
  });

  it('gives the same records whatever the chunk boundaries (one character at a time, odd sizes, bytes)', async () => {
    const expected = (await records([SAMPLE])).map((r) => r.fields);
    assert.deepEqual((await records([...SAMPLE])).map((r) => r.fields), expected);
    for (const size of [2, 3, 7, 13]) {
      const parts: string[] = [];
      for (let i = 0; i < SAMPLE.length; i += size) parts.push(SAMPLE.slice(i, i + size));
      assert.deepEqual((await records(parts)).map((r) => r.fields), expected, `chunk size ${size}`);
    }
    const bytes = Buffer.from(SAMPLE, 'utf8');
    const byteParts: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 5) byteParts.push(bytes.subarray(i, i + 5));
    assert.deepEqual((await records(byteParts)).map((r) => r.fields), expected);
  });

  it('decodes UTF-8 split inside a character, and drops a UTF-8 BOM', async () => {
    const bytes = Buffer.from('\ufeffSubject,X\r\n"Grüße, Åsa",日本\r\n', 'utf8');
    const parts = [...bytes].map((b) => Buffer.from([b]));
    assert.deepEqual((await records(parts)).map((r) => r.fields), [['Subject', 'X'], ['Grüße, Åsa', '日本']]);
  });

  it('decodes UTF-16 LE with BOM', async () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('A,B\r\n"x,y",z\r\n', 'utf16le')]);
    assert.deepEqual((await records([bytes.subarray(0, 5), bytes.subarray(5)])).map((r) => r.fields), [['A', 'B'], ['x,y', 'z']]);
  });

  it('an unclosed quote at the end of the file is an error naming the line', async () => {
    await assert.rejects(records(['A,B\r\nx,"never closed\r\nmore\r\n']), (err: unknown) => {
      assert.ok(err instanceof CsvError);
      assert.equal(err.message, 'line 2: a quoted field is not closed before the end of the file');
      return true;
    });
  });
});

describe('message trace Received dates', () => {
  const iso = (s: string): string | undefined => parseReceived(s)?.toISOString();
  it('reads ISO 8601 (zone or UTC), en-US with AM/PM, day-first forms and /Date(ms)/', () => {
    assert.equal(iso('2023-11-14T09:15:02.123Z'), '2023-11-14T09:15:02.123Z');
    assert.equal(iso('2023-11-14T09:15:02'), '2023-11-14T09:15:02.000Z');
    assert.equal(iso('2023-11-14 09:15:02+01:00'), '2023-11-14T08:15:02.000Z');
    assert.equal(iso('11/14/2023 9:15:02 AM'), '2023-11-14T09:15:02.000Z');
    assert.equal(iso('11/14/2023 12:05:33 PM'), '2023-11-14T12:05:33.000Z');
    assert.equal(iso('11/1/2023 12:00:00 AM'), '2023-11-01T00:00:00.000Z');
    assert.equal(iso('14/11/2023 21:15:02'), '2023-11-14T21:15:02.000Z');
    assert.equal(iso('14.11.2023 09:15:02'), '2023-11-14T09:15:02.000Z');
    assert.equal(iso('/Date(1699953302000)/'), '2023-11-14T09:15:02.000Z');
  });

  it('refuses what is not a date, and dates that do not exist', () => {
    for (const s of ['', 'yesterday', '2023-02-31T00:00:00', '02/31/2023 1:00:00 AM', '11/14/2023 13:00:00 PM', '2023-13-01']) {
      assert.equal(parseReceived(s), null, s);
    }
  });
});
