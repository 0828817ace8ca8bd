/**
 * A one-line progress bar for a terminal (the message-trace check and the live impact report): redrawn in place with `\r`, only when the shown percentage
 * changes, and erased at the end so the report starts on a clean line. Meant for stderr when it is
 * a TTY; callers pass nothing when it is not.
 */
export interface ProgressSink {
  write(text: string): unknown;
  columns?: number;
}

export class ProgressBar {
  private shown = -1;
  private rows = 0;

  constructor(
    private readonly sink: ProgressSink,
    private readonly unit: { one: string; many: string } = { one: 'row', many: 'rows' },
  ) {}

  rowsRead(rows: number): void {
    this.rows = rows;
  }

  bytesRead(read: number, total: number): void {
    this.progress(read, total);
  }

  /** Any measure of work done out of a total (bytes of a file, decisions of a scan). */
  progress(done: number, total: number): void {
    const percent = total > 0 ? Math.min(100, Math.floor((done * 100) / total)) : 100;
    if (percent === this.shown) return;
    this.shown = percent;
    const width = Math.max(10, Math.min(40, (this.sink.columns ?? 80) - 40));
    const filled = Math.round((percent * width) / 100);
    // The row count is known only every few thousand rows: until then the bar shows none.
    const rows = this.rows === 0 ? '' : `  ${this.rows.toLocaleString('en-US')} ${this.rows === 1 ? this.unit.one : this.unit.many}`;
    this.sink.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${String(percent).padStart(3)}%${rows}`);
  }

  /** Erases the bar (once: a second call writes nothing). */
  finish(): void {
    if (this.shown < 0) return;
    this.sink.write('\r\x1b[2K');
    this.shown = -1;
  }
}
