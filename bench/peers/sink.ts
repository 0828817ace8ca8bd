/**
 * Postfix's smtp-sink as the next hop of every relay: accepts and discards, and counts (-c) the
 * messages it received, which is what end-to-end means.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitListening } from './targets.js';

export class Sink {
  private child: ChildProcess | null = null;
  /** Messages (transactions) received so far. */
  received = 0;

  constructor(readonly port: number) {}

  async start(): Promise<void> {
    if (!(await waitListening(this.port, false, 10_000))) throw new Error(`port ${this.port} is busy`);
    this.received = 0;
    const child = spawn('smtp-sink', ['-c', '-u', 'nobody', `127.0.0.1:${this.port}`, '1024'], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.child = child;
    let tail = '';
    child.stdout!.setEncoding('latin1');
    child.stdout!.on('data', (chunk: string) => {
      tail = (tail + chunk).slice(-200);
      const all = [...tail.matchAll(/mesg=(\d+)/g)];
      const last = all[all.length - 1];
      if (last) this.received = Number(last[1]);
    });
    if (!(await waitListening(this.port, true, 10_000))) throw new Error('smtp-sink did not start');
  }

  /** Resolves true once `count` messages arrived, false at the deadline. */
  async waitFor(count: number, deadline: number): Promise<boolean> {
    while (this.received < count) {
      if (Date.now() > deadline) return false;
      await sleep(20);
    }
    return true;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await gone;
    await waitListening(this.port, false, 10_000);
  }
}
