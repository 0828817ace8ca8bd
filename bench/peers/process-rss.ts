/**
 * Peak resident memory of a relay over its root processes and all their descendants, sampled from
 * /proc until stopped: the sum of RSS (a page shared by several processes, as Postfix's many are,
 * counts once per process: an upper bound) and the sum of PSS (a shared page split among its
 * sharers: what the relay as a whole holds).
 */
import { readdirSync, readFileSync } from 'node:fs';

const PAGE = 4096;

interface Proc {
  ppid: number;
  rssBytes: number;
}

function readProcs(): Map<number, Proc> {
  const procs = new Map<number, Proc>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      // Fields after the command (which may hold spaces and parentheses): state ppid ... rss is the 24th field.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(name), { ppid: Number(rest[1]), rssBytes: Number(rest[21]) * PAGE });
    } catch {
      // gone between readdir and read
    }
  }
  return procs;
}

function pssOf(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** RSS and PSS in bytes of the roots and their descendants right now. */
export function treeMemory(roots: readonly number[]): { rss: number; pss: number } {
  const procs = readProcs();
  const children = new Map<number, number[]>();
  for (const [pid, p] of procs) {
    const list = children.get(p.ppid);
    if (list) list.push(pid);
    else children.set(p.ppid, [pid]);
  }
  let total = 0;
  let pss = 0;
  const seen = new Set<number>();
  const stack = [...roots];
  while (stack.length) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const p = procs.get(pid);
    if (p) {
      total += p.rssBytes;
      pss += pssOf(pid);
    }
    stack.push(...(children.get(pid) ?? []));
  }
  return { rss: total, pss };
}

export class RssSampler {
  peakBytes = 0;
  peakPssBytes = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly roots: () => readonly number[], private readonly everyMs = 250) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
    return this;
  }

  sample(): void {
    const { rss, pss } = treeMemory(this.roots());
    if (rss > this.peakBytes) this.peakBytes = rss;
    if (pss > this.peakPssBytes) this.peakPssBytes = pss;
  }

  stop(): number {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    return this.peakBytes;
  }
}
