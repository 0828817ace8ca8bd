import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ProgressBar } from './message-trace-progress.js';

describe('message trace progress bar', () => {
  it('redraws in place only when the percentage changes, and erases itself at the end', () => {
    const written: string[] = [];
    const bar = new ProgressBar({ write: (t: string) => written.push(t), columns: 60 });
    bar.rowsRead(1000);
    bar.bytesRead(10, 1000);
    bar.bytesRead(11, 1000);
    bar.rowsRead(250_000);
    bar.bytesRead(500, 1000);
    bar.bytesRead(1000, 1000);
    bar.finish();
    assert.deepEqual(written, [
      `\r[${' '.repeat(20)}]   1%  1,000 rows`,
      `\r[${'#'.repeat(10)}${' '.repeat(10)}]  50%  250,000 rows`,
      `\r[${'#'.repeat(20)}] 100%  250,000 rows`,
      '\r\x1b[2K',
    ]);
  });

  it('shows no row count before the first one is known, and one row as "1 row"', () => {
    const written: string[] = [];
    const bar = new ProgressBar({ write: (t: string) => written.push(t), columns: 60 });
    bar.bytesRead(10, 1000);
    bar.rowsRead(1);
    bar.bytesRead(1000, 1000);
    assert.deepEqual(written, [`\r[${' '.repeat(20)}]   1%`, `\r[${'#'.repeat(20)}] 100%  1 row`]);
  });

  it('writes nothing at all when no bytes were reported', () => {
    const written: string[] = [];
    new ProgressBar({ write: (t: string) => written.push(t) }).finish();
    assert.deepEqual(written, []);
  });
});
