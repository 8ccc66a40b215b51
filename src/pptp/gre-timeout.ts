/**
 * The adaptive acknowledgment time-out of RFC 2637 §4.4.1, with the
 * congestion back-off of §4.4.2. Pure arithmetic: samples and time-outs are
 * fed in by the GRE sequencer, nothing here reads a clock.
 *
 * ```
 * DIFF[n] = SAMPLE[n] - RTT[n-1]
 * DEV[n]  = DEV[n-1] + (beta * (|DIFF[n]| - DEV[n-1]))
 * RTT[n]  = RTT[n-1] + (alpha * DIFF[n])
 * ATO[n]  = MAX (MinTimeOut, MIN (RTT[n] + (chi * DEV[n]), MaxTimeOut))
 *
 * on a time-out:  RTT[n] = delta * RTT[n-1];  DEV[n] = DEV[n-1]
 * ```
 *
 * with the RFC's suggested gains alpha = 1/8, beta = 1/4, chi = 4 and
 * delta = 2. RTT starts at the peer's Packet Processing Delay ("The value of
 * PPD is used to seed the adaptive algorithm with the initial RTT[n-1]
 * value"), DEV at 0.
 */

/** RFC 2637 §4.4.1: "Alpha is the gain for the average and is typically 1/8 (0.125)." */
export const ATO_ALPHA = 0.125;
/** RFC 2637 §4.4.1: "Beta is the gain for the deviation and is typically 1/4 (0.250)." */
export const ATO_BETA = 0.25;
/** RFC 2637 §4.4.1: "Chi is the gain for the time-out and is typically set to 4." */
export const ATO_CHI = 4;
/** RFC 2637 §4.4.2: "A value of 2 for Delta, the time-out gain factor for RTT, is suggested." */
export const ATO_DELTA = 2;

export interface AdaptiveTimeoutConfig {
  /** MinTimeOut, ms. */
  readonly minTimeoutMs: number;
  /** MaxTimeOut, ms: "An administrator-adjustable maximum time-out" (§4.4). */
  readonly maxTimeoutMs: number;
  /** The initial RTT: the peer's Packet Processing Delay in ms (the PPD field is in tenths of a second). */
  readonly initialRttMs: number;
}

/** One session's ATO estimator (RFC 2637 §4.4: "Independent time-outs for each session"). */
export class AdaptiveTimeout {
  // Number initializers, not bare declarations: a field declared without one starts as `undefined`
  // (ES2022 class fields), and V8 then keeps it as a tagged field, where every fractional value stored
  // is a new heap number: garbage at every acknowledgment (docs/style.md).
  private rttMs = 0;
  private devMs = 0;
  private atoMs = 0;
  // The bounds as fields, not the config object: one estimator per session.
  private readonly minMs: number;
  private readonly maxMs: number;

  constructor(config: AdaptiveTimeoutConfig) {
    if (!(config.minTimeoutMs > 0) || !(config.maxTimeoutMs >= config.minTimeoutMs)) {
      throw new RangeError('AdaptiveTimeout: need 0 < minTimeoutMs <= maxTimeoutMs');
    }
    this.minMs = config.minTimeoutMs;
    this.maxMs = config.maxTimeoutMs;
    this.rttMs = Math.max(0, config.initialRttMs);
    this.atoMs = this.bound(this.rttMs);
  }

  /** The current Adaptive Time-Out, ms. */
  get timeoutMs(): number {
    return this.atoMs;
  }
  /** The current RTT estimate, ms. */
  get roundTripMs(): number {
    return this.rttMs;
  }
  /** The current mean deviation estimate, ms. */
  get deviationMs(): number {
    return this.devMs;
  }

  /** An acknowledgment arrived `sampleMs` after the packet it acknowledges was sent (§4.4.1). */
  sample(sampleMs: number): void {
    const diff = sampleMs - this.rttMs;
    this.devMs += ATO_BETA * (Math.abs(diff) - this.devMs);
    this.rttMs += ATO_ALPHA * diff;
    this.atoMs = this.bound(this.rttMs + ATO_CHI * this.devMs);
  }

  /** An acknowledgment time-out occurred: back off (§4.4.2). */
  backOff(): void {
    // Keep RTT itself bounded so repeated back-offs cannot overflow to Infinity.
    this.rttMs = Math.min(ATO_DELTA * Math.max(this.rttMs, this.minMs), this.maxMs);
    this.atoMs = this.bound(this.rttMs + ATO_CHI * this.devMs);
  }

  private bound(x: number): number {
    return Math.max(this.minMs, Math.min(x, this.maxMs));
  }
}
