/**
 * The RFC 1661 §4 option-negotiation automaton, shared by LCP, IPCP, IPv6CP
 * and CCP (pppd's fsm.c, sans-IO).
 *
 * One instance runs one control protocol. Everything protocol-specific lives
 * in a {@link CpPolicy} (pppd's callbacks, typed): which options we request,
 * how we judge the peer's request, what a Nak or Reject teaches us, and the
 * extra codes (LCP Echo/Discard/Protocol-Reject/Identification/
 * Time-Remaining, CCP Reset-Request/Ack).
 *
 * Inputs are method calls ({@link Fsm.open}, {@link Fsm.close},
 * {@link Fsm.lowerUp}, {@link Fsm.lowerDown}, {@link Fsm.receive},
 * {@link Fsm.timeout}); outputs are the returned {@link FsmAction} list
 * (docs/style.md §4). The automaton never reads the clock and never starts a
 * timer itself: it asks for one with `startTimer`, and the driver calls
 * `timeout()` when it fires.
 *
 * State diagram (the main path; every other transition is in
 * {@link TRANSITIONS}, transcribed from RFC 1661 §4.1):
 *
 * ```
 *   Initial --Open--> Starting --Up/irc,scr--> ReqSent --RCA/irc--> AckRcvd
 *      |                                         |  ^                  |
 *      Up                                  RCR+/sca |RCN/irc,scr   RCR+/sca,tlu
 *      v                                         v  |                  v
 *   Closed --Open/irc,scr--> ReqSent         AckSent --RCA/irc,tlu--> Opened
 *                                                                      |
 *            Closing <--Close/tld,irc,str-- Opened --RTR/tld,zrc,sta--> Stopping
 * ```
 */

import { assertNever, bytesEqual, toHex, utf8 } from '../wire/bytes.js';
import {
  CpCode,
  type CpOption,
  type CpPacket,
  decodeCpOptions,
  decodeCpPacket,
  encodeCpOptions,
  encodeCpPacket,
} from '../wire/cp.js';
import { WireError } from '../wire/errors.js';
import { type Logger, nullLogger } from '../wire/log.js';
import type { PppFrame } from '../wire/ppp.js';
import { peerText } from './text.js';

/** The ten automaton states, in the RFC 1661 §4.1 column order (0–9). */
export type FsmState =
  | 'Initial'
  | 'Starting'
  | 'Closed'
  | 'Stopped'
  | 'Closing'
  | 'Stopping'
  | 'ReqSent'
  | 'AckRcvd'
  | 'AckSent'
  | 'Opened';

/** States indexed by their RFC 1661 §4.1 number. */
export const FSM_STATES: readonly FsmState[] = [
  'Initial',
  'Starting',
  'Closed',
  'Stopped',
  'Closing',
  'Stopping',
  'ReqSent',
  'AckRcvd',
  'AckSent',
  'Opened',
];

/** The sixteen events of RFC 1661 §4.3, in the §4.1 row order. */
export type FsmEvent =
  | 'Up'
  | 'Down'
  | 'Open'
  | 'Close'
  | 'TO+'
  | 'TO-'
  | 'RCR+'
  | 'RCR-'
  | 'RCA'
  | 'RCN'
  | 'RTR'
  | 'RTA'
  | 'RUC'
  | 'RXJ+'
  | 'RXJ-'
  | 'RXR';

export const FSM_EVENTS: readonly FsmEvent[] = [
  'Up',
  'Down',
  'Open',
  'Close',
  'TO+',
  'TO-',
  'RCR+',
  'RCR-',
  'RCA',
  'RCN',
  'RTR',
  'RTA',
  'RUC',
  'RXJ+',
  'RXJ-',
  'RXR',
];

/** The thirteen actions of RFC 1661 §4.4. */
export type FsmActionName =
  | 'tlu'
  | 'tld'
  | 'tls'
  | 'tlf'
  | 'irc'
  | 'zrc'
  | 'scr'
  | 'sca'
  | 'scn'
  | 'str'
  | 'sta'
  | 'scj'
  | 'ser';

/**
 * One cell of the state transition table: actions in order, the next state,
 * and the RFC's footnote letter ([p] passive option, [r] restart option,
 * [x] crossed connection).
 */
export interface Transition {
  readonly actions: readonly FsmActionName[];
  readonly next: FsmState;
  readonly footnote?: 'p' | 'r' | 'x';
}

/**
 * RFC 1661 §4.1, row by row, cell by cell, in the RFC's own notation
 * (`action,action/new-state[footnote]`, `-` for an illegal event). Columns
 * are states 0–9: Initial Starting Closed Stopped Closing Stopping ReqSent
 * AckRcvd AckSent Opened.
 */
