/**
 * The contract between the RFC 1661 automaton (fsm.ts) and one control
 * protocol's option policy (LCP, IPCP, IPv6CP, CCP): pppd's fsm callbacks,
 * typed. The automaton owns the states and the packets; the policy owns the
 * meaning of the options.
 */

import type { Logger } from '../log/logger.js';
import type { CpOption, CpPacket } from '../wire/cp.js';
import type { FsmState } from './fsm-table.js';

/** The peer's request as the policy judges it: what to Nak (with our values) and what to Reject (verbatim). */
export interface RequestVerdict {
  /** Options to Configure-Nak, carrying values acceptable to us (RFC 1661 §5.3), possibly appended ones. */
  readonly nak?: readonly CpOption[];
  /** Options to Configure-Reject: the peer's own options, unmodified (RFC 1661 §5.4). */
  readonly reject?: readonly CpOption[];
  /**
   * Options to Configure-Nak even after Max-Failure, where the RFC forbids a
   * Reject (RFC 1661 §6.4: an implementation that sends a Magic-Number "MUST
   * NOT respond with a Configure-Reject when it receives a Configure-Request
   * with a Magic-Number").
   */
  readonly nakAlways?: readonly CpOption[];
}

/**
 * How the policy classifies a code the automaton does not know itself
 * (codes other than 1–7).
 *  - `RUC`: unknown → Code-Reject (RFC 1661 §5.6).
 *  - `RXR`: Echo-Request, Echo-Reply or Discard-Request (RFC 1661 §4.3);
 *    `reply` is the Echo-Reply to send when the table says `ser`.
 *  - `RXJ+` / `RXJ-`: a Protocol-Reject the policy judged harmless or
 *    catastrophic (RFC 1661 §4.3).
 *  - `handled`: a code the policy dealt with entirely (RFC 1570
 *    Identification, CCP Reset-Request...). It may have sent packets via
 *    the context.
 */
/** How a Code-Reject of a code beyond 1–7 is taken (see {@link CpPolicy.onCodeReject}). */
export type CodeRejectVerdict = 'acceptable' | 'catastrophic' | 'never-sent';

export type ExtraCodeVerdict =
  | { readonly event: 'RUC' }
  | { readonly event: 'RXR'; readonly reply?: CpPacket }
  | { readonly event: 'RXJ+' | 'RXJ-' }
  | { readonly event: 'handled' };

/** What a policy callback may use: the current state, a way to send a packet and a way to tell the owner something. */
export interface PolicyContext<N> {
  readonly state: FsmState;
  /** Emits a `note` action. */
  note(note: N): void;
  /** Sends one packet of this protocol (Identifier chosen by the caller). */
  send(packet: CpPacket): void;
  /** A fresh Identifier from the automaton's counter. */
  nextId(): number;
  readonly log: Logger;
}

/**
 * The per-protocol half of pppd's fsm callbacks.
 *
 * Contract: `reset()` resets only *our* side (what we will request next);
 * `judgeRequest()` recomputes everything about the *peer's* side from the
 * request it is given, every time (pppd's reqci zeroes `hisoptions` first).
 * So the automaton may judge a request before or after a reset.
 */
export interface CpPolicy<N = never> {
  /** Short lower-case name for logs and timer ids (`lcp`, `ipcp`...). */
  readonly name: string;
  /** PPP protocol number of this control protocol. */
  readonly protocol: number;
  /** A new negotiation starts (pppd resetci): reset what we will request. */
  reset(ctx: PolicyContext<N>): void;
  /** The options of our next Configure-Request. */
  buildRequest(ctx: PolicyContext<N>): readonly CpOption[];
  /** A valid Configure-Ack of our last request (the automaton has checked it is byte-identical). */
  onAck(options: readonly CpOption[], ctx: PolicyContext<N>): void;
  /**
   * A Configure-Nak of our last request. Returns false when it is invalid
   * (silently discarded, RFC 1661 §5.3). `treatAsReject` is set after
   * Max-Failure Naks in a row: stop asking for what is Nak'd.
   */
  onNak(options: readonly CpOption[], treatAsReject: boolean, ctx: PolicyContext<N>): boolean;
  /**
   * A Configure-Reject of our last request (the automaton has checked it is
   * an ordered subset of it). Returns false to discard it.
   */
  onReject(options: readonly CpOption[], ctx: PolicyContext<N>): boolean;
  /**
   * Judges the peer's Configure-Request. With `rejectIfDisagree` (after
   * Max-Failure Naks, RFC 1661 §4.6) the policy must not Nak; the automaton
   * converts any remaining Nak of a requested option into a Reject and drops
   * appended ones.
   */
  judgeRequest(
    options: readonly CpOption[],
    rejectIfDisagree: boolean,
    ctx: PolicyContext<N>,
  ): RequestVerdict;
  /** This-Layer-Up. */
  up?(ctx: PolicyContext<N>): void;
  /** This-Layer-Down. */
  down?(ctx: PolicyContext<N>): void;
  /** This-Layer-Started. */
  starting?(ctx: PolicyContext<N>): void;
  /** This-Layer-Finished. */
  finished?(ctx: PolicyContext<N>): void;
  /** Codes beyond 1–7. Absent: every other code is unknown (RUC). */
  extraCode?(packet: CpPacket, ctx: PolicyContext<N>): ExtraCodeVerdict;
  /**
   * The peer Code-Rejected `code`, beyond 1–7 (those are always
   * catastrophic, RFC 1661 §4.3). 'acceptable' (RXJ+: stop sending it) or
   * 'catastrophic' (RXJ-) for a code this automaton sends; 'never-sent'
   * for any other, and then the Code-Reject is discarded. Absent: the
   * automaton sends no code beyond 1–7.
   */
  onCodeReject?(code: number, ctx: PolicyContext<N>): CodeRejectVerdict;
  /** Human name of a code for logs. */
  codeName?(code: number): string | undefined;
}
