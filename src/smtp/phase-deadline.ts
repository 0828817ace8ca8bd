/**
 * Wall-clock deadlines per SMTP phase: the client has so long to complete a command (from the
 * moment the server is ready for it) and so long for a message's data (from the 354), however
 * the bytes trickle in. An idle timer would restart on every byte, so a client sending one byte
 * every few seconds could hold its connection slot for ever; a deadline cannot be extended.
 *
 * Under pressure (the connection counter says so) sessions from unattributed sources get the
 * short deadlines, as Postfix shortens its timeouts under stress; sessions that were already
 * running on the normal ones are shortened when the pressure begins.
 */
import { performance } from 'node:perf_hooks';

export type Phase = 'command' | 'data';

export interface DeadlineSettings {
  /** Any session: time to complete one command. */
  commandDeadline: number;
  /** Any session: time from the 354 to the end of the message data. */
  dataDeadline: number;
  /** Unattributed sessions under pressure: time to complete one command. */
  pressureCommandTimeout: number;
  /** Unattributed sessions under pressure: time from the 354 to the end of the data. */
  pressureDataTimeout: number;
}

/** The deadlines of all sessions of a server, and the ones that pressure would shorten. */
export class PhaseDeadlines {
  /** Unattributed sessions currently running on a normal deadline. */
  private readonly relaxed = new Set<PhaseDeadline>();

  constructor(
    private readonly settings: DeadlineSettings,
    private readonly underPressure: () => boolean,
  ) {}

  /** A session's deadline; `expired` is called when the phase it was armed for runs out. */
  create(attributed: boolean, expired: (phase: Phase) => void): PhaseDeadline {
    return new PhaseDeadline(this, attributed, expired);
  }

  /** Pressure began: every unattributed session still on a normal deadline gets the short one. */
  tighten(): void {
    const list = [...this.relaxed];
    this.relaxed.clear();
    for (const d of list) d.tighten();
  }

  /** Sessions a pressure would shorten (zero when no unattributed session is open). */
  get relaxedCount(): number {
    return this.relaxed.size;
  }

  /** @internal */
  durationFor(phase: Phase, short: boolean): number {
    const s = this.settings;
    if (short) return phase === 'data' ? s.pressureDataTimeout : s.pressureCommandTimeout;
    return phase === 'data' ? s.dataDeadline : s.commandDeadline;
  }

  /** @internal */
  shortFor(attributed: boolean): boolean {
    return !attributed && this.underPressure();
  }

  /** @internal */
  track(d: PhaseDeadline, relaxed: boolean): void {
    if (relaxed) this.relaxed.add(d);
    else this.relaxed.delete(d);
  }
}

export class PhaseDeadline {
  private timer: NodeJS.Timeout | null = null;
  private phase: Phase | null = null;
  private startedAt = 0;
  private expiresAt = 0;
  private stopped = false;

  constructor(
    private readonly owner: PhaseDeadlines,
    private readonly attributed: boolean,
    private readonly expired: (phase: Phase) => void,
  ) {}

  /** A phase starts now: the server has replied and waits for a command, or for the data. */
  arm(phase: Phase): void {
    if (this.stopped) return;
    const short = this.owner.shortFor(this.attributed);
    this.phase = phase;
    this.startedAt = performance.now();
    this.schedule(this.startedAt + this.owner.durationFor(phase, short));
    this.owner.track(this, !this.attributed && !short);
  }

  /** The session is over: no timer, no reference left in the owner. */
  stop(): void {
    this.stopped = true;
    this.clearTimer();
    this.owner.track(this, false);
  }

  /** @internal The short deadline of the running phase, if it ends sooner. */
  tighten(): void {
    if (this.stopped || this.phase === null) return;
    const at = this.startedAt + this.owner.durationFor(this.phase, true);
    if (at < this.expiresAt) this.schedule(at);
  }

  private schedule(at: number): void {
    this.clearTimer();
    this.expiresAt = at;
    const phase = this.phase!;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.owner.track(this, false);
      if (!this.stopped) this.expired(phase);
    }, Math.max(0, at - performance.now()));
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
