/**
 * The message trace check on a generated 1,000,000-row Get-MessageTrace export: rows per second and
 * peak memory. Run alone with `node dist/bench/message-trace.js [rows]`, or from bench/run.ts.
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { checkMessageTraceFile } from '../src/compliance/message-trace.js';
import { importExchangeOnline } from '../src/exchange/exchange-online-import.js';

const examples = fileURLToPath(new URL('../../examples/exchange-online/', import.meta.url));

async function writeTrace(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file);
  out.write('"PSComputerName","RunspaceId","PSShowComputerName","Organization","MessageId","Received","SenderAddress","RecipientAddress","Subject","Status","ToIP","FromIP","Size","MessageTraceId","StartDate","EndDate","Index"\r\n');
  const sources = ['203.0.113.25', '198.51.100.7', '198.51.100.40', '192.0.2.10', '203.0.113.77'];
  for (let i = 0; i < rows; i += 1000) {
    let chunk = '';
    for (let j = i; j < Math.min(rows, i + 1000); j++) {
      const kind = j % 4;
      const sender = kind === 0 ? `app${j % 50}@contoso.com` : kind === 1 ? `alerts@vendor${j % 20}.example` : kind === 2 ? '' : `user${j % 100}@fabrikam.com`;
      const day = String(1 + (j % 28)).padStart(2, '0');
      chunk += `"outlook.office365.com","00000000-0000-0000-0000-000000000000","False","contoso.onmicrosoft.com","<m${j}@host.example>","11/${day}/2023 9:15:02 AM","${sender}","user${j % 1000}@example.org","Report ${j}, ""daily""","Delivered","","${sources[j % sources.length]}","${1000 + (j % 5000)}","${j}","11/01/2023 12:00:00 AM","11/30/2023 12:00:00 AM","${j}"\r\n`;
    }
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
}

export async function runMessageTraceBench(rows: number): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-trace-bench-'));
  try {
    const file = join(dir, 'trace.csv');
    await writeTrace(file, rows);
    const { directory } = await importExchangeOnline({
      acceptedDomains: join(examples, 'accepted-domains.json'),
      inboundConnectors: join(examples, 'inbound-connectors.json'),
    });
    let peakHeap = 0;
    const start = process.hrtime.bigint();
    const report = await checkMessageTraceFile(file, {
      directory,
      tenant: 'contoso',
      progressEvery: 10_000,
      onProgress: () => {
        peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
      },
    });
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return {
      rows: report.rows,
      groups: report.groups.length,
      seconds: Math.round(seconds * 100) / 100,
      rowsPerSecond: Math.round(report.rows / seconds),
      peakHeapMiB: Math.round(peakHeap / 1048576),
      rssMiB: Math.round(process.memoryUsage().rss / 1048576),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rows = Number(process.argv[2] ?? 1_000_000);
  console.log(JSON.stringify({ bench: 'message-trace', ...(await runMessageTraceBench(rows)) }));
}
