/**
 * A small authoritative DNS responder for tests, on UDP 127.0.0.1 port 0, answering from a table.
 * Wire format through `dns-packet` (maintained, used by multicast-dns and others); `dns2` was not
 * used: its server wraps the same encoding in an API that cannot hold back an answer (the timeout
 * case) or answer NXDOMAIN per name without hand-building packets anyway.
 */
import { createSocket, type Socket } from 'node:dgram';
import * as dnsPacket from 'dns-packet';

export interface MxEntry {
  preference: number;
  exchange: string; // '.' or '' for a null MX (RFC 7505)
}

/** What the server knows about one name. A name missing from the table is NXDOMAIN. */
export interface ZoneEntry {
  MX?: MxEntry[];
  A?: string[];
  AAAA?: string[];
  TXT?: string[];
  /** Never answer queries for this name (the resolver times out). */
  silent?: boolean;
  /** Answer SERVFAIL. */
  servfail?: boolean;
  ttl?: number;
}

export class TestDnsServer {
  private socket: Socket | null = null;
  readonly queries: Array<{ name: string; type: string }> = [];
  constructor(readonly zone: Map<string, ZoneEntry> = new Map()) {}

  set(name: string, entry: ZoneEntry): this {
    this.zone.set(name.toLowerCase().replace(/\.$/, ''), entry);
    return this;
  }

  async start(): Promise<string> {
    const socket = createSocket('udp4');
    this.socket = socket;
    socket.on('message', (msg, rinfo) => {
      const reply = this.answer(msg);
      if (reply) socket.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return `127.0.0.1:${socket.address().port}`;
  }

  async stop(): Promise<void> {
    const s = this.socket;
    this.socket = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private answer(msg: Buffer): Buffer | null {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return null;
    }
    const question = query.questions?.[0];
    if (!question) return null;
    const name = question.name.toLowerCase().replace(/\.$/, '');
    this.queries.push({ name, type: question.type });
    const entry = this.zone.get(name);
    if (entry?.silent) return null;
    const base = { id: query.id, type: 'response' as const, questions: query.questions };
    if (!entry) return dnsPacket.encode({ ...base, flags: dnsPacket.AUTHORITATIVE_ANSWER | 3 }); // rcode 3 NXDOMAIN
    if (entry.servfail) return dnsPacket.encode({ ...base, flags: 2 });
    const ttl = entry.ttl ?? 300;
    const answers: dnsPacket.Answer[] = [];
    if (question.type === 'MX') {
      for (const mx of entry.MX ?? []) {
        answers.push({ type: 'MX', name, ttl, data: { preference: mx.preference, exchange: mx.exchange === '.' ? '' : mx.exchange } });
      }
    } else if (question.type === 'A') {
      for (const a of entry.A ?? []) answers.push({ type: 'A', name, ttl, data: a });
    } else if (question.type === 'AAAA') {
      for (const a of entry.AAAA ?? []) answers.push({ type: 'AAAA', name, ttl, data: a });
    } else if (question.type === 'TXT') {
      // Long TXT values are split into 255-byte strings as real zones do.
      for (const t of entry.TXT ?? []) answers.push({ type: 'TXT', name, ttl, data: splitTxt(t) });
    }
    return dnsPacket.encode({ ...base, flags: dnsPacket.AUTHORITATIVE_ANSWER, answers });
  }
}

function splitTxt(value: string): Buffer[] {
  const out: Buffer[] = [];
  const b = Buffer.from(value);
  for (let i = 0; i < b.length; i += 255) out.push(b.subarray(i, i + 255));
  return out;
}