// biome-ignore format: one row per event, as laid out in the RFC
const RFC1661_TABLE: Readonly<Record<FsmEvent, readonly string[]>> = {
  //       Initial  Starting     Closed       Stopped          Closing  Stopping ReqSent      AckRcvd      AckSent      Opened
  Up:     ['2',     'irc,scr/6', '-',         '-',             '-',     '-',     '-',         '-',         '-',         '-'],
  Down:   ['-',     '-',         '0',         'tls/1',         '0',     '1',     '1',         '1',         '1',         'tld/1'],
  Open:   ['tls/1', '1',         'irc,scr/6', '3r',            '5r',    '5r',    '6',         '7',         '8',         '9r'],
  Close:  ['0',     'tlf/0',     '2',         '2',             '4',     '4',     'irc,str/4', 'irc,str/4', 'irc,str/4', 'tld,irc,str/4'],
  'TO+':  ['-',     '-',         '-',         '-',             'str/4', 'str/5', 'scr/6',     'scr/6',     'scr/8',     '-'],
  'TO-':  ['-',     '-',         '-',         '-',             'tlf/2', 'tlf/3', 'tlf/3p',    'tlf/3p',    'tlf/3p',    '-'],
  'RCR+': ['-',     '-',         'sta/2',     'irc,scr,sca/8', '4',     '5',     'sca/8',     'sca,tlu/9', 'sca/8',     'tld,scr,sca/8'],
  'RCR-': ['-',     '-',         'sta/2',     'irc,scr,scn/6', '4',     '5',     'scn/6',     'scn/7',     'scn/6',     'tld,scr,scn/6'],
  RCA:    ['-',     '-',         'sta/2',     'sta/3',         '4',     '5',     'irc/7',     'scr/6x',    'irc,tlu/9', 'tld,scr/6x'],
  RCN:    ['-',     '-',         'sta/2',     'sta/3',         '4',     '5',     'irc,scr/6', 'scr/6x',    'irc,scr/8', 'tld,scr/6x'],
  RTR:    ['-',     '-',         'sta/2',     'sta/3',         'sta/4', 'sta/5', 'sta/6',     'sta/6',     'sta/6',     'tld,zrc,sta/5'],
  RTA:    ['-',     '-',         '2',         '3',             'tlf/2', 'tlf/3', '6',         '6',         '8',         'tld,scr/6'],
  RUC:    ['-',     '-',         'scj/2',     'scj/3',         'scj/4', 'scj/5', 'scj/6',     'scj/7',     'scj/8',     'scj/9'],
  'RXJ+': ['-',     '-',         '2',         '3',             '4',     '5',     '6',         '6',         '8',         '9'],
  'RXJ-': ['-',     '-',         'tlf/2',     'tlf/3',         'tlf/2', 'tlf/3', 'tlf/3',     'tlf/3',     'tlf/3',     'tld,irc,str/5'],
  RXR:    ['-',     '-',         '2',         '3',             '4',     '5',     '6',         '7',         '8',         'ser/9'],
};

const ACTION_NAMES: ReadonlySet<string> = new Set<FsmActionName>([
  'tlu',
  'tld',
  'tls',
  'tlf',
  'irc',
  'zrc',
  'scr',
  'sca',
  'scn',
  'str',
  'sta',
  'scj',
  'ser',
]);

/** Parses one cell in RFC 1661 §4.1 notation; `null` for `-`. Exported for the table test. */
export function parseTransitionCell(cell: string): Transition | null {
  const s = cell.trim();
  if (s === '-') return null;
  const m = /^(?:([a-z,]+)\/)?([0-9])([prx]?)$/.exec(s);
  if (!m) throw new Error(`bad RFC 1661 table cell: ${cell}`);
  const actions = m[1] ? m[1].split(',') : [];
  for (const a of actions) if (!ACTION_NAMES.has(a)) throw new Error(`bad action ${a} in cell ${cell}`);
  const next = FSM_STATES[Number(m[2])]!;
  const footnote = (m[3] || undefined) as Transition['footnote'];
  return footnote
    ? { actions: actions as FsmActionName[], next, footnote }
    : { actions: actions as FsmActionName[], next };
}

/** The RFC 1661 §4.1 state transition table: `TRANSITIONS[event][state]`, `null` where the RFC has `-`. */
export const TRANSITIONS: Readonly<Record<FsmEvent, Readonly<Record<FsmState, Transition | null>>>> =
  Object.fromEntries(
    FSM_EVENTS.map((ev) => [
      ev,
      Object.fromEntries(FSM_STATES.map((st, i) => [st, parseTransitionCell(RFC1661_TABLE[ev][i]!)])),
    ]),
  ) as Record<FsmEvent, Record<FsmState, Transition | null>>;

/** States in which the Restart timer runs (RFC 1661 §4.1: "identifiable by the presence of TO events"). */
const TIMER_STATES: ReadonlySet<FsmState> = new Set<FsmState>([
  'Closing',
  'Stopping',
  'ReqSent',
  'AckRcvd',
  'AckSent',
]);

/** States in which a Configure-Request exchange is under way (pppd: no option reset on scr). */
const NEGOTIATING: ReadonlySet<FsmState> = new Set<FsmState>(['ReqSent', 'AckRcvd', 'AckSent']);

/** Counters and timer of RFC 1661 §4.6, with pppd's defaults. */
export interface FsmConfig {
  /** Restart timer in ms. RFC 1661 §4.6: "SHOULD default to three (3) seconds". pppd: `lcp-restart` 3. */
  readonly restartMs: number;
  /** Max-Configure. RFC 1661 §4.6: "SHOULD default to ten (10) transmissions". pppd: `lcp-max-configure` 10. */
  readonly maxConfigure: number;
  /** Max-Terminate. RFC 1661 §4.6: "SHOULD default to two (2) transmissions". pppd: `lcp-max-terminate` 2. */
  readonly maxTerminate: number;
  /** Max-Failure. RFC 1661 §4.6: "SHOULD default to five (5) transmissions". pppd: `lcp-max-failure` 5 (10 for IPCP). */
  readonly maxFailure: number;
  /**
   * RFC 1661 §4.2 Stopped, Implementation Option [p]: after the peer fails to
   * answer Configure-Requests, wait passively (no This-Layer-Finished on TO-
   * in Req-Sent/Ack-Rcvd/Ack-Sent). pppd's `passive`. Default false.
   */
  readonly passive: boolean;
  /**
   * RFC 1661 §4.3 Open, Implementation Option [r]: an Open in Opened,
   * Closing, Stopping or Stopped renegotiates (Down then Up). pppd's
   * OPT_RESTART. Default false.
   */
  readonly restartOnOpen: boolean;
}

