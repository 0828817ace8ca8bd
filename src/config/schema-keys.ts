/**
 * The keys a zod object schema allows at a path of the input (`['delivery']` → retry, expireAfter,
 * ...), looking through defaults, optionals, transforms and lists: what an "unknown key" message
 * suggests from. Empty when the path leads to no object.
 */
import type { z } from 'zod';

type AnySchema = z.core.$ZodType;

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional']);

function unwrap(schema: AnySchema): AnySchema {
  let s = schema;
  for (let i = 0; i < 20; i++) {
    const def = s._zod.def as { type: string; innerType?: AnySchema; in?: AnySchema };
    if (WRAPPERS.has(def.type) && def.innerType) s = def.innerType;
    else if (def.type === 'pipe' && def.in) s = def.in;
    else break;
  }
  return s;
}

export function knownKeysAt(schema: AnySchema, path: readonly PropertyKey[]): string[] {
  let s = unwrap(schema);
  for (const step of path) {
    const def = s._zod.def as { type: string; shape?: Record<string, AnySchema>; element?: AnySchema };
    if (def.type === 'object' && typeof step === 'string' && def.shape?.[step]) s = unwrap(def.shape[step]);
    else if (def.type === 'array' && typeof step === 'number' && def.element) s = unwrap(def.element);
    else return [];
  }
  const def = s._zod.def as { type: string; shape?: Record<string, AnySchema> };
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}
