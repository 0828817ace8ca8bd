import { strict as assert } from 'node:assert';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { before, describe, it } from 'node:test';
import type { Directory } from '../directory/model.js';
import { importExchangeOnline } from '../exchange/exchange-online-import.js';
import { checkMessageTrace, checkMessageTraceFile, MessageTraceError, type MessageTraceReport } from './message-trace.js';
import { messageTraceCsv, messageTraceJson } from './message-trace-output.js';

const examples = fileURLToPath(new URL('../../../examples/exchange-online/', import.meta.url));
let directory: Directory;

before(async () => {
  directory = (
    await importExchangeOnline({
      acceptedDomains: `${examples}accepted-domains.json`,
      inboundConnectors: `${examples}inbound-connectors.json`,
    })
  ).directory;
});

async function* text(s: string): AsyncGenerator<string> {
  yield s;
}

function check(csv: string, certNames?: Map<string, string>): Promise<MessageTraceReport> {
  return checkMessageTrace(text(csv), { directory, tenant: 'contoso', certNames }, 'trace.csv');
}

/** Groups as compact strings, in report order: ip|p1|connector|now|before|messages|remedy ranks. */
function summary(r: MessageTraceReport): string[] {
  return r.groups.map((g) => [g.sourceIp, g.p1Domain, g.connector ?? '-', g.verdictNow, g.verdictBefore, g.messages, g.remedies.map((x) => x.rank).join('')].join('|'));
}

