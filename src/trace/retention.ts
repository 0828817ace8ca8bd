import { traceEventKinds, type TraceEventKind } from './events.js';

/** relaygate.yaml's `trace.retention` (milliseconds): a default and any kinds named on their own. */
export type RetentionSetting = { default: number } & Partial<Record<TraceEventKind, number | undefined>>;

/** How long each kind of event is kept: its own setting, else the default. */
export function retentionByKind(setting: RetentionSetting): Record<TraceEventKind, number> {
  return Object.fromEntries(traceEventKinds.map((k) => [k, setting[k] ?? setting.default])) as Record<TraceEventKind, number>;
}