/** RFC 1661 §4.6 defaults, which are also pppd's. */
export const DEFAULT_FSM_CONFIG: FsmConfig = {
  restartMs: 3000,
  maxConfigure: 10,
  maxTerminate: 2,
  maxFailure: 5,
  passive: false,
  restartOnOpen: false,
};

/**
 * What the automaton asks its driver to do. `send` carries one control
 * packet as a PPP frame (protocol = the policy's); timers are named
 * `<policy name>.restart`.
 */
export type FsmAction<N = never> =
  | { readonly kind: 'send'; readonly frame: PppFrame }
  | { readonly kind: 'startTimer'; readonly id: string; readonly ms: number }
  | { readonly kind: 'stopTimer'; readonly id: string }
  /** This-Layer-Up: the automaton entered Opened. */
  | { readonly kind: 'up'; readonly protocol: number }
  /** This-Layer-Down: the automaton left Opened. */
  | { readonly kind: 'down'; readonly protocol: number }
  /** This-Layer-Started: the lower layer is needed. */
  | { readonly kind: 'starting'; readonly protocol: number }
  /** This-Layer-Finished: the lower layer is no longer needed. */
  | { readonly kind: 'finished'; readonly protocol: number; readonly reason: string }
  /** Something protocol-specific the policy wants its owner (the unit) to know. */
  | { readonly kind: 'note'; readonly protocol: number; readonly note: N };

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
   * The peer Code-Rejected one of our extended codes. Return true when that
   * is acceptable (RXJ+: stop sending it), false when catastrophic (RXJ-).
   * Codes 1–7 are always catastrophic (RFC 1661 §4.3).
   */
  onCodeReject?(code: number, ctx: PolicyContext<N>): boolean;
  /** Human name of a code for logs. */
  codeName?(code: number): string | undefined;
}

/** One step of the automaton, kept for logs and tests. */
export interface FsmStep {
  readonly event: FsmEvent;
  readonly from: FsmState;
  readonly to: FsmState;
  /** Actions actually performed (a [p] tlf skipped in passive mode is absent). */
  readonly actions: readonly FsmActionName[];
  /** False for an illegal event (RFC 1661 §4.4 "-": no transition taken). */
  readonly legal: boolean;
}

/** Context of the event being processed: the packet that caused it and the reply to send. */
interface EventContext {
  packet?: CpPacket;
  /** The Configure-Nak / Configure-Reject packet for `scn`. */
  nakOrReject?: CpPacket;
  /** The Echo-Reply for `ser`. */
  echoReply?: CpPacket;
  /** Why tlf happens (for the `finished` action). */
  reason?: string;
}

const CODE_NAMES: Readonly<Record<number, string>> = {
  [CpCode.ConfigureRequest]: 'Configure-Request',
  [CpCode.ConfigureAck]: 'Configure-Ack',
  [CpCode.ConfigureNak]: 'Configure-Nak',
  [CpCode.ConfigureReject]: 'Configure-Reject',
  [CpCode.TerminateRequest]: 'Terminate-Request',
  [CpCode.TerminateAck]: 'Terminate-Ack',
  [CpCode.CodeReject]: 'Code-Reject',
};

/** The empty byte string, shared (an empty typed array still costs about 200 bytes of heap). Never written to. */
const NO_BYTES = new Uint8Array(0);

// The automaton keeps two short byte strings for as long as the link lives (the Options of our
// last Configure-Request, the peer's last acknowledged one). A typed array costs some 190 bytes
// of heap besides its bytes, a one-byte JS string 16: a server with thousands of links keeps
// them as strings, one character per byte, and makes bytes again only when it sends or parses.

/** `bytes` as a string of one character per byte (U+0000..U+00FF). */
function toLatin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 4096) {
    s += String.fromCharCode(...bytes.subarray(i, Math.min(bytes.length, i + 4096)));
  }
  return s;
}

/** The bytes of a {@link toLatin1} string. */
function fromLatin1Text(s: string): Uint8Array {
  if (s.length === 0) return NO_BYTES;
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

/** Whether `bytes` are the bytes of the {@link toLatin1} string `s`. */
function latin1Equals(bytes: Uint8Array, s: string): boolean {
  if (bytes.length !== s.length) return false;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== s.charCodeAt(i)) return false;
  return true;
}

/** One shared, frozen {@link FsmStep} per table cell performed in full (the usual case). */
const LEGAL_STEPS = new WeakMap<object, FsmStep>();
function legalStep(
  event: FsmEvent,
  from: FsmState,
  cell: { next: FsmState; actions: readonly FsmActionName[] },
): FsmStep {
  let s = LEGAL_STEPS.get(cell);
  if (!s || s.event !== event || s.from !== from) {
    s = Object.freeze({ event, from, to: cell.next, actions: cell.actions, legal: true });
    LEGAL_STEPS.set(cell, s);
  }
  return s;
}

function isCompleteConfig(c: Partial<FsmConfig>): c is FsmConfig {
  for (const k in DEFAULT_FSM_CONFIG) if ((c as Record<string, unknown>)[k] === undefined) return false;
  return true;
}

/** Default MRU of the peer (RFC 1661 §6.1): Code-Reject data is truncated to fit it. */
const DEFAULT_MRU = 1500;

