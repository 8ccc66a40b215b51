/**
 * The RFC 1661 automaton's state and the performing of one table cell: the
 * thirteen actions of RFC 1661 §4.4 (send Configure-Request/Ack/Nak,
 * Terminate-Request/Ack, Code-Reject, Echo-Reply; the Restart counter and
 * timer; This-Layer-Up/Down/Started/Finished), the Identifiers, and the
 * list of {@link FsmAction}s handed back to the driver.
 *
 * Which event an input is (administrative calls, timer, received packets:
 * RFC 1661 §4.3, §5) is decided by {@link Fsm} in fsm.ts, which extends this
 * class; the table itself is fsm-table.ts.
 */

import { type Logger, nullLogger } from '../log/logger.js';
import { assertNever, toHex, utf8 } from '../wire/bytes.js';
import { CpCode, type CpPacket, encodeCpOptions, encodeCpPacket } from '../wire/cp.js';
import type { PppFrame } from '../wire/ppp.js';
import { fromLatin1Text, toLatin1 } from './byte-string.js';
import type { CpPolicy, PolicyContext } from './fsm-policy.js';
import {
  type FsmActionName,
  type FsmEvent,
  type FsmState,
  NEGOTIATING,
  TIMER_STATES,
  TRANSITIONS,
} from './fsm-table.js';

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
export interface EventContext {
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

/** The empty byte string, shared (see docs/performance.md, "PPP automaton memory"). Never written to. */
const NO_BYTES = new Uint8Array(0);

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

/** One Restart timer id string per protocol name, made once: no string built per timer action or expiry. */
const RESTART_TIMER_IDS = new Map<string, string>();
function restartTimerId(name: string): string {
  let id = RESTART_TIMER_IDS.get(name);
  if (id === undefined) {
    id = `${name}.restart`;
    RESTART_TIMER_IDS.set(name, id);
  }
  return id;
}

/** Default MRU of the peer (RFC 1661 §6.1): Code-Reject data is truncated to fit it. */
const DEFAULT_MRU = 1500;

/**
 * The automaton's state and actions. `N` is the type of the policy's notes.
 * Subclassed by {@link Fsm}, which turns inputs into events and calls
 * {@link step}.
 */
export abstract class FsmActions<N = never> {
  protected stateValue: FsmState = 'Initial';
  protected restartCounter = 0;
  protected timerRunning = false;
  protected idCounter = 0;
  /** Identifier and options of our last Configure-Request. */
  protected requestId: number | undefined;
  protected requestOptionsText = '';
  /** Identifier and data of our last Terminate-Request. */
  protected terminateId = 0;
  protected terminateData: Uint8Array = NO_BYTES;
  /**
   * Identifier (-1: none) and options of the peer's Configure-Request we acknowledged last (for
   * the duplicate check in Opened); two fields, not an object, as every session keeps them.
   */
  protected lastAckedId = -1;
  protected lastAckedData = '';
  /** A reply to the current request was accepted (pppd seen_ack). */
  protected replySeen = false;
  /** Configure-Naks we sent without sending a Configure-Ack (Max-Failure). */
  protected naksSent = 0;
  /** Configure-Naks received in a row (pppd rnakloops). */
  protected naksReceived = 0;
  /** Our Configure-Requests answered by a Nak or Reject since the last Ack of one (see {@link negotiationRounds}). */
  protected refusalsReceived = 0;
  /** Configure-Naks and Configure-Rejects we sent since we last sent a Configure-Ack. */
  protected refusalsSent = 0;
  /**
   * Actions of the current input, made by the first one and handed over
   * whole by {@link flush}: an automaton holds no array between inputs (an
   * idle link's keep-alives then leave nothing behind that outlives a
   * young-generation collection).
   */
  protected out: FsmAction<N>[] | undefined;
  protected lastStepValue: FsmStep | undefined;
  protected readonly config: FsmConfig;
  protected readonly log: Logger;
  protected readonly ctx: PolicyContext<N>;
  /** Peer's MRU: Code-Reject data is truncated so the packet fits (RFC 1661 §5.6). The owner updates it. */
  peerMru = DEFAULT_MRU;
  /** Text of the peer's last Terminate-Request, if any (pppd logs "terminated by peer (…)"). */
  peerTerminateReason: string | undefined;
  /** Why the automaton entered Closing or Stopping: reported when it finishes there. */
  protected terminationReason = '';

  constructor(
    readonly policy: CpPolicy<N>,
    config: Partial<FsmConfig> = {},
    log: Logger = nullLogger,
  ) {
    // A complete configuration (the unit's, shared by its automata) is used as it is.
    this.config = isCompleteConfig(config) ? config : { ...DEFAULT_FSM_CONFIG, ...config };
    this.log = log;
    this.ctx = new FsmActions.Context<N>(this);
  }

