import type { LogFn } from '../observability/logger.js';
import type { TraceEvent } from '../trace/events.js';
import { traceLogLines } from '../trace/log-lines.js';

/** serve's log of what the trace records: a line at info for each outcome, from the same events. */
export function traceLogger(log: LogFn): (events: readonly TraceEvent[]) => void {
  return (events) => {
    for (const line of traceLogLines(events)) log('info', line.message, line.fields);
  };
}