/**
 * The automaton. `N` is the type of the policy's notes.
 *
 * Identifier rules (RFC 1661 §5, pppd): each new Configure-Request and
 * Terminate-Request takes a fresh Identifier; a retransmission (TO+) keeps
 * it. A Configure-Ack/Nak/Reject is valid only if its Identifier is that of
 * our last Configure-Request and no reply to that request was accepted yet
 * (pppd's `seen_ack`: a duplicated Ack must not renegotiate an Opened
 * link); anything else is tossed without affecting the automaton.
 */
export class Fsm<N = never> {
  protected stateValue: FsmState = 'Initial';
  private restartCounter = 0;
  private timerRunning = false;
  private idCounter = 0;
  /** Identifier and options of our last Configure-Request. */
  private requestId: number | undefined;
  private requestOptionsText = '';
  /** Identifier and data of our last Terminate-Request. */
  private terminateId = 0;
  private terminateData: Uint8Array = NO_BYTES;
  /** The peer's Configure-Request we acknowledged last (for the duplicate check in Opened). */
  private lastAcked: { identifier: number; data: string } | undefined;
  /** A reply to the current request was accepted (pppd seen_ack). */
  protected replySeen = false;
  /** Configure-Naks we sent without sending a Configure-Ack (Max-Failure). */
  private naksSent = 0;
  /** Configure-Naks received in a row (pppd rnakloops). */
  private naksReceived = 0;
  /** Our Configure-Requests answered by a Nak or Reject since the last Ack of one (see {@link negotiationRounds}). */
  private refusalsReceived = 0;
  /** Configure-Naks and Configure-Rejects we sent since we last sent a Configure-Ack. */
  private refusalsSent = 0;
  private out: FsmAction<N>[] = [];
  private lastStepValue: FsmStep | undefined;
  private readonly config: FsmConfig;
  private readonly log: Logger;
  private readonly ctx: PolicyContext<N>;
  /** Peer's MRU: Code-Reject data is truncated so the packet fits (RFC 1661 §5.6). The owner updates it. */
  peerMru = DEFAULT_MRU;
  /** Text of the peer's last Terminate-Request, if any (pppd logs "terminated by peer (…)"). */
  peerTerminateReason: string | undefined;
  /** Why the automaton entered Closing or Stopping: reported when it finishes there. */
  private terminationReason = '';

  constructor(
    readonly policy: CpPolicy<N>,
    config: Partial<FsmConfig> = {},
    log: Logger = nullLogger,
  ) {
    // A complete configuration (the unit's, shared by its automata) is used as it is.
    this.config = isCompleteConfig(config) ? config : { ...DEFAULT_FSM_CONFIG, ...config };
    this.log = log;
    this.ctx = new Fsm.Context<N>(this);
  }

  /**
   * What a policy may do with the automaton: one small object per
   * automaton, its methods on the prototype (closures would cost hundreds
   * of bytes each on a server with thousands of links: docs/sessions.md).
   */
  private static readonly Context = class<M> implements PolicyContext<M> {
    constructor(private readonly fsm: Fsm<M>) {}
    get state(): FsmState {
      return this.fsm.stateValue;
    }
    get log(): Logger {
      return this.fsm.log;
    }
    note(note: M): void {
      this.fsm.out.push({ kind: 'note', protocol: this.fsm.policy.protocol, note });
    }
    send(packet: CpPacket): void {
      this.fsm.emit(packet);
    }
    nextId(): number {
      return this.fsm.freshId();
    }
  };

  /** The Options of our last Configure-Request, as bytes (made on demand: see {@link toLatin1}). */
  private requestOptions(): Uint8Array {
    return fromLatin1Text(this.requestOptionsText);
  }

  /** Current RFC 1661 state. */
  get state(): FsmState {
    return this.stateValue;
  }

  /** Current Restart counter (RFC 1661 §4.6). */
  get restartCount(): number {
    return this.restartCounter;
  }

  /** Whether the Restart timer is running. */
  get timerActive(): boolean {
    return this.timerRunning;
  }

  /** The last step taken (for logs and tests). */
  get lastStep(): FsmStep | undefined {
    return this.lastStepValue;
  }

  /** Restart timer id used in `startTimer`/`stopTimer` actions. */
  get timerId(): string {
    return `${this.policy.name}.restart`;
  }

  /** The effective configuration. */
  get settings(): FsmConfig {
    return this.config;
  }

  /** Administrative Open (RFC 1661 §4.3). */
  open(): FsmAction<N>[] {
    if (this.config.restartOnOpen && ['Opened', 'Closing', 'Stopping', 'Stopped'].includes(this.state)) {
      // RFC 1661 §4.3 Open, Implementation Option [r]: "issue a Down event, immediately followed by an Up event".
      this.step('Open', {});
      this.step('Down', {});
      this.step('Up', {});
      return this.flush();
    }
    this.step('Open', {});
    return this.flush();
  }

  /** Administrative Close (RFC 1661 §4.3). `reason` goes in the Terminate-Request's Data. */
  close(reason = ''): FsmAction<N>[] {
    this.step('Close', { reason });
    return this.flush();
  }

  /** The lower layer is Up (RFC 1661 §4.3). */
  lowerUp(): FsmAction<N>[] {
    this.step('Up', {});
    return this.flush();
  }

  /** The lower layer is Down (RFC 1661 §4.3). */
  lowerDown(): FsmAction<N>[] {
    this.step('Down', {});
    return this.flush();
  }

  /**
   * The Restart timer fired. TO+ while the Restart counter is above zero,
   * TO- otherwise (RFC 1661 §4.3). Ignored when the timer is not running
   * (a late callback from the driver).
   */
  timeout(): FsmAction<N>[] {
    if (!this.timerRunning) {
      this.log.log('debug', 'stale restart timeout ignored', { state: this.state });
      return [];
    }
    this.timerRunning = false;
    if (this.restartCounter > 0) this.step('TO+', {});
    else this.step('TO-', { reason: this.timeoutReason() });
    return this.flush();
  }

