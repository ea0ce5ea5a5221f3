/**
 * Fault injection for reliability tests: with probability `rate` a request meets one of the
 * faults below instead of (or before) its normal answer. Seeded, so a failing run repeats.
 */

export const FaultKind = {
  /** No answer; the socket is closed after `hangMs`. */
  Timeout: 'timeout',
  /** 500 with a Redfish error body. */
  ServerError: '500',
  /** 412 on a PATCH, as if the ETag had changed underneath. */
  PreconditionFailed: '412',
  /** The answer comes after `slowMs`. */
  Slow: 'slow',
  /** The session used by the request is dropped: 401, the client must log in again. */
  DropSession: 'drop-session',
  /** A GET of a system reports the opposite power state, once. */
  WrongPower: 'wrong-power',
} as const;
export type FaultKind = (typeof FaultKind)[keyof typeof FaultKind];
export const AllFaultKinds: readonly FaultKind[] = Object.values(FaultKind);

export interface FaultOptions {
  /** Share of requests that meet a fault, 0..1. @default 0 */
  readonly rate: number;
  /** Which faults to draw from. @default all */
  readonly kinds?: readonly FaultKind[];
  /** PRNG seed. @default 1 */
  readonly seed?: number;
  /** Delay of a slow answer. @default 300 ms */
  readonly slowMs?: number;
  /** How long a timed-out request hangs before its socket is closed. @default 15 s */
  readonly hangMs?: number;
}

/** What the request looks like, to pick only faults that apply to it. */
export interface FaultRequest {
  readonly method: string;
  readonly hasSession: boolean;
  readonly isSystemGet: boolean;
}

export class FaultInjector {
  rate: number;
  kinds: readonly FaultKind[];
  slowMs: number;
  hangMs: number;
  private state: number;
  private readonly forced: FaultKind[] = [];
  readonly injected: Record<FaultKind, number> = {
    timeout: 0,
    '500': 0,
    '412': 0,
    slow: 0,
    'drop-session': 0,
    'wrong-power': 0,
  };

  constructor(opts: FaultOptions = { rate: 0 }) {
    if (!(opts.rate >= 0 && opts.rate <= 1)) throw new RangeError('faults.rate: must be between 0 and 1');
    this.rate = opts.rate;
    this.kinds = opts.kinds ?? AllFaultKinds;
    this.slowMs = opts.slowMs ?? 300;
    this.hangMs = opts.hangMs ?? 15_000;
    this.state = (opts.seed ?? 1) >>> 0 || 1;
  }

  /** Forces `kind` on the next request it applies to, whatever the rate (for exact tests). */
  injectNext(kind: FaultKind): void {
    this.forced.push(kind);
  }

  /** Picks a fault for this request, or null for a normal answer. */
  pick(req: FaultRequest): FaultKind | null {
    const i = this.forced.findIndex((k) => applies(k, req));
    if (i >= 0) {
      const [kind] = this.forced.splice(i, 1);
      this.injected[kind]++;
      return kind;
    }
    if (this.rate <= 0 || this.random() >= this.rate) return null;
    const fits = this.kinds.filter((k) => applies(k, req));
    if (fits.length === 0) return null;
    const kind = fits[Math.floor(this.random() * fits.length)];
    this.injected[kind]++;
    return kind;
  }

  /** xorshift32: fast, seedable, good enough to spread faults. */
  private random(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 0x1_0000_0000;
  }
}

function applies(kind: FaultKind, req: FaultRequest): boolean {
  switch (kind) {
    case FaultKind.PreconditionFailed:
      return req.method === 'PATCH';
    case FaultKind.DropSession:
      return req.hasSession;
    case FaultKind.WrongPower:
      return req.isSystemGet;
    default:
      return true;
  }
}
