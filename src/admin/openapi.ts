/**
 * The OpenAPI 3.1 document of the admin API, generated from the route declarations and their zod
 * schemas (z.toJSONSchema: JSON Schema 2020-12, OpenAPI 3.1's own dialect).
 */
import { z } from 'zod';
import type { ApiRoute } from './api-route.js';
import { problemSchema } from './problem.js';
import { etag } from './revision.js';

type JsonSchema = Record<string, unknown>;

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  return rest;
}

const problemRef = { $ref: '#/components/schemas/Problem' };
const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: problemRef } } });

function parameters(r: ApiRoute): JsonSchema[] {
  const out: JsonSchema[] = [];
  const add = (schema: z.ZodType | undefined, where: 'path' | 'query') => {
    if (!schema) return;
    const json = schemaOf(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, s] of Object.entries(json.properties ?? {})) {
      const { description, ...rest } = s as JsonSchema & { description?: string };
      out.push({
        name,
        in: where,
        required: where === 'path' || (json.required ?? []).includes(name),
        schema: rest,
        ...(description !== undefined ? { description } : {}),
      });
    }
  };
  add(r.params, 'path');
  add(r.query, 'query');
  if (r.revision && r.method !== 'GET') {
    out.push({
      name: 'If-Match',
      in: 'header',
      required: false,
      description: `The ETag of the ${r.revision === 'directory' ? 'directory' : 'tenant settings'} read before (${etag(r.revision, 12)}): the write applies only at that revision, else 412 stale-revision.`,
      schema: { type: 'string' },
    });
  }
  return out;
}

function operation(r: ApiRoute): JsonSchema {
  const status = String(r.status ?? 200);
  const content: Record<string, JsonSchema> = { 'application/json': { schema: schemaOf(r.response, 'output') } };
  for (const type of r.alsoAnswers ?? []) content[type] = { schema: { type: 'string' } };
  const responses: Record<string, JsonSchema> = {
    [status]: {
      description: r.summary,
      content,
      ...(r.revision ? { headers: { ETag: { description: 'The revision the answer is at', schema: { type: 'string' } } } } : {}),
    },
    '400': problemResponse('invalid: the request is malformed or breaks a rule'),
  };
  if (r.access !== 'public') {
    responses['401'] = problemResponse('unauthorized: no token, or one that is not valid, expired or revoked');
    responses['403'] = problemResponse('forbidden: the token does not allow this');
    responses['429'] = problemResponse('rate-limited: too many failed authentications from this address');
  }
  if (r.params) responses['404'] = problemResponse('not-found: the path names nothing this token sees');
  if (r.revision && r.method !== 'GET') responses['412'] = problemResponse('stale-revision: If-Match names an older revision');
  responses.default = problemResponse('Any other error, as a problem document whose type is its error code (docs/errors.md)');
  const op: JsonSchema = {
    operationId: r.id,
    summary: r.summary,
    tags: [r.tag],
    parameters: parameters(r),
    responses,
    security: r.access === 'public' ? [] : [{ bearer: [] }],
  };
  if (r.body) {
    const types = r.bodyTypes ?? ['application/json'];
    op.requestBody = {
      required: true,
      content: Object.fromEntries(types.map((t) => [t, { schema: t === 'application/json' ? schemaOf(r.body!, 'input') : { type: 'string', contentMediaType: t } }])),
    };
  }
  return op;
}

export function openApiDocument(routes: readonly ApiRoute[], version: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const r of routes) (paths[r.path] ??= {})[r.method.toLowerCase()] = operation(r);
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'relaygate admin API',
      version,
      description: 'The directory, tenant settings, policy check, queue and tokens of a relaygate installation. Errors are RFC 9457 problem documents whose type is the error code (docs/errors.md).',
    },
    paths,
    components: {
      schemas: { Problem: schemaOf(problemSchema, 'output') },
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A token from `relaygate token create` or POST /v1/tokens' } },
    },
  };
}