  /**
   * How many Configure-Naks/Rejects in a row, in either direction, a
   * negotiation may take before it is declared not converging:
   * Max-Failure + Max-Configure (15 with the defaults).
   *
   * RFC 1661 §4.6 gives Max-Failure ("the number of Configure-Nak packets
   * sent without sending a Configure-Ack before assuming that configuration
   * is not converging") only the power to turn Naks into Rejects, and its
   * table re-initialises the Restart counter (irc) on every RCN, so a peer
   * that answers every Configure-Request with a Nak or Reject (or sends
   * Configure-Requests we can only refuse) is never bounded by the letter of
   * the RFC: pppd, too, loops at the round-trip rate. A peer that means to
   * converge does so within Max-Failure rounds (after which Naks become
   * Rejects, and each Reject removes an option); Max-Configure more rounds
   * is a generous margin. Past it the automaton does what an exhausted
   * Restart counter does (TO-: tlf, Stopped), with a reason saying why.
   */
  private get negotiationRounds(): number {
    return this.config.maxFailure + this.config.maxConfigure;
  }

  /** Ends a negotiation that does not converge (as TO-, RFC 1661 §4.1 tlf/3), if one is under way. */
  private notConverging(reason: string): boolean {
    if (!NEGOTIATING.has(this.state)) return false;
    this.log.log('warn', reason);
    this.step('TO-', { reason });
    return true;
  }

  /** Why a TO- ends the exchange. */
  private timeoutReason(): string {
    if (this.state === 'Closing' || this.state === 'Stopping') {
      return this.terminationReason || 'no Terminate-Ack from peer';
    }
    return `peer did not answer ${this.config.maxConfigure} Configure-Requests`;
  }

  /**
   * Our peer Protocol-Rejected this protocol (RFC 1661 §5.7), or an owner
   * decided it is unusable: RXJ- for this automaton ("such as ... a
   * Protocol-Reject of LCP!", and for an NCP the end of that NCP).
   */
  protocolRejected(reason = 'protocol rejected by peer'): FsmAction<N>[] {
    if (this.state === 'Initial' || this.state === 'Starting') return [];
    this.step('RXJ-', { reason });
    return this.flush();
  }

  /** Sends an extra-code packet (LCP Echo-Request, CCP Reset-Request...) outside any event. */
  sendPacket(packet: CpPacket): FsmAction<N>[] {
    this.emit(packet);
    return this.flush();
  }

  /** Runs `fn` with the policy context and returns the actions it produced (for owner-initiated policy work). */
  withContext(fn: (ctx: PolicyContext<N>) => void): FsmAction<N>[] {
    fn(this.ctx);
    return this.flush();
  }

  /**
   * One received packet of this protocol: the PPP Information field.
   *
   * The triple length check (pppd fsm_input, RFC 1661 §5): at least the
   * 4-byte header, a Length of at least 4, and a Length no larger than what
   * arrived — "When a packet is received with an invalid Length field, the
   * packet is silently discarded without affecting the automaton."
   */
  receive(payload: Uint8Array): FsmAction<N>[] {
    let pkt: CpPacket;
    try {
      pkt = decodeCpPacket(payload);
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      this.log.log('debug', 'malformed packet discarded', { error: e.message, hex: toHex(payload, 32) });
      return [];
    }
    if (this.state === 'Initial' || this.state === 'Starting') {
      // The lower layer is Down: every receive event is illegal here (RFC 1661 §4.1 "-"); pppd discards.
      this.log.log('debug', 'packet in lower-layer-down state discarded', {
        state: this.state,
        code: pkt.code,
      });
      return [];
    }
    if (this.log.enabled('debug')) {
      this.log.log('debug', `rcvd ${this.codeName(pkt.code)}`, {
        id: pkt.identifier,
        length: pkt.data.length + 4,
        hex: toHex(pkt.data, 32),
      });
    }
    switch (pkt.code) {
      case CpCode.ConfigureRequest:
        this.receiveConfigureRequest(pkt);
        break;
      case CpCode.ConfigureAck:
        this.receiveConfigureAck(pkt);
        break;
      case CpCode.ConfigureNak:
      case CpCode.ConfigureReject:
        this.receiveConfigureNakOrReject(pkt);
        break;
      case CpCode.TerminateRequest:
        this.peerTerminateReason = peerText(pkt.data, 128);
        this.step('RTR', {
          packet: pkt,
          reason: this.peerTerminateReason
            ? `terminated by peer: ${this.peerTerminateReason}`
            : 'terminated by peer',
        });
        break;
      case CpCode.TerminateAck:
        // Not matched against our Identifier: an unelicited Terminate-Ack "indicates that the peer is in
        // the Closed or Stopped states" (RFC 1661 §5.5) and must resynchronize us (pppd does the same).
        this.step('RTA', { packet: pkt, reason: this.terminationReason || 'peer acknowledged termination' });
        break;
      case CpCode.CodeReject:
        this.receiveCodeReject(pkt);
        break;
      default:
        this.receiveExtraCode(pkt);
    }
    return this.flush();
  }

