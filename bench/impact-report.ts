/**
 * `relaygate report impact` over 1,000,000 recorded decisions: a SQLite decision log generated in
 * one transaction (41 sources, 5 P1 domains, three tenants, a certificate on every seventh, half of
 * the decisions touched by the rule change, steps of about 1.5 KB as the relay writes them), then the
 * built CLI run as its own process under /usr/bin/time: wall time and peak RSS of the command.
 * Run alone with `node dist/bench/impact-report.js [decisions]`, or from bench/run.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSqliteStores } from '../src/app/stores.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const DAY = 86_400_000;

async function fill(dataDir: string, n: number): Promise<void> {
  const stores = openSqliteStores({ dataDir });
  try {
    const now = Date.now();
    const steps = JSON.stringify({
      explanation: 'Relay refused under the 2023-11 rule: the envelope sender domain is not accepted. '.repeat(3),
      steps: Array.from({ length: 9 }, (_, i) => ({ id: `S${i}`, question: 'Is the P1 domain an accepted domain of the tenant?', answer: 'no', detail: 'P1 domain vendor.example' })),
    }).replace(/'/g, "''");
    const remedies = JSON.stringify([
      { rank: 1, text: 'Use a certificate-based OnPremises connector of tenant0 whose TlsSenderCertificateName is an accepted domain and send with that client certificate over TLS.' },
      { rank: 3, text: 'Make the application send with an envelope sender (MAIL FROM) in an accepted domain of tenant0.' },
    ]);
    stores.db.exec(`
      WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${n - 1})
      INSERT INTO decisions (at, session_id, message_id, client_ip, tenant_id, tenant, connector, attribution, mail_from, recipient,
        verdict, reply, rule_set, current_verdict, legacy_verdict, certificate_name, header_from_domain, remedies, steps)
      SELECT ${now - 20 * DAY} + i * ${Math.floor((20 * DAY) / n)}, 's' || i, NULL, '192.0.2.' || (i % 41), '01JH000000000000000000000' || (i % 3),
        'tenant' || (i % 3), 'apps', 'ip', 'app@p1-' || (i % 5) || '.example', 'x@elsewhere.example',
        CASE i % 4 WHEN 0 THEN 'relay' WHEN 1 THEN 'rejected' WHEN 2 THEN 'relay' ELSE 'rejected' END, '250 2.1.5 Recipient OK', 'legacy',
        CASE i % 4 WHEN 2 THEN 'relay' ELSE 'rejected' END,
        CASE i % 4 WHEN 0 THEN 'relay' WHEN 1 THEN 'pending' WHEN 2 THEN 'relay' ELSE 'rejected' END,
        CASE WHEN i % 7 = 0 THEN 'mail.contoso.example' ELSE NULL END, CASE i % 4 WHEN 0 THEN 'contoso.com' ELSE NULL END,
        CASE WHEN i % 4 < 2 THEN '${remedies}' ELSE '[]' END, '${steps}'
      FROM n`);
  } finally {
    await stores.close();
  }
}

export async function runImpactReportBench(decisions: number): Promise<Record<string, number | string>> {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-impact-bench-'));
  try {
    await fill(join(dir, 'data'), decisions);
    const config = join(dir, 'relaygate.yaml');
    writeFileSync(config, `hostname: bench.example\ndataDir: ${JSON.stringify(join(dir, 'data'))}\nstore: sqlite\nlisteners:\n  - { name: smtp, address: "127.0.0.1:0", tls: none }\n`);
    const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, MAIN, 'report', 'impact', '--json', '--config', config], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      timeout: 600_000,
    });
    if (r.status !== 1) throw new Error(`report impact exited ${r.status}: ${r.stderr}`);
    const [seconds, peakKb] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
    const totals = (JSON.parse(r.stdout) as { totals: Record<string, number> }).totals;
    return {
      decisions: totals['decisions']!,
      touched: totals['legacyOnly']! + totals['newlyRefused']!,
      groups: totals['groups']!,
      dbMiB: Math.round(Number(execFileSync('du', ['-sk', join(dir, 'data')], { encoding: 'utf8' }).split('\t')[0]) / 1024),
      seconds: seconds!,
      peakRssMiB: Math.round(peakKb! / 1024),
      command: 'relaygate report impact --json',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify({ bench: 'impact-report', ...(await runImpactReportBench(Number(process.argv[2] ?? 1_000_000))) }));
}
