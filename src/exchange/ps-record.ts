import { ExchangeImportError, showValue } from './import-error.js';
import { isJsonObject, unwrapPsArray, type JsonObject } from './powershell-json.js';

/**
 * One object of a cmdlet's output, read property by property. Property names are matched without
 * regard to case (PowerShell's rule). Every property read is remembered, so what the importer did
 * not read can be reported as ignored instead of disappearing silently.
 */
export class PsRecord {
  private readonly keys = new Map<string, string>();
  private readonly used = new Set<string>();

  constructor(
    readonly raw: JsonObject,
    /** How errors name this object: `accepted-domains.json: Get-AcceptedDomain object 2 ("contoso.com")`. */
    readonly where: string,
  ) {
    for (const key of Object.keys(raw)) this.keys.set(key.toLowerCase(), key);
  }

  has(name: string): boolean {
    return this.keys.has(name.toLowerCase());
  }

  /** The raw value; undefined when the property is absent. Marks the property as read. */
  get(name: string): unknown {
    const key = this.keys.get(name.toLowerCase());
    if (key === undefined) return undefined;
    this.used.add(key);
    return this.raw[key];
  }

  /** The raw value without marking it read (for remarks about a property that stays ignored). */
  peek(name: string): unknown {
    const key = this.keys.get(name.toLowerCase());
    return key === undefined ? undefined : this.raw[key];
  }

  /** Marks a property as read without interpreting it (metadata the importer consciously uses). */
  touch(name: string): void {
    void this.get(name);
  }

  /** The properties present but never read, in file order. */
  unread(): string[] {
    return Object.keys(this.raw).filter((k) => !this.used.has(k));
  }

  fail(name: string, value: unknown, expected: string): never {
    throw new ExchangeImportError(`${this.where}: property ${name}: cannot read value ${showValue(value)}: ${expected}`);
  }

  requireProperty(name: string): unknown {
    if (!this.has(name)) throw new ExchangeImportError(`${this.where}: missing property ${name}`);
    return this.get(name);
  }

  /** A string; null for JSON null or an empty string. */
  optionalString(name: string): string | null {
    const value = this.get(name);
    if (value === undefined || value === null) return null;
    if (typeof value !== 'string') this.fail(name, value, 'expected a string');
    return value === '' ? null : value;
  }

  requiredString(name: string): string {
    const value = this.requireProperty(name);
    if (typeof value !== 'string' || value.trim() === '') this.fail(name, value, 'expected a non-empty string');
    return value;
  }

  /** `true`/`false`, or the strings `True`/`False` (CSV-to-JSON conversions produce them). */
  boolean(name: string, fallback: boolean): boolean {
    const value = this.get(name);
    if (value === undefined || value === null) return fallback;
    if (typeof value === 'boolean') return value;
    if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
    this.fail(name, value, 'expected true or false');
  }

  /**
   * An enum written by name (remote sessions, `-EnumsAsStrings`) or by number (PowerShell 7's
   * default). `byNumber` lists the .NET values; names are matched without regard to case.
   */
  enumValue<T extends string>(name: string, byNumber: ReadonlyMap<number, T>): T {
    const value = this.requireProperty(name);
    const names = [...byNumber.values()];
    if (typeof value === 'number' && byNumber.has(value)) return byNumber.get(value) as T;
    if (typeof value === 'string') {
      const found = names.find((n) => n.toLowerCase() === value.trim().toLowerCase());
      if (found) return found;
      if (/^\d+$/.test(value.trim()) && byNumber.has(Number(value))) return byNumber.get(Number(value)) as T;
    }
    const choices = [...byNumber.entries()].map(([n, s]) => `${s} (${n})`).join(', ');
    this.fail(name, value, `expected one of ${choices}`);
  }

  /**
   * A MultiValuedProperty: an array, Windows PowerShell's `{"value":[...],"Count":n}`, a lone value
   * (a one-item collection can come out unwrapped), or null/absent for an empty one.
   */
  list(name: string): unknown[] {
    const value = this.get(name);
    if (value === undefined || value === null) return [];
    const items = unwrapPsArray(value);
    if (items) {
      const count = isJsonObject(value) ? countOf(value) : undefined;
      if (count !== undefined && count !== items.length) {
        this.fail(name, value, `the collection says Count ${count} but holds ${items.length} values`);
      }
      return items;
    }
    if (typeof value === 'string') {
      if (/^(System|Microsoft|Deserialized)\.[\w.`[\], ]+$/.test(value)) {
        this.fail(name, value, 'a type name instead of values: export again with ConvertTo-Json -Depth 5');
      }
      return value === '' ? [] : [value];
    }
    if (isJsonObject(value)) return [value];
    this.fail(name, value, 'expected a list of values');
  }
}

function countOf(value: JsonObject): number | undefined {
  const key = Object.keys(value).find((k) => k.toLowerCase() === 'count');
  const count = key === undefined ? undefined : value[key];
  return typeof count === 'number' ? count : undefined;
}
