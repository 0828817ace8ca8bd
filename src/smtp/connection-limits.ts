/**
 * Connections open in total and per source IP (limits.maxConnections / maxConnectionsPerIp).
 * `acquire` refuses over either limit; `release` undoes an acquire exactly once.
 */
export class ConnectionLimits {
  private total = 0;
  private readonly perIp = new Map<string, number>();

  constructor(
    private readonly maxTotal: number,
    private readonly maxPerIp: number,
  ) {}

  /** `null` when admitted, else which limit was hit. */
  acquire(ip: string): 'total' | 'per-ip' | null {
    if (this.total >= this.maxTotal) return 'total';
    const n = this.perIp.get(ip) ?? 0;
    if (n >= this.maxPerIp) return 'per-ip';
    this.total++;
    this.perIp.set(ip, n + 1);
    return null;
  }

  release(ip: string): void {
    const n = this.perIp.get(ip) ?? 0;
    if (n <= 0) return;
    this.total--;
    if (n === 1) this.perIp.delete(ip);
    else this.perIp.set(ip, n - 1);
  }

  get open(): number {
    return this.total;
  }
}
