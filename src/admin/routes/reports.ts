/**
 * The live impact report (streamed as JSON or CSV, as `relaygate report impact` writes it) and
 * connector health (as `relaygate connector health --json`): the same services, scoped to the
 * token's tenant. Reading them changes nothing.
 */
import { PassThrough } from 'node:stream';
import { z } from 'zod';
import { isAdmin, visibleTenant, type Principal } from '../../access/principal.js';
import type { ImpactReportService } from '../../compliance/impact-report.js';
import { writeImpactCsv, writeImpactJson } from '../../compliance/impact-report-output.js';
import type { ConnectorHealthService } from '../../health/health-service.js';
import type { LogFn } from '../../observability/logger.js';
import type { DirectoryStore } from '../../store/ports.js';
import { RawAnswer, route, type ApiRoute } from '../api-route.js';

export interface ReportDeps {
  directory: Pick<DirectoryStore, 'load'>;
  impact: ImpactReportService;
  health: ConnectorHealthService;
  log?: LogFn;
}

/** The tenant a report is for: a tenant token's own, or the one an admin names (by id or name); null: all. */
async function reportTenant(deps: ReportDeps, p: Principal, ref: string | undefined): Promise<string | undefined> {
  if (ref === undefined && isAdmin(p)) return undefined;
  const directory = await deps.directory.load();
  if (ref === undefined) return directory.tenants.find((t) => t.id === p.tenantId)!.name;
  // A removed tenant's decisions keep its id: an admin may still ask for them by it.
  if (isAdmin(p) && /^[0-9A-HJKMNP-TV-Z]{26}$/i.test(ref) && !directory.tenants.some((t) => t.id === ref.toUpperCase())) return ref;
  return visibleTenant(p, directory, ref).name;
}

const impactGroupView = z.object({
  impact: z.enum(['legacy-only', 'newly-refused']).nullable(),
  source: z.string(),
  sourceKind: z.enum(['certificate', 'ip']),
  sourceIps: z.array(z.string()),
  moreSourceIps: z.boolean(),
  certificateName: z.string().nullable(),
  tenant: z.string().nullable(),
  connector: z.string().nullable(),
  attribution: z.string(),
  p1Domain: z.string(),
  p2Domain: z.string().nullable(),
  verdictApplied: z.string().nullable(),
  verdictNow: z.string().nullable(),
  verdictBefore: z.string().nullable(),
  decisions: z.number().int(),
  firstSeen: z.string(),
  lastSeen: z.string(),
  remedies: z.array(z.object({ rank: z.number().int(), text: z.string() }).loose()),
});

const impactAnswer = z.object({
  query: z.object({ tenant: z.object({ id: z.string(), name: z.string().nullable() }).nullable(), since: z.string(), until: z.string() }),
  groups: z.array(impactGroupView),
  totals: z.object({ decisions: z.number().int(), legacyOnly: z.number().int(), newlyRefused: z.number().int(), groups: z.number().int(), ungrouped: z.number().int() }),
});

const warningView = z.object({ code: z.string(), tenant: z.string(), connector: z.string(), message: z.string(), fingerprint: z.string().optional() });

const healthAnswer = z.object({
  at: z.string(),
  days: z.number().int(),
  connectors: z.array(
    z.object({
      tenant: z.string(),
      tenantId: z.string(),
      connector: z.string(),
      type: z.enum(['OnPremises', 'Partner']),
      enabled: z.boolean(),
      lastSeen: z.string().nullable(),
      days: z.array(z.object({ day: z.string(), accepted: z.number().int(), refused: z.number().int() })),
      certificates: z.array(z.record(z.string(), z.unknown())),
      sources: z.array(z.object({ ip: z.string(), firstSeen: z.string(), lastSeen: z.string(), seen: z.number().int() })),
      warnings: z.array(warningView),
    }),
  ),
  warnings: z.array(warningView),
});

export function reportRoutes(deps: ReportDeps): ApiRoute[] {
  return [
    route({
      method: 'GET', path: '/v1/reports/impact', id: 'impactReport', tag: 'reports', access: 'read',
      summary: 'The live impact report of the 2023-11 rule over the recorded decisions, streamed (JSON, or CSV with format=csv or Accept: text/csv)',
      query: z.strictObject({
        tenant: z.string().min(1).optional().describe('Tenant id or name; a tenant token: its own'),
        since: z.string().optional().describe('A duration back (30d, 12h, 90m, 2w) or an ISO 8601 date or instant; default 30d'),
        until: z.string().optional().describe('ISO 8601; default now'),
        format: z.enum(['json', 'csv']).optional(),
      }),
      response: impactAnswer, alsoAnswers: ['text/csv'],
      handler: async (ctx) => {
        const tenant = await reportTenant(deps, ctx.principal, ctx.query.tenant);
        // Input errors come from here, before the answer starts.
        const report = await deps.impact.report({
          ...(tenant !== undefined ? { tenant } : {}),
          ...(ctx.query.since !== undefined ? { since: ctx.query.since } : {}),
          ...(ctx.query.until !== undefined ? { until: ctx.query.until } : {}),
        });
        const csv = ctx.query.format === 'csv' || (ctx.query.format === undefined && /\btext\/csv\b/.test(String(ctx.reply.request.headers.accept ?? '')));
        const out = new PassThrough();
        const written = csv ? writeImpactCsv(report.items, out) : writeImpactJson(report.query, report.items, out);
        written.then(
          () => out.end(),
          (err: unknown) => {
            // The status is sent: a failure halfway ends the stream short, so no client takes it as whole.
            deps.log?.('error', `admin API: the impact report failed while streaming: ${err instanceof Error ? err.message : String(err)}`);
            out.destroy(err instanceof Error ? err : new Error(String(err)));
          },
        );
        return new RawAnswer(csv ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8', out);
      },
    }),
    route({
      method: 'GET', path: '/v1/connectors/health', id: 'connectorHealth', tag: 'reports', access: 'read',
      summary: "Each connector's traffic per day, client certificates and source addresses, and the warnings (a tenant token: its own)",
      query: z.strictObject({
        tenant: z.string().min(1).optional().describe('Tenant id or name'),
        days: z.string().regex(/^([1-9]\d?|[12]\d\d|3[0-5]\d|36[0-6])$/, { error: 'expected a number of days from 1 to 366' }).transform(Number).optional(),
      }),
      response: healthAnswer,
      handler: async (ctx) => {
        const tenant = await reportTenant(deps, ctx.principal, ctx.query.tenant);
        return deps.health.report({ ...(tenant !== undefined ? { tenant } : {}), ...(ctx.query.days !== undefined ? { days: ctx.query.days } : {}) });
      },
    }),
  ];
}
