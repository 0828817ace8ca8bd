/**
 * The message trace: a search (the fields `relaygate trace` takes) and one message's or one
 * connection's whole story, through TraceSearchService. A tenant token searches its own tenant's
 * events only, and a story shows only its tenant's events: a story with none of them is not found,
 * worded as one with nothing recorded.
 */
import { z } from 'zod';
import { isAdmin, visibleTenant } from '../../access/principal.js';
import { RelaygateError } from '../../core/errors.js';
import type { TraceSearchInput, TraceSearchService } from '../../compliance/trace-search.js';
import type { DirectoryStore, StoredTraceEvent } from '../../store/ports.js';
import { route, type ApiRoute } from '../api-route.js';

export interface TraceDeps {
  directory: Pick<DirectoryStore, 'load'>;
  trace: TraceSearchService;
}

const listOf = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean));
const event = z.looseObject({ kind: z.string(), at: z.number(), id: z.number() }).describe('A trace event as recorded (kind, at, tenant, session, queue id, client, sender, recipient, status, and the fields of its kind)');

/** The typed events as the answer's JSON objects (each event kind has its own fields). */
function records(events: readonly StoredTraceEvent[]): Array<z.input<typeof event>> {
  return events as unknown as Array<z.input<typeof event>>;
}

export function traceRoutes(deps: TraceDeps): ApiRoute[] {
  return [
    route({
      method: 'GET', path: '/v1/trace', id: 'searchTrace', tag: 'trace', access: 'read',
      summary: 'Search the message trace, newest first, one page at a time (a tenant token: its own tenant)',
      query: z.strictObject({
        tenant: z.string().optional(), sender: z.string().optional(), recipient: z.string().optional(), messageId: z.string().optional(),
        queueId: z.string().optional(), sessionId: z.string().optional(), clientIp: z.string().optional(), connector: z.string().optional(),
        certificateName: z.string().optional(),
        status: listOf.optional().describe('Delivered, Failed, Pending, Expanded, Refused, Deferred (repeat or comma-separated)'),
        event: listOf.optional().describe('Event kinds (repeat or comma-separated)'),
        reason: z.string().optional(), ruleSet: z.string().optional(),
        since: z.string().optional().describe('A duration back (2h, 30d) or an ISO 8601 instant'),
        start: z.string().optional(), end: z.string().optional(),
        cursor: z.string().optional().describe('The next of the previous page'),
        limit: z.string().regex(/^\d{1,6}$/, { error: 'expected a whole number' }).transform(Number).optional(),
      }),
      response: z.object({
        query: z.object({ tenant: z.object({ id: z.string(), name: z.string().nullable() }).nullable(), start: z.string().nullable(), end: z.string().nullable() }),
        events: z.array(event),
        next: z.string().nullable(),
      }),
      handler: async (ctx) => {
        const { tenant, ...rest } = ctx.query;
        const input: TraceSearchInput = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
        if (!isAdmin(ctx.principal)) {
          const directory = await deps.directory.load();
          input.tenant = (tenant === undefined ? directory.tenants.find((t) => t.id === ctx.principal.tenantId)! : visibleTenant(ctx.principal, directory, tenant)).name;
        } else if (tenant !== undefined) {
          input.tenant = tenant;
        }
        const result = await deps.trace.search(input);
        return { query: { tenant: result.query.tenant, start: result.query.start, end: result.query.end }, events: records(result.events), next: result.next };
      },
    }),
    route({
      method: 'GET', path: '/v1/trace/{id}', id: 'traceStory', tag: 'trace', access: 'read',
      summary: "One message's (queue id) or one connection's (session id) whole story, oldest first",
      params: z.strictObject({ id: z.string().min(1) }),
      response: z.object({ id: z.string(), kind: z.enum(['message', 'session']), events: z.array(event) }),
      handler: async (ctx) => {
        const story = await deps.trace.story(ctx.params.id);
        if (isAdmin(ctx.principal)) return { ...story, events: records(story.events) };
        const own = story.events.filter((e) => e.tenantId !== null && e.tenantId === ctx.principal.tenantId);
        if (own.length === 0) {
          throw new RelaygateError('not-found', `nothing is recorded in the trace for ${story.id} (a queue id or a session id, as the search prints them)`, {
            details: { field: 'id', id: story.id },
          });
        }
        return { ...story, events: records(own) };
      },
    }),
  ];
}
