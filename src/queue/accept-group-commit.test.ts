import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite } from '../store/sqlite/database.js';
import { SqliteDecisionStore } from '../store/sqlite/decision-store.js';
import { SqliteQueueStore } from '../store/sqlite/queue-store.js';
import { waitFor } from '../../test/support/wait-for.js';
import { GroupCommitter } from './accept-group-commit.js';
import type { AcceptBatch, AcceptStore, DecisionRecord } from '../store/ports.js';

/** The SQLite store, with each commit held until the test opens the gate. */
class GatedStore implements AcceptStore {
  waiting = 0;
  private open: () => void = () => undefined;
  private readonly gate = new Promise<void>((resolve) => (this.open = resolve));
  constructor(private readonly inner: AcceptStore) {}
  release(): void {
    this.open();
  }
  async commit(batch: AcceptBatch): Promise<void> {
    this.waiting++;
    await this.gate;
    await this.inner.commit(batch);
  }
  existingMessages(ids: readonly string[]): Promise<Set<string>> {
    return this.inner.existingMessages(ids);
  }
}

const decision: DecisionRecord = {
  at: Date.now(),
  sessionId: 's1',
  messageId: null,
  clientIp: '192.0.2.1',
  tenantId: null,
  tenant: null,
  connector: null,
  attribution: 'none',
  mailFrom: 'x@evil.example',
  recipient: 'y@elsewhere.example',
  verdict: 'rejected',
  reply: '550 5.7.64 TenantAttribution; Relay Access Denied',
  ruleSet: '2023-11',
  currentVerdict: 'rejected',
  legacyVerdict: 'rejected',
  certificateName: null,
  headerFromDomain: null,
  remedies: [],
  steps: '[]',
};

test('drain runs waiting decisions at once and resolves only when their round is committed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'relaygate-group-'));
  const db = openSqlite(join(dir, 'relaygate.db'));
  try {
    const store = new GatedStore(new SqliteQueueStore(db));
    // Decisions alone would wait ten minutes for company: drain must not.
    const committer = new GroupCommitter(store, undefined, undefined, 600_000);
    committer.recordDecisions([decision]);
    let drained = false;
    const draining = committer.drain().then(() => (drained = true));
    await waitFor(() => store.waiting === 1, { message: 'the round started by drain is committing' });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(drained, false, 'drain waits for the commit in flight');
    store.release();
    await draining;
    assert.deepEqual((await new SqliteDecisionStore(db).list()).map((d) => d.recipient), ['y@elsewhere.example']);
    assert.equal(committer.stats.rounds, 1, 'no empty round after the one drain ran');
    await committer.drain();
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