describe('message trace check', () => {
  it('evaluates the sample export (Export-Csv of Get-MessageTrace) under both rule sets and groups it', async () => {
    const r = await checkMessageTraceFile(`${examples}message-trace.csv`, {
      directory,
      tenant: 'contoso',
      certNames: new Map([['198.51.100.7', 'mail.contoso.com']]),
    });
    assert.deepEqual(
      { rows: r.rows, evaluated: r.evaluated, skipped: r.skippedNoSourceIp, refusedNow: r.refusedNow, newlyRefused: r.newlyRefused },
      { rows: 8, evaluated: 7, skipped: 1, refusedNow: 4, newlyRefused: 4 },
    );
    assert.deepEqual(summary(r), [
      '203.0.113.25|monitoring-vendor.example|Apps and devices|rejected|pending|2|13',
      '198.51.100.7|<>|Inbound from 7d1e5f3a-0b2c-4d6e-8f90-a1b2c3d4e5f6|rejected|pending|1|123',
      '203.0.113.25|<>|Apps and devices|rejected|pending|1|13',
      '192.0.2.10|fabrikam.com|Fabrikam partner|inbound|inbound|1|',
      '198.51.100.40|contoso.com|Apps and devices|internal|internal|1|',
      '203.0.113.25|contoso.com|Apps and devices|relay|relay|1|',
    ]);
    const first = r.groups[0]!;
    assert.deepEqual([first.firstSeen, first.lastSeen], ['2023-10-30T23:02:13.000Z', '2023-11-14T09:20:40.000Z']);
  });

  it('without --cert-name the same server is judged by IP only', async () => {
    const csv = 'Received,SenderAddress,RecipientAddress,FromIP\r\n2023-11-14T11:45:10Z,,customer@example.com,198.51.100.7\r\n';
    assert.deepEqual(summary(await check(csv)), ['198.51.100.7|<>|Apps and devices|rejected|pending|1|13']);
    assert.deepEqual(summary(await check(csv, new Map([['198.51.100.7', 'mail.contoso.com']]))), [
      '198.51.100.7|<>|Inbound from 7d1e5f3a-0b2c-4d6e-8f90-a1b2c3d4e5f6|rejected|pending|1|123',
    ]);
  });

  it('takes columns in any order, ignores extra columns and the #TYPE line, matches header names without regard to case', async () => {
    const csv =
      '#TYPE Deserialized.Microsoft.Exchange.Management.FfoReporting.MessageTrace\r\n' +
      'fromip,Extra,recipientaddress,Status,SENDERADDRESS,Received\r\n' +
      '203.0.113.25,x,bob@example.org,Delivered,scanner@contoso.com,2023-11-14T09:15:02Z\r\n' +
      '::ffff:203.0.113.25,y,"a@example.org;b@example.org",Delivered,app@example.net,2023-11-14T09:16:00Z\r\n';
    const r = await check(csv);
    assert.deepEqual(summary(r), ['203.0.113.25|example.net|Apps and devices|rejected|pending|2|13', '203.0.113.25|contoso.com|Apps and devices|relay|relay|1|']);
    assert.deepEqual([r.rows, r.evaluated], [2, 3]);
  });

  it('rows that differ only in local part share a decision, but smuggling forms always reach the engine', async () => {
    const csv =
      'Received,SenderAddress,RecipientAddress,FromIP\r\n' +
      '2023-11-14T09:00:00Z,a@contoso.com,alice@contoso.com,203.0.113.25\r\n' +
      '2023-11-14T09:00:01Z,b@contoso.com,bob@contoso.com,203.0.113.25\r\n' +
      '2023-11-14T09:00:02Z,c@contoso.com,mallory%evil.example@contoso.com,203.0.113.25\r\n';
    assert.deepEqual(summary(await check(csv)), [
      '203.0.113.25|contoso.com|Apps and devices|rejected|rejected|1|',
      '203.0.113.25|contoso.com|Apps and devices|internal|internal|2|',
    ]);
  });

  it('missing required columns: exit 2 naming them', async () => {
    await assert.rejects(check('Received,SenderAddress,Subject\r\n'), (err: unknown) => {
      assert.ok(err instanceof MessageTraceError);
      assert.equal(err.code, 'invalid');
      assert.equal(
        err.message,
        'trace.csv: missing columns RecipientAddress, FromIP (the header has: Received, SenderAddress, Subject); export with Get-MessageTraceV2 ... | Export-Csv -NoTypeInformation',
      );
      return true;
    });
  });

  it('unreadable values stop the check with the line named', async () => {
    const head = 'Received,SenderAddress,RecipientAddress,FromIP\r\n';
    await assert.rejects(check(`${head}2023-11-14T09:00:00Z,a@contoso.com,b@example.org,203.0.113.300\r\n`), {
      message: 'trace.csv: line 2: FromIP "203.0.113.300" is not an IP address',
    });
    await assert.rejects(check(`${head}2023-11-14T09:00:00Z,a@contoso.com,b@example.org,203.0.113.25\r\nlast tuesday,a@contoso.com,b@example.org,203.0.113.25\r\n`), {
      message: 'trace.csv: line 3: Received "last tuesday" is not a date (ISO 8601, M/d/yyyy h:mm:ss AM/PM, or d.M.yyyy H:mm:ss)',
    });
    await assert.rejects(check(`${head}2023-11-14T09:00:00Z,a@contoso.com,,203.0.113.25\r\n`), { message: 'trace.csv: line 2: RecipientAddress is empty' });
    await assert.rejects(check(`${head}2023-11-14T09:00:00Z,"a@contoso.com,b@example.org,203.0.113.25\r\n`), {
      message: 'trace.csv: line 2: a quoted field is not closed before the end of the file',
    });
    await assert.rejects(check(''), { message: 'trace.csv: the file is empty (no header row)' });
  });

  it('an unknown tenant is an error listing the tenants', async () => {
    await assert.rejects(checkMessageTrace(text('x'), { directory, tenant: 'fabrikam' }), { message: 'no tenant named fabrikam in the directory (tenants: contoso)' });
  });

  it('renders JSON and CSV with one line per group', async () => {
    const r = await check('Received,SenderAddress,RecipientAddress,FromIP\r\n2023-11-14T09:00:00Z,"x@vendor.example",b@example.org,203.0.113.25\r\n');
    const json = JSON.parse(messageTraceJson(r)) as { groups: Array<Record<string, unknown>> };
    assert.deepEqual(
      { ...json.groups[0], remedies: undefined },
      {
        sourceIp: '203.0.113.25',
        p1Domain: 'vendor.example',
        tenant: 'contoso',
        connector: 'Apps and devices',
        attribution: 'ip',
        verdictNow: 'rejected',
        verdictBefore: 'if From: accepted',
        messages: 1,
        firstSeen: '2023-11-14T09:00:00.000Z',
        lastSeen: '2023-11-14T09:00:00.000Z',
        remedies: undefined,
      },
    );
    const csv = messageTraceCsv(r).split('\r\n');
    assert.equal(csv[0], 'SourceIP,P1Domain,Tenant,Connector,Attribution,VerdictNow,VerdictBefore20231101,Messages,FirstSeen,LastSeen,Remedy');
    assert.match(csv[1]!, /^203\.0\.113\.25,vendor\.example,contoso,Apps and devices,ip,rejected,if From: accepted,1,2023-11-14T09:00:00\.000Z,2023-11-14T09:00:00\.000Z,"\[1\] Use a certificate-based/);
    assert.equal(csv.length, 3);
  });

  it('streams in bounded memory: 400,000 rows, live heap stays flat (measured after forced GC)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const rows = 400_000;
    async function* generate(): AsyncGenerator<string> {
      yield 'PSComputerName,Organization,MessageId,Received,SenderAddress,RecipientAddress,Subject,Status,ToIP,FromIP,Size\r\n';
      for (let i = 0; i < rows; i += 1000) {
        let chunk = '';
        for (let j = i; j < i + 1000; j++) {
          const sender = j % 3 === 0 ? `app${j}@contoso.com` : j % 3 === 1 ? `bounce${j}@vendor${j % 5}.example` : '';
          chunk += `outlook.office365.com,contoso.onmicrosoft.com,"<m${j}@host.example>",2023-11-${String(1 + (j % 28)).padStart(2, '0')}T10:00:00Z,${sender},user${j}@example.org,"Report ${j}, ""daily""",Delivered,,203.0.113.25,${1000 + j}\r\n`;
        }
        yield chunk;
      }
    }
    gc();
    const baseline = process.memoryUsage().heapUsed;
    let peak = 0;
    const report = await checkMessageTrace(generate(), {
      directory,
      tenant: 'contoso',
      progressEvery: 50_000,
      onProgress: () => {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
      },
    });
    assert.equal(report.rows, rows);
    assert.equal(report.groups.length, 7); // contoso.com relay, 5 vendor domains, null sender
    assert.ok(peak < 8 * 1024 * 1024, `live heap grew by ${(peak / 1048576).toFixed(1)} MiB while reading ${rows} rows`);
  });
});
