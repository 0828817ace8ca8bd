import { canonicalCidr } from '../core/ip-prefix.js';

/** The `limits` keys the connection counter enforces. */
export interface ConnectionLimitSettings {
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** Unattributed sources per network (networkPrefixV4 / networkPrefixV6). */
  maxConnectionsPerNetwork: number;
  networkPrefixV4: number;
  networkPrefixV6: number;
  /** Share of maxConnections that unattributed sources can never take (0–1). */
  reservedShare: number;
  /** Share of maxConnections open above which the server is under pressure (0–1). */
  pressureThreshold: number;
}

/** Which limit refused a connection. */
export type ConnectionRefusal = 'total' | 'per-ip' | 'per-network' | 'unattributed';

/** One admitted connection's place in the counts. `release` undoes the acquire exactly once. */
export interface ConnectionSlot {
  readonly attributed: boolean;
  release(): void;
}

/**
 * Connections open in total, per source address, and for sources that match no enabled
 * connector's IP range ("unattributed") per network and in total, in the spirit of Postfix's anvil.
 * Attributed sources (a tenant's own servers, a trusted proxy's attributed clients) may use every
 * slot; unattributed ones never the reserved share, so a flood from strangers cannot lock the
 * tenants out. Every count is a map entry only while a connection of that key is open.
 */
export class ConnectionLimits {
  private total = 0;
  private unattributed = 0;
  private readonly perIp = new Map<string, number>();
  private readonly perNetwork = new Map<string, number>();
  private readonly maxUnattributed: number;
  private readonly pressureAbove: number;
  private readonly pressureListeners: Array<() => void> = [];

  constructor(private readonly settings: ConnectionLimitSettings) {
    const reserved = Math.ceil(settings.maxConnections * settings.reservedShare - 1e-9);
    this.maxUnattributed = Math.max(0, settings.maxConnections - reserved);
    this.pressureAbove = settings.maxConnections * settings.pressureThreshold;
  }

  /** A slot, or which limit was hit. */
  acquire(ip: string, attributed: boolean): ConnectionSlot | ConnectionRefusal {
    if (this.total >= this.settings.maxConnections) return 'total';
    const n = this.perIp.get(ip) ?? 0;
    if (n >= this.settings.maxConnectionsPerIp) return 'per-ip';
    const network = attributed ? null : this.networkOf(ip);
    if (!attributed) {
      if ((this.perNetwork.get(network!) ?? 0) >= this.settings.maxConnectionsPerNetwork) return 'per-network';
      if (this.unattributed >= this.maxUnattributed) return 'unattributed';
    }
    const wasUnderPressure = this.underPressure;
    this.total++;
    this.perIp.set(ip, n + 1);
    if (network !== null) {
      this.unattributed++;
      this.perNetwork.set(network, (this.perNetwork.get(network) ?? 0) + 1);
    }
    if (!wasUnderPressure && this.underPressure) for (const f of this.pressureListeners) f();
    let released = false;
    return {
      attributed,
      release: () => {
        if (released) return;
        released = true;
        this.total--;
        decrement(this.perIp, ip);
        if (network !== null) {
          this.unattributed--;
          decrement(this.perNetwork, network);
        }
      },
    };
  }

  /** More than pressureThreshold × maxConnections are open. */
  get underPressure(): boolean {
    return this.total > this.pressureAbove;
  }

  /** Called each time the open count rises above the pressure threshold. */
  onPressure(listener: () => void): void {
    this.pressureListeners.push(listener);
  }

  get open(): number {
    return this.total;
  }

  /** What the counter holds: open connections and the keys of its maps (all zero when idle). */
  get tracked(): { open: number; unattributed: number; addresses: number; networks: number } {
    return { open: this.total, unattributed: this.unattributed, addresses: this.perIp.size, networks: this.perNetwork.size };
  }

  private networkOf(ip: string): string {
    const bits = ip.includes(':') ? this.settings.networkPrefixV6 : this.settings.networkPrefixV4;
    return canonicalCidr(`${ip}/${bits}`) ?? ip;
  }
}

function decrement(map: Map<string, number>, key: string): void {
  const n = map.get(key) ?? 0;
  if (n <= 1) map.delete(key);
  else map.set(key, n - 1);
}
