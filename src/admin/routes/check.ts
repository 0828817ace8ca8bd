/**
 * POST /v1/check: the policy engine's answer for a transaction that never happened: a scenario
 * (the `relaygate check` file format as JSON, stating certificate facts instead of naming files),
 * or a message (JSON with its text, or the raw message/rfc822 body with the connection facts in the
 * query) with the facts of its connection. The same services `relaygate check` calls. A tenant
 * token checks against its own tenant only: the answer never names another tenant.
 */
import { z } from 'zod';
import { isAdmin, type Principal } from '../../access/principal.js';
import { messageCheckInput, runCheck, type CheckInput } from '../../compliance/check-service.js';
import { parseInstant, scenarioFromObject } from '../../compliance/scenario.js';
import type { Clock } from '../../core/clock.js';
import { RelaygateError } from '../../core/errors.js';
import { invalidField } from '../../core/field-error.js';
import type { StoredDirectory } from '../../directory/index.js';
import type { PolicySettings } from '../../policy/types.js';
import type { DirectoryStore } from '../../store/ports.js';
import { parsePemBundle, type TrustStore } from '../../tls/pem-chain.js';
import { route, type ApiRoute } from '../api-route.js';

export interface CheckDeps {
  directory: Pick<DirectoryStore, 'load'>;
  /** The CAs client certificates are judged against, as the relay judges them. */
  trust: () => TrustStore;
  policy: PolicySettings;
  clock: Clock;
  maxBodySize: number;
}

const checkAnswer = z.object({
  accepted: z.boolean().describe('Every recipient accepted'),
  tenant: z.string().nullable(),
  connector: z.string().nullable(),
  attribution: z.string(),
  ruleSet: z.string(),
  recipients: z.array(z.object({ address: z.string(), verdict: z.string(), tenant: z.string().nullable(), reply: z.string(), currentVerdict: z.string(), legacyVerdict: z.string() })),
  steps: z.array(z.object({ id: z.string(), question: z.string(), answer: z.string(), detail: z.string() })).describe("The walk through the workflow chart"),
  warnings: z.array(z.object({ code: z.string(), message: z.string() })),
  remedies: z.array(z.object({ rank: z.number().int(), text: z.string() })),
  trustStore: z.string().nullable(),
  notes: z.array(z.string()),
});

const checkBody = z.strictObject({
  scenario: z.record(z.string(), z.unknown()).optional().describe('A check scenario (the relaygate check file format), without file names'),
  message: z.string().optional().describe('The message (RFC 5322), its header From and recipients read from it'),
  connection: z.strictObject({ ip: z.string(), tls: z.boolean().optional(), certificate: z.string().optional().describe('The client certificate chain, PEM') }).optional(),
  mailFrom: z.string().optional(),
  recipients: z.array(z.string()).optional(),
  at: z.string().optional().describe('ISO 8601 instant of arrival; default: now'),
});

const rawQuery = z.strictObject({
  ip: z.string().optional().describe('With a message/rfc822 body: the source address'),
  tls: z.enum(['true', 'false']).optional(),
  mailFrom: z.string().optional(),
  rcpt: z.union([z.string(), z.array(z.string())]).optional().describe('Envelope recipients (repeat, or comma-separated)'),
  at: z.string().optional(),
});

/** The directory a principal checks against: a tenant token sees only its own tenant. */
function visibleDirectory(p: Principal, d: StoredDirectory): StoredDirectory {
  return isAdmin(p) ? d : { tenants: d.tenants.filter((t) => t.id === p.tenantId) };
}

function certificateChain(pem: string | undefined) {
  if (pem === undefined) return null;
  let chain;
  try {
    chain = parsePemBundle(pem);
  } catch (err) {
    throw invalidField('connection.certificate', `not a PEM certificate: ${(err as Error).message}`);
  }
  if (chain.length === 0) throw invalidField('connection.certificate', 'no PEM certificate found');
  return chain;
}

export function checkRoutes(deps: CheckDeps): ApiRoute[] {
  const messageCheck = async (text: Buffer, facts: { ip: string | undefined; tls?: boolean; certificate?: string; mailFrom?: string; recipients?: string[]; at?: string }): Promise<CheckInput> => {
    if (facts.ip === undefined) throw invalidField('ip', 'a message check needs the source address of its connection');
    const { emlFacts } = await import('../../compliance/eml.js');
    return messageCheckInput(
      await emlFacts(text),
      {
        ip: facts.ip,
        at: parseInstant(facts.at, deps.clock.now(), 'at'),
        ...(facts.tls !== undefined ? { tls: facts.tls } : {}),
        certificate: certificateChain(facts.certificate),
        ...(facts.mailFrom !== undefined ? { mailFrom: facts.mailFrom } : {}),
        ...(facts.recipients !== undefined ? { recipients: facts.recipients } : {}),
      },
      deps.trust,
    );
  };

  return [
    route({
      method: 'POST', path: '/v1/check', id: 'check', tag: 'check', access: 'read',
      summary: 'Evaluate a scenario or a message with its connection facts: the decision with the chart walk, changing nothing',
      body: checkBody, bodyTypes: ['application/json', 'message/rfc822'], bodyLimit: deps.maxBodySize, query: rawQuery,
      response: checkAnswer,
      handler: async (ctx) => {
        let check: CheckInput;
        const directory = visibleDirectory(ctx.principal, await deps.directory.load());
        const raw = ctx.reply.request.body;
        if (Buffer.isBuffer(raw)) {
          const q = ctx.query;
          const rcpt = q.rcpt === undefined ? undefined : (Array.isArray(q.rcpt) ? q.rcpt : [q.rcpt]).flatMap((r) => r.split(',')).map((r) => r.trim()).filter(Boolean);
          check = await messageCheck(raw, {
            ip: q.ip,
            ...(q.tls !== undefined ? { tls: q.tls === 'true' } : {}),
            ...(q.mailFrom !== undefined ? { mailFrom: q.mailFrom } : {}),
            ...(rcpt !== undefined ? { recipients: rcpt } : {}),
            ...(q.at !== undefined ? { at: q.at } : {}),
          });
        } else {
          const b = ctx.body;
          if ((b.scenario === undefined) === (b.message === undefined)) throw new RelaygateError('invalid', 'give either "scenario" or "message" (with "connection")', { details: { field: 'body' } });
          if (b.scenario !== undefined) {
            const loaded = scenarioFromObject(b.scenario, { where: 'scenario', base: null, now: deps.clock.now(), trust: deps.trust });
            check = { input: loaded.input, trustStore: loaded.trustStore, notes: [] };
          } else {
            if (b.connection === undefined) throw invalidField('connection', 'a message check needs "connection" with at least "ip"');
            check = await messageCheck(Buffer.from(b.message!, 'utf8'), {
              ip: b.connection.ip,
              ...(b.connection.tls !== undefined ? { tls: b.connection.tls } : {}),
              ...(b.connection.certificate !== undefined ? { certificate: b.connection.certificate } : {}),
              ...(b.mailFrom !== undefined ? { mailFrom: b.mailFrom } : {}),
              ...(b.recipients !== undefined ? { recipients: b.recipients } : {}),
              ...(b.at !== undefined ? { at: b.at } : {}),
            });
          }
        }
        return runCheck(directory, check, deps.policy).json;
      },
    }),
  ];
}
