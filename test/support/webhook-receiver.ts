/**
 * A webhook receiver on 127.0.0.1 (node:http) that does what a tenant's endpoint must: it checks
 * the Standard Webhooks signature against the secrets it knows, and answers each request with the
 * next status of its script (then 204). It records every request, and the events it accepted
 * (a 2xx with a valid signature), once per webhook-id as a receiver that deduplicates would.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../src/webhooks/signature.js';

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** The secrets (of those the receiver knows) that one of the signatures verifies under. */
  verifiedBy: string[];
  status: number;
}

export class WebhookReceiver {
  readonly requests: ReceivedWebhook[] = [];
  /** Accepted events by webhook-id: what the tenant's application saw. */
  readonly accepted = new Map<string, unknown>();
  secrets: string[] = [];
  private script: number[] = [];
  private server: Server | null = null;

  /** The statuses to answer with, in order; 204 after them. */
  answer(...statuses: number[]): void {
    this.script = statuses;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const h = (name: string, headers: IncomingHttpHeaders): string => String(headers[name] ?? '');
        const signed = { id: h('webhook-id', req.headers), timestamp: h('webhook-timestamp', req.headers), signature: h('webhook-signature', req.headers) };
        const verifiedBy = this.secrets.filter((s) => verifySignature(s, signed, body));
        const status = verifiedBy.length === 0 ? 401 : (this.script.shift() ?? 204);
        this.requests.push({ ...signed, body, verifiedBy, status });
        if (status >= 200 && status < 300 && !this.accepted.has(signed.id)) this.accepted.set(signed.id, JSON.parse(body));
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/relaygate`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