  private receiveConfigureRequest(pkt: CpPacket): void {
    let options: CpOption[];
    try {
      options = decodeCpOptions(pkt.data);
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      // RFC 1661 §6: "When the Data field is indicated by the Length to extend beyond the end of the
      // Information field, the entire packet is silently discarded without affecting the automaton."
      this.log.log('debug', 'Configure-Request with malformed options discarded', { error: e.message });
      return;
    }
    const s = this.state;
    if (
      s === 'Opened' &&
      this.lastAcked &&
      pkt.identifier === this.lastAcked.identifier &&
      latin1Equals(pkt.data, this.lastAcked.data)
    ) {
      // Deliberate deviation from the table (RCR in Opened: tld,scr,sca/8): a request with the Identifier
      // and options we already acknowledged can only be a retransmission or a network duplicate, because
      // RFC 1661 §5.1 says "The Identifier field MUST be changed ... whenever a valid reply has been
      // received for a previous request". Re-acknowledge it instead of tearing the layer down, so a
      // duplicated or late packet cannot force a renegotiation (and, for LCP, a re-authentication).
      this.log.log('debug', 'duplicate of the acknowledged Configure-Request: Ack again', {
        id: pkt.identifier,
      });
      this.emit({ code: CpCode.ConfigureAck, identifier: pkt.identifier, data: pkt.data });
      return;
    }
    if (s === 'Closed' || s === 'Closing' || s === 'Stopping') {
      // RCR+ and RCR- share these cells (sta/2, 4, 5): no need to judge.
      this.step('RCR+', { packet: pkt });
      return;
    }
    const rejectIfDisagree = this.naksSent >= this.config.maxFailure;
    const verdict = this.policy.judgeRequest(options, rejectIfDisagree, this.ctx);
    let reject = verdict.reject ?? [];
    let nak = verdict.nak ?? [];
    if (rejectIfDisagree && nak.length > 0) {
      // RFC 1661 §4.6 Max-Failure: "Any further Configure-Nak packets for peer requested options are
      // converted to Configure-Reject packets, and locally desired options are no longer appended."
      const nakTypes = new Set(nak.map((o) => o.type));
      const already = new Set(reject);
      reject = options.filter((o) => already.has(o) || nakTypes.has(o.type));
      nak = [];
    }
    if (verdict.nakAlways?.length) nak = inRequestOrder([...nak, ...verdict.nakAlways], options);
    if (
      (reject.length > 0 || nak.length > 0) &&
      this.refusalsSent >= this.negotiationRounds &&
      this.notConverging(
        `configuration not converging: ${this.refusalsSent} of the peer's Configure-Requests Nak'd or Rejected without an Ack`,
      )
    )
      return;
    if (reject.length > 0) {
      this.step('RCR-', {
        packet: pkt,
        nakOrReject: {
          code: CpCode.ConfigureReject,
          identifier: pkt.identifier,
          data: encodeCpOptions(reject),
        },
      });
    } else if (nak.length > 0) {
      this.step('RCR-', {
        packet: pkt,
        nakOrReject: { code: CpCode.ConfigureNak, identifier: pkt.identifier, data: encodeCpOptions(nak) },
      });
    } else {
      this.step('RCR+', { packet: pkt });
    }
  }

  /** Whether a reply with this Identifier answers our outstanding Configure-Request (RFC 1661 §5.2–5.4). */
  private isCurrentReply(pkt: CpPacket): boolean {
    if (this.requestId === undefined || pkt.identifier !== this.requestId) {
      this.log.log('debug', `${this.codeName(pkt.code)} with unexpected Identifier tossed`, {
        id: pkt.identifier,
        expected: this.requestId ?? -1,
      });
      return false;
    }
    if (this.replySeen) {
      this.log.log('debug', `duplicate ${this.codeName(pkt.code)} tossed`, { id: pkt.identifier });
      return false;
    }
    return true;
  }

  private receiveConfigureAck(pkt: CpPacket): void {
    if (!this.isCurrentReply(pkt)) return;
    // RFC 1661 §5.2: "the Configuration Options in a Configure-Ack MUST exactly match those of the last
    // transmitted Configure-Request. Invalid packets are silently discarded."
    if (!latin1Equals(pkt.data, this.requestOptionsText)) {
      this.log.log('warn', 'Configure-Ack does not match our Configure-Request: discarded', {
        got: toHex(pkt.data, 32),
        sent: toHex(this.requestOptions(), 32),
      });
      return;
    }
    this.replySeen = true;
    this.naksReceived = 0;
    this.refusalsReceived = 0;
    // In Closed/Stopped/Closing/Stopping the reply only draws a Terminate-Ack (or nothing): the policy
    // has nothing to learn from it.
    if (this.isConfiguring()) this.policy.onAck(decodeCpOptions(pkt.data), this.ctx);
    this.step('RCA', { packet: pkt });
  }

  private receiveConfigureNakOrReject(pkt: CpPacket): void {
    if (!this.isCurrentReply(pkt)) return;
    if (!this.isConfiguring()) {
      this.replySeen = true;
      this.step('RCN', { packet: pkt });
      return;
    }
    let options: CpOption[];
    try {
      options = decodeCpOptions(pkt.data);
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      this.log.log('debug', `${this.codeName(pkt.code)} with malformed options discarded`, {
        error: e.message,
      });
      return;
    }
    if (pkt.code === CpCode.ConfigureReject) {
      // RFC 1661 §5.4: "the Configuration Options in a Configure-Reject MUST be a proper subset of those
      // in the last transmitted Configure-Request. Invalid packets are silently discarded."
      if (options.length === 0 || !isOrderedSubset(options, decodeCpOptions(this.requestOptions()))) {
        this.log.log('warn', 'Configure-Reject is not a subset of our Configure-Request: discarded', {
          got: toHex(pkt.data, 32),
        });
        return;
      }
      this.naksReceived = 0;
      if (!this.policy.onReject(options, this.ctx)) {
        this.log.log('warn', 'Configure-Reject refused by policy: discarded', { got: toHex(pkt.data, 32) });
        return;
      }
    } else {
      const treatAsReject = this.naksReceived + 1 >= this.config.maxFailure;
      if (!this.policy.onNak(options, treatAsReject, this.ctx)) {
        this.log.log('warn', 'invalid Configure-Nak discarded', { got: toHex(pkt.data, 32) });
        return;
      }
      this.naksReceived++;
    }
    this.replySeen = true;
    if (
      ++this.refusalsReceived > this.negotiationRounds &&
      this.notConverging(
        `configuration not converging: peer Nak'd or Rejected ${this.refusalsReceived - 1} Configure-Requests in a row`,
      )
    )
      return;
    this.step('RCN', { packet: pkt });
  }

