/**
 * The bounds of a time range as people write them: a duration back from now (`30d`, `12h`, `90m`,
 * `2w`) or an ISO 8601 date or instant. One parser for every range a report or a search takes; the
 * `name` is how the caller's user wrote the bound (an option, a query parameter), `field` the
 * error detail's field.
 */
import { RelaygateError } from './errors.js';

const DAY = 86_400_000;
const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: DAY, w: 7 * DAY };

export interface BoundName {
  /** As the user wrote it: `--since`, `since`. */
  name: string;
  /** The error's details.field. */
  field: string;
}

/** A duration back from NOW, or an instant. */
export function parseSince(text: string, now: number, bound: BoundName): number {
  const duration = /^\s*(\d{1,6})\s*([mhdw])\s*$/i.exec(text);
  if (duration) return now - Number(duration[1]) * UNITS[duration[2]!.toLowerCase()]!;
  return parseInstant(text, bound, true);
}

/** An ISO 8601 date (midnight UTC) or instant, in epoch milliseconds. */
export function parseInstant(text: string, bound: BoundName, durationAllowed = false): number {
  const t = text.trim();
  const at = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(t) ? Date.parse(t.length === 10 ? `${t}T00:00:00Z` : t) : NaN;
  if (Number.isNaN(at)) {
    throw new RelaygateError(
      'invalid',
      `${bound.name} ${JSON.stringify(text)} is not ${durationAllowed ? 'a duration (30d, 12h, 90m, 2w) or ' : ''}an ISO 8601 date or instant (2026-11-01, 2026-11-01T08:00:00Z)`,
      { details: { field: bound.field, [bound.field]: text } },
    );
  }
  return at;
}
