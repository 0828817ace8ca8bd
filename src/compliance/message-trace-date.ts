/**
 * The `Received` column of a message trace export. Message trace times are UTC. Export-Csv writes
 * them in the session's culture, so the forms seen are:
 * - ISO 8601 (`2023-11-14T09:15:02.123Z`, or without zone: taken as UTC);
 * - en-US `11/14/2023 9:15:02 AM` (month first; day first when the first number exceeds 12);
 * - day-first dotted `14.11.2023 09:15:02` (de-DE and similar);
 * - JSON's `/Date(1699953302000)/`.
 * Returns null for anything else.
 */
export function parseReceived(text: string): Date | null {
  const s = text.trim();
  let m = /^\/Date\((-?\d+)\)\/$/.exec(s);
  if (m) return valid(new Date(Number(m[1])));
  m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(s);
  if (m) {
    const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', zone] = m;
    const iso = `${y}-${mo}-${d}T${h.padStart(2, '0')}:${mi}:${sec.padStart(2, '0')}${frac}${zone ? normalizeZone(zone) : 'Z'}`;
    return zone ? valid(new Date(iso)) : valid(new Date(iso), Number(mo), Number(d));
  }
  m = /^(\d{1,2})([/.])(\d{1,2})\2(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(AM|PM)?)?$/i.exec(s);
  if (m) {
    const [, a, sep, b, y, h = '0', mi = '0', sec = '0', ampm] = m;
    const dayFirst = sep === '.' || Number(a) > 12;
    const month = Number(dayFirst ? b : a);
    const day = Number(dayFirst ? a : b);
    let hour = Number(h);
    if (ampm) {
      if (hour < 1 || hour > 12) return null;
      hour = (hour % 12) + (ampm.toUpperCase() === 'PM' ? 12 : 0);
    }
    return valid(new Date(Date.UTC(Number(y), month - 1, day, hour, Number(mi), Number(sec))), month, day);
  }
  return null;
}

function normalizeZone(zone: string): string {
  if (zone.toUpperCase() === 'Z') return 'Z';
  return zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
}

/** Rejects NaN dates and, given the written month and day, dates JavaScript rolled over (Feb 31 → Mar 3). */
function valid(d: Date, month?: number, day?: number): Date | null {
  if (Number.isNaN(d.getTime())) return null;
  if (month !== undefined && (d.getUTCMonth() + 1 !== month || d.getUTCDate() !== day)) return null;
  return d;
}