  /** Req-Sent, Ack-Rcvd, Ack-Sent or Opened: replies to our requests change what we negotiate. */
  private isConfiguring(): boolean {
    return NEGOTIATING.has(this.state) || this.state === 'Opened';
  }

  private receiveCodeReject(pkt: CpPacket): void {
    if (pkt.data.length < 1) {
      this.log.log('debug', 'empty Code-Reject discarded');
      return;
    }
    const code = pkt.data[0]!;
    // RFC 1661 §4.3: "The RXJ- event arises when the rejected value is catastrophic, such as a
    // Code-Reject of Configure-Request".
    const acceptable =
      code > CpCode.CodeReject &&
      (this.policy.onCodeReject ? this.policy.onCodeReject(code, this.ctx) : true);
    this.log.log(acceptable ? 'info' : 'warn', `peer Code-Rejected ${this.codeName(code)}`, { code });
    if (acceptable) this.step('RXJ+', { packet: pkt });
    else {
      this.step('RXJ-', { packet: pkt, reason: `peer rejected ${this.codeName(code)}` });
    }
  }

  private receiveExtraCode(pkt: CpPacket): void {
    const verdict: ExtraCodeVerdict = this.policy.extraCode
      ? this.policy.extraCode(pkt, this.ctx)
      : { event: 'RUC' };
    switch (verdict.event) {
      case 'RUC':
        this.step('RUC', { packet: pkt });
        return;
      case 'RXR':
        this.step('RXR', verdict.reply ? { packet: pkt, echoReply: verdict.reply } : { packet: pkt });
        return;
      case 'RXJ+':
        this.step('RXJ+', { packet: pkt });
        return;
      case 'RXJ-':
        this.step('RXJ-', { packet: pkt, reason: 'peer rejected this protocol' });
        return;
      case 'handled':
        return;
      default:
        assertNever(verdict, 'extra code verdict');
    }
  }

  /** Looks up the RFC 1661 §4.1 cell and performs it. */
  private step(event: FsmEvent, ec: EventContext): void {
    const from = this.state;
    const cell = TRANSITIONS[event][from];
    if (!cell) {
      // RFC 1661 §4.4 Illegal-Event: "No transition is taken, and the implementation SHOULD NOT reset or
      // freeze."
      this.log.log('warn', `illegal event ${event} in state ${from}`);
      this.lastStepValue = { event, from, to: from, actions: [], legal: false };
      return;
    }
    if (event !== 'TO+' && (cell.actions.includes('str') || cell.actions.includes('zrc'))) {
      // Entering Closing or Stopping: remember why, for the tlf that ends it.
      this.terminationReason = ec.reason ?? event;
    }
    const done: FsmActionName[] = [];
    for (const a of cell.actions) {
      if (a === 'tlf' && cell.footnote === 'p' && this.config.passive) continue;
      this.perform(a, event, from, ec);
      done.push(a);
    }
    this.setState(cell.next, `${event}${done.length ? ` / ${done.join(',')}` : ''}`);
    if (from === 'Opened' && cell.next !== 'Opened') this.lastAcked = undefined;
    if (this.timerRunning && !TIMER_STATES.has(cell.next)) {
      // RFC 1661 §4.1: "The Restart timer is stopped when transitioning from any state where the timer is
      // running to a state where the timer is not running."
      this.timerRunning = false;
      this.out.push({ kind: 'stopTimer', id: this.timerId });
    }
    this.lastStepValue =
      done.length === cell.actions.length
        ? legalStep(event, from, cell)
        : { event, from, to: cell.next, actions: done, legal: true };
  }