  /**
   * What a policy may do with the automaton: one small object per
   * automaton, its methods on the prototype (closures would cost hundreds
   * of bytes each on a server with thousands of links: docs/sessions.md).
   */
  private static readonly Context = class<M> implements PolicyContext<M> {
    constructor(private readonly fsm: FsmActions<M>) {}
    get state(): FsmState {
      return this.fsm.stateValue;
    }
    get log(): Logger {
      return this.fsm.log;
    }
    note(note: M): void {
      this.fsm.act({ kind: 'note', protocol: this.fsm.policy.protocol, note });
    }
    send(packet: CpPacket): void {
      this.fsm.emit(packet);
    }
    nextId(): number {
      return this.fsm.freshId();
    }
  };

  /** The Options of our last Configure-Request, as bytes (made on demand: see {@link toLatin1}). */
  protected requestOptions(): Uint8Array {
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
    return restartTimerId(this.policy.name);
  }

  /** The effective configuration. */
  get settings(): FsmConfig {
    return this.config;
  }

  /** Looks up the RFC 1661 §4.1 cell and performs it. */
  protected step(event: FsmEvent, ec: EventContext): void {
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
    // A passive automaton skips the tlf of the cells marked "p" (RFC 1661 §4.1 footnote [p]). Nothing is
    // allocated for a step that changes no state (an Echo, a keep-alive's Configure-Request retransmission).
    let skippedTlf = false;
    for (const a of cell.actions) {
      if (a === 'tlf' && cell.footnote === 'p' && this.config.passive) {
        skippedTlf = true;
        continue;
      }
      this.perform(a, event, from, ec);
    }
    const done = skippedTlf ? cell.actions.filter((a) => a !== 'tlf') : cell.actions;
    if (cell.next !== this.stateValue) {
      this.setState(cell.next, `${event}${done.length ? ` / ${done.join(',')}` : ''}`);
    }
    if (from === 'Opened' && cell.next !== 'Opened') {
      this.lastAckedId = -1;
      this.lastAckedData = '';
    }
    if (this.timerRunning && !TIMER_STATES.has(cell.next)) {
      // RFC 1661 §4.1: "The Restart timer is stopped when transitioning from any state where the timer is
      // running to a state where the timer is not running."
      this.timerRunning = false;
      this.act({ kind: 'stopTimer', id: this.timerId });
    }
    this.lastStepValue = skippedTlf
      ? { event, from, to: cell.next, actions: done, legal: true }
      : legalStep(event, from, cell);
  }

  protected perform(a: FsmActionName, event: FsmEvent, from: FsmState, ec: EventContext): void {
    const protocol = this.policy.protocol;
    switch (a) {
      case 'tlu':
        this.policy.up?.(this.ctx);
        this.act({ kind: 'up', protocol });
        return;
      case 'tld':
        this.policy.down?.(this.ctx);
        this.act({ kind: 'down', protocol });
        return;
      case 'tls':
        this.policy.starting?.(this.ctx);
        this.act({ kind: 'starting', protocol });
        return;
      case 'tlf':
        this.policy.finished?.(this.ctx);
        this.act({ kind: 'finished', protocol, reason: ec.reason ?? event });
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
        this.lastAckedId = ec.packet!.identifier;
        this.lastAckedData = toLatin1(ec.packet!.data);
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

  protected sendConfigureRequest(retransmit: boolean, from: FsmState): void {
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

  protected sendCodeReject(rejected: CpPacket): void {
    const whole = encodeCpPacket(rejected);
    // RFC 1661 §5.6: "The Rejected-Packet MUST be truncated to comply with the peer's established MRU."
    const room = Math.max(0, this.peerMru - 4);
    this.emit({ code: CpCode.CodeReject, identifier: this.freshId(), data: whole.subarray(0, room) });
  }

  protected startTimer(): void {
    this.timerRunning = true;
    this.act({ kind: 'startTimer', id: this.timerId, ms: this.config.restartMs });
  }

  protected freshId(): number {
    this.idCounter = (this.idCounter + 1) & 0xff;
    return this.idCounter;
  }

  protected emit(p: CpPacket): void {
    if (this.log.enabled('debug')) {
      this.log.log('debug', `sent ${this.codeName(p.code)}`, { id: p.identifier, hex: toHex(p.data, 32) });
    }
    this.act({ kind: 'send', frame: { protocol: this.policy.protocol, payload: encodeCpPacket(p) } });
  }

  protected setState(next: FsmState, reason: string): void {
    if (next !== this.stateValue) {
      this.log.log('debug', `${this.stateValue} → ${next}`, { reason });
    }
    this.stateValue = next;
  }

  protected codeName(code: number): string {
    return CODE_NAMES[code] ?? this.policy.codeName?.(code) ?? `code ${code}`;
  }

  /** Queues one action for the owner. */
  protected act(a: FsmAction<N>): void {
    if (this.out === undefined) this.out = [a];
    else this.out.push(a);
  }

  protected flush(): FsmAction<N>[] {
    const out = this.out;
    if (out === undefined) return [];
    this.out = undefined;
    return out;
  }
}