  private perform(a: FsmActionName, event: FsmEvent, from: FsmState, ec: EventContext): void {
    const protocol = this.policy.protocol;
    switch (a) {
      case 'tlu':
        this.policy.up?.(this.ctx);
        this.out.push({ kind: 'up', protocol });
        return;
      case 'tld':
        this.policy.down?.(this.ctx);
        this.out.push({ kind: 'down', protocol });
        return;
      case 'tls':
        this.policy.starting?.(this.ctx);
        this.out.push({ kind: 'starting', protocol });
        return;
      case 'tlf':
        this.policy.finished?.(this.ctx);
        this.out.push({ kind: 'finished', protocol, reason: ec.reason ?? event });
        return;
      case 'irc': {
        // RFC 1661 §4.4: "sets the Restart counter to the appropriate value (Max-Terminate or
        // Max-Configure)": Max-Terminate when a Terminate-Request follows.
        const cell = TRANSITIONS[event][from]!;
        this.restartCounter = cell.actions.includes('str')
          ? this.config.maxTerminate
          : this.config.maxConfigure;
        return;
      }
      case 'zrc':
        // RFC 1661 §4.4: zero the counter and "set the timeout period to an appropriate value": one
        // Restart period, during which the peer can process our Terminate-Ack.
        this.restartCounter = 0;
        this.startTimer();
        return;
      case 'scr':
        this.sendConfigureRequest(event === 'TO+', from);
        return;
      case 'sca':
        this.naksSent = 0;
        this.refusalsSent = 0;
        this.lastAcked = { identifier: ec.packet!.identifier, data: toLatin1(ec.packet!.data) };
        // RFC 1661 §5.2: "The acknowledged Configuration Options MUST NOT be reordered or modified in any way."
        this.emit({ code: CpCode.ConfigureAck, identifier: ec.packet!.identifier, data: ec.packet!.data });
        return;
      case 'scn': {
        const reply = ec.nakOrReject!;
        if (reply.code === CpCode.ConfigureNak) this.naksSent++;
        this.refusalsSent++;
        this.emit(reply);
        return;
      }
      case 'str':
        if (event !== 'TO+') {
          this.terminateId = this.freshId();
          this.terminateData = utf8(ec.reason ?? '');
        }
        this.restartCounter--;
        this.emit({ code: CpCode.TerminateRequest, identifier: this.terminateId, data: this.terminateData });
        this.startTimer();
        return;
      case 'sta':
        // RFC 1661 §5.5: "the Identifier field of the Terminate-Request is copied into the Identifier field
        // of the Terminate-Ack packet"; for other packets we answer with their Identifier as well.
        this.emit({
          code: CpCode.TerminateAck,
          identifier: ec.packet?.identifier ?? this.freshId(),
          data: new Uint8Array(0),
        });
        return;
      case 'scj':
        this.sendCodeReject(ec.packet!);
        return;
      case 'ser':
        if (ec.echoReply) this.emit(ec.echoReply);
        return;
      default:
        assertNever(a, 'action');
    }
  }

  private sendConfigureRequest(retransmit: boolean, from: FsmState): void {
    // RFC 1661 §5.1: "The Identifier field MUST be changed whenever the contents of the Options field
    // changes, and whenever a valid reply has been received for a previous request. For retransmissions,
    // the Identifier MAY remain unchanged": a TO+ resends the same packet unless it was answered
    // (Ack-Rcvd), then it takes a new Identifier.
    if (!retransmit || this.requestId === undefined) {
      if (!NEGOTIATING.has(from)) {
        // pppd fsm_sconfreq: "Not currently negotiating - reset options".
        this.policy.reset(this.ctx);
        this.naksSent = 0;
        this.naksReceived = 0;
        this.refusalsReceived = 0;
        this.refusalsSent = 0;
      }
      this.requestOptionsText = toLatin1(encodeCpOptions(this.policy.buildRequest(this.ctx)));
      this.requestId = this.freshId();
    } else if (this.replySeen) {
      this.requestId = this.freshId();
    }
    this.replySeen = false;
    this.restartCounter--;
    this.emit({ code: CpCode.ConfigureRequest, identifier: this.requestId, data: this.requestOptions() });
    this.startTimer();
  }

  private sendCodeReject(rejected: CpPacket): void {
    const whole = encodeCpPacket(rejected);
    // RFC 1661 §5.6: "The Rejected-Packet MUST be truncated to comply with the peer's established MRU."
    const room = Math.max(0, this.peerMru - 4);
    this.emit({ code: CpCode.CodeReject, identifier: this.freshId(), data: whole.subarray(0, room) });
  }

  private startTimer(): void {
    this.timerRunning = true;
    this.out.push({ kind: 'startTimer', id: this.timerId, ms: this.config.restartMs });
  }

  private freshId(): number {
    this.idCounter = (this.idCounter + 1) & 0xff;
    return this.idCounter;
  }

  private emit(p: CpPacket): void {
    if (this.log.enabled('debug')) {
      this.log.log('debug', `sent ${this.codeName(p.code)}`, { id: p.identifier, hex: toHex(p.data, 32) });
    }
    this.out.push({ kind: 'send', frame: { protocol: this.policy.protocol, payload: encodeCpPacket(p) } });
  }

  private setState(next: FsmState, reason: string): void {
    if (next !== this.stateValue) {
      this.log.log('debug', `${this.stateValue} → ${next}`, { reason });
    }
    this.stateValue = next;
  }

  private codeName(code: number): string {
    return CODE_NAMES[code] ?? this.policy.codeName?.(code) ?? `code ${code}`;
  }

  private flush(): FsmAction<N>[] {
    const out = this.out;
    this.out = [];
    return out;
  }
}

/**
 * Sorts Nak'd options into the order of the request they answer (RFC 1661
 * §5.3: "the Configuration Options from the Configure-Request MUST NOT be
 * reordered"); options the request did not have (appended hints) go last.
 */
function inRequestOrder(nak: readonly CpOption[], request: readonly CpOption[]): CpOption[] {
  const pos = (o: CpOption) => {
    const i = request.findIndex((r) => r.type === o.type);
    return i < 0 ? request.length : i;
  };
  return nak
    .map((o, i) => ({ o, i }))
    .sort((x, y) => pos(x.o) - pos(y.o) || x.i - y.i)
    .map((x) => x.o);
}

/** Every option of `sub` appears, byte-identical and in the same order, in `whole`. */
function isOrderedSubset(sub: readonly CpOption[], whole: readonly CpOption[]): boolean {
  let j = 0;
  for (const o of sub) {
    while (j < whole.length && !(whole[j]!.type === o.type && bytesEqual(whole[j]!.data, o.data))) j++;
    if (j === whole.length) return false;
    j++;
  }
  return true;
}
