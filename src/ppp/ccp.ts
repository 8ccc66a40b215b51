/**
 * The CCP option policy (RFC 1962) for MPPE (RFC 3078 §2), plugged into the
 * generic automaton of `fsm.ts` (pppd's ccp.c callbacks, MPPE part).
 *
 * Direction: "Configuration Options, in this protocol, indicate algorithms
 * that the receiver is willing or able to use to decompress data sent by
 * the sender" (RFC 1962 §4). Our Configure-Request therefore sets how we
 * *receive* (decrypt); the peer's request, once we ack it, sets how we
 * *transmit* (encrypt).
 *
 * Negotiation (RFC 3078 §2.1): "the negotiation initiator SHOULD request all
 * of the options it supports. The responder SHOULD NAK with a single
 * encryption option ... the option selected SHOULD be the 'strongest'
 * option offered." We request every key length we allow; we answer the
 * peer's request with a Nak carrying the strongest common one.
 *
 * Stateless or stateful (the H bit, RFC 3078 §2: "If the 'H' bit is set
 * ... this indicates that the sender wishes to negotiate the use of
 * stateless mode"). Each direction is negotiated on its own, like every CCP
 * option, and the mode we prefer is asked for in both:
 *
 *  - Preferring stateful (`mppe-stateful`): our request has H clear, and a
 *    peer request with H set is Configure-Nak'd once with the same key
 *    length and H clear. pppd with `mppe-stateful` always requests stateless
 *    first and takes exactly that Nak (its ccp_nakci accepts a Nak that only
 *    adds stateful), so both directions end up stateful. A peer that asks
 *    for stateless again after our Nak insists: we accept stateless for that
 *    direction (logged) instead of Nak-ing up to Max-Failure.
 *  - Preferring stateless (the default): our request has H set, and a peer
 *    request with H clear is Configure-Nak'd once with H set (RFC 1962 §4:
 *    a recognized option with an unacceptable value is Nak'd; pppd without
 *    `mppe-stateful` Configure-Rejects it instead, "Refusing MPPE stateful
 *    mode offered by peer"). A peer that asks for stateful again after our
 *    Nak insists: we Configure-Reject option 18 (our transmit side stays
 *    unencrypted, which "MPPE required" reports as a refusal) rather than
 *    Nak up to Max-Failure. A peer that Naks *our* stateless request with H
 *    clear is asked for stateless again (not followed); after Max-Failure
 *    Naks we give up as for any other Nak.
 *
 * When the peer agrees, both directions therefore have the same mode. When
 * it does not (it acks our stateful request but insists on stateless for
 * its own, say), the directions differ, which RFC 3078 allows: the unit
 * builds the encryptor from `tx` and the decryptor from `rx`.
 *
 * Other compressors (Deflate, BSD-Compress, Predictor, MPPC's C bit...) are
 * rejected or Nak'd away: this stack encrypts, it never compresses.
 * "MPPE required" (pppd `require-mppe*`) ends the link when the peer will
 * not encrypt: RFC 3078 §2 "If, however, MPPE negotiation is attempted and
 * fails, the link SHOULD be terminated."
 */

import { CcpCode, CcpOptionType, decodeCcpOption, encodeCcpOption, type MppeOption } from '../wire/ccp.js';
import type { CpOption, CpPacket } from '../wire/cp.js';
import { WireError } from '../wire/errors.js';
import { PppProtocol } from '../wire/ppp.js';
import { decodeRequestOption } from './cp-options.js';
import type {
  CodeRejectVerdict,
  CpPolicy,
  ExtraCodeVerdict,
  PolicyContext,
  RequestVerdict,
} from './fsm-policy.js';

/** MPPE session key length in bits (RFC 3078 §2: L, M, S). */
export type MppeKeyBits = 40 | 56 | 128;

/** The strength order of RFC 3078 §2.1, strongest first. */
export const MPPE_STRENGTH: readonly MppeKeyBits[] = [128, 56, 40];

/** One direction of MPPE as negotiated. */
export interface MppeParams {
  readonly keyBits: MppeKeyBits;
  /** RFC 3078 §7.1: rekey after every packet (H bit). Otherwise stateful (§7.2). */
  readonly stateless: boolean;
}

/** CCP settings, named after pppd's options. */
export interface CcpConfig {
  /** Key lengths we allow (pppd `require-mppe-40`, `require-mppe-128`, `nomppe-40`...). Empty: no MPPE. */
  readonly keyBits: readonly MppeKeyBits[];
  /** pppd `require-mppe`: the link fails unless both directions are encrypted. */
  readonly required: boolean;
  /**
   * pppd `mppe-stateful`: prefer stateful mode. Unlike pppd (which still
   * proposes stateless first, so two pppd's never end up stateful), we then
   * *request* stateful and Nak a stateless request once with H clear,
   * accepting stateless where the peer insists. Without it we request
   * stateless, Nak a stateful request once and reject option 18 if the
   * peer insists (see the module comment).
   */
  readonly stateful: boolean;
}

export const DEFAULT_CCP_CONFIG: CcpConfig = { keyBits: [128], required: true, stateful: false };

/** What CCP negotiated, frozen at This-Layer-Up. */
export interface CcpNegotiated {
  /** How we decrypt what the peer sends (our request, acked). */
  readonly rx: MppeParams | undefined;
  /** How we encrypt what we send (the peer's request, acked). */
  readonly tx: MppeParams | undefined;
}

/** What the CCP policy tells the unit. */
export type CcpNote =
  /** MPPE was required and the peer will not encrypt (or not the way we allow). */
  | { readonly kind: 'mppe-refused'; readonly reason: string }
  /** RFC 1962 §3.1 Reset-Request from the peer: reset our transmitter (MPPE: flush, RFC 3078 §8.2). */
  | { readonly kind: 'reset-request'; readonly identifier: number }
  /** RFC 1962 §3.1 Reset-Ack from the peer. */
  | { readonly kind: 'reset-ack'; readonly identifier: number };

const NO_BITS: MppeOption = {
  kind: 'mppe',
  mppc: false,
  obsoleteD: false,
  key40: false,
  key128: false,
  key56: false,
  stateless: false,
  otherBits: 0,
};

function hasKey(o: MppeOption, k: MppeKeyBits): boolean {
  return k === 128 ? o.key128 : k === 56 ? o.key56 : o.key40;
}

/** The key lengths set in an option, strongest first. */
export function keyBitsOf(o: MppeOption): MppeKeyBits[] {
  return MPPE_STRENGTH.filter((k) => hasKey(o, k));
}

/** An option 18 value asking for exactly these key lengths and mode. */
export function mppeOption(keys: readonly MppeKeyBits[], stateless: boolean): MppeOption {
  return {
    ...NO_BITS,
    key40: keys.includes(40),
    key56: keys.includes(56),
    key128: keys.includes(128),
    stateless,
  };
}

/** Human form of an option 18 value, e.g. `MPPE-128 stateless` or `MPPC`. */
export function describeMppe(o: MppeOption): string {
  const keys = keyBitsOf(o);
  const parts = keys.length ? [`MPPE-${keys.join('/')}`] : ['no encryption'];
  parts.push(o.stateless ? 'stateless' : 'stateful');
  if (o.mppc) parts.push('+MPPC');
  if (o.obsoleteD) parts.push('+D');
  return parts.join(' ');
}

/** The CCP policy. */
export class CcpPolicy implements CpPolicy<CcpNote> {
  readonly name = 'ccp';
  readonly protocol = PppProtocol.Ccp;
  readonly config: CcpConfig;
  /** Our request (our receive side); undefined when the peer rejected option 18 or we gave up on it. */
  private ours: MppeOption | undefined;
  /** The peer's request as we last judged acceptable (our transmit side). */
  private peerAccepted: MppeOption | undefined;
  /** We appended option 18 to a Nak to prompt a peer that asked for no MPPE (once per negotiation). */
  private hinted = false;
  /**
   * The mode our last Nak of the peer's option 18 asked for, when that Nak
   * changed the peer's mode (the H bit); undefined when we have not Nak'd
   * its mode in this negotiation. A next request that keeps the mode we
   * Nak'd away means the peer insists.
   */
  private modeNak: 'stateful' | 'stateless' | undefined;
  private negotiatedValue: CcpNegotiated | undefined;

  constructor(config: Partial<CcpConfig> = {}) {
    this.config = { ...DEFAULT_CCP_CONFIG, ...config };
    this.ours = this.initialOurs();
  }

  /** Whether MPPE is enabled at all (some key length allowed). */
  get enabled(): boolean {
    return this.config.keyBits.length > 0;
  }

  get negotiated(): CcpNegotiated | undefined {
    return this.negotiatedValue;
  }

  private allowed(): MppeKeyBits[] {
    return MPPE_STRENGTH.filter((k) => this.config.keyBits.includes(k));
  }

  private initialOurs(): MppeOption | undefined {
    const keys = this.allowed();
    return keys.length ? mppeOption(keys, !this.config.stateful) : undefined;
  }

  reset(ctx: PolicyContext<CcpNote>): void {
    // Our side only (the CpPolicy contract): `peerAccepted` belongs to the judge, which may already have
    // run for the Configure-Request that started this negotiation.
    this.ours = this.initialOurs();
    // What we remember of the peer's requests (one prompting Nak, one mode Nak) lasts one negotiation. A
    // reset in Stopped or Opened comes from the peer's Configure-Request (irc/tld, scr, sca/scn): the judge
    // has just run for it, and what it noted belongs to the negotiation that request starts. Starting (Up)
    // and Closed (Open) start one with no request judged yet.
    if (ctx.state !== 'Stopped' && ctx.state !== 'Opened') this.forgetPeerRequests();
  }

  private forgetPeerRequests(): void {
    this.hinted = false;
    this.modeNak = undefined;
  }

  buildRequest(): CpOption[] {
    return this.ours ? [encodeCcpOption(this.ours)] : [];
  }

  onAck(): void {}

  private refuse(ctx: PolicyContext<CcpNote>, reason: string): void {
    if (this.config.required) ctx.note({ kind: 'mppe-refused', reason });
    else ctx.log.log('info', `MPPE not negotiated: ${reason}`);
    this.ours = undefined;
  }

  onNak(options: readonly CpOption[], treatAsReject: boolean, ctx: PolicyContext<CcpNote>): boolean {
    for (const raw of options) {
      if (raw.type !== CcpOptionType.MicrosoftPpc) continue; // hints for compressors we do not do
      let o: MppeOption;
      try {
        const d = decodeCcpOption(raw);
        if (d.kind !== 'mppe') continue;
        o = d;
      } catch (e) {
        if (e instanceof WireError) return false;
        throw e;
      }
      if (!this.ours) continue;
      if (treatAsReject) {
        this.refuse(ctx, 'the peer keeps Nak-ing our MPPE request');
        continue;
      }
      // The responder picks one strength (RFC 3078 §2.1); "The initiator SHOULD then either send another
      // request containing the same option(s) as the responder's NAK or cancel the negotiation".
      const keys = keyBitsOf(o).filter((k) => this.config.keyBits.includes(k));
      if (keys.length === 0) {
        this.refuse(ctx, `the peer offers ${describeMppe(o)}, we allow MPPE-${this.allowed().join('/')}`);
        continue;
      }
      let stateless = o.stateless;
      if (!o.stateless && !this.config.stateful) {
        // The peer would have us receive stateful; without mppe-stateful we ask for stateless again (pppd
        // gives up here, "Refusing MPPE stateful mode offered by peer"). A peer that insists keeps Nak-ing,
        // and after Max-Failure Naks `treatAsReject` above ends it.
        ctx.log.log(
          'info',
          `the peer proposes ${describeMppe(o)} for our receive side; mppe-stateful is off: asking for stateless again`,
        );
        stateless = true;
      }
      this.ours = mppeOption([keys[0]!], stateless);
    }
    return true;
  }

  onReject(options: readonly CpOption[], ctx: PolicyContext<CcpNote>): boolean {
    for (const o of options) {
      if (o.type === CcpOptionType.MicrosoftPpc) this.refuse(ctx, 'the peer rejected MPPE');
      else return false;
    }
    return true;
  }

  judgeRequest(
    options: readonly CpOption[],
    rejectIfDisagree: boolean,
    ctx: PolicyContext<CcpNote>,
  ): RequestVerdict {
    const nak: CpOption[] = [];
    const reject: CpOption[] = [];
    let accepted: MppeOption | undefined;
    let sawMppe = false;
    const modeNakBefore = this.modeNak;
    const allowed = this.allowed();
    for (const raw of options) {
      if (raw.type !== CcpOptionType.MicrosoftPpc || sawMppe || allowed.length === 0) {
        // RFC 1962 §4: "If an option is unrecognized, a Configure-Reject MUST be sent." Deflate, BSD-Compress,
        // Predictor, Stac...: we do not compress.
        reject.push(raw);
        continue;
      }
      sawMppe = true;
      const o = decodeRequestOption(raw, decodeCcpOption, reject, ctx);
      if (!o) continue;
      if (o.kind !== 'mppe') throw new Error('unreachable');
      const common = keyBitsOf(o).filter((k) => allowed.includes(k));
      // The strongest common key length; with none (including option 18 with every bit off, which some
      // peers send), offer our strongest so the peer can choose and confirm.
      const pick = common[0] ?? allowed[0]!;
      const mode = this.judgeMode(o, modeNakBefore, ctx);
      if (mode === 'reject') {
        reject.push(raw);
        continue;
      }
      const stateless = mode === 'stateless';
      const want = mppeOption([pick], stateless);
      const exact =
        keyBitsOf(o).length === 1 &&
        common.length === 1 &&
        !o.mppc &&
        !o.obsoleteD &&
        o.otherBits === 0 &&
        o.stateless === stateless;
      if (exact) {
        accepted = o;
        // The peer's side is settled: forget our Naks (a later renegotiation starts afresh).
        this.modeNak = undefined;
      } else {
        // Remember when this Nak changes the peer's mode, so that a request keeping it shows the peer insists.
        this.modeNak = o.stateless !== stateless ? (stateless ? 'stateless' : 'stateful') : this.modeNak;
        // RFC 1962 §4: "If an option is recognized, but not acceptable due to values in the request ... a
        // Configure-NAK MUST be sent with the option modified appropriately." RFC 3078 §2.2.1: the D bit
        // "SHOULD NOT be accepted"; reserved bits "MUST be set to 0"; we do not do MPPC (C).
        if (common.length === 0) {
          ctx.log.log('info', `peer asked for ${describeMppe(o)}: Nak with ${describeMppe(want)}`);
        }
        nak.push(encodeCcpOption(want));
      }
    }
    if (!sawMppe && this.config.required && allowed.length > 0) {
      if (!this.hinted && !rejectIfDisagree) {
        // RFC 1661 §5.3: a desired option "MAY be appended to the list of Nak'd Configuration Options, in
        // order to prompt the peer to include that option in its next Configure-Request".
        this.hinted = true;
        nak.push(encodeCcpOption(mppeOption([allowed[0]!], !this.config.stateful)));
      } else {
        ctx.note({ kind: 'mppe-refused', reason: 'the peer does not ask for MPPE on its receive side' });
      }
    }
    this.peerAccepted = accepted;
    return { nak, reject };
  }

  /**
   * The mode we accept or Nak for the peer's option 18 (its receive side, our transmit side), or 'reject'
   * when it insists on stateful without mppe-stateful. `modeNak` is what our previous Nak in this
   * negotiation asked for, if it changed the peer's mode.
   */
  private judgeMode(
    o: MppeOption,
    modeNak: 'stateful' | 'stateless' | undefined,
    ctx: PolicyContext<CcpNote>,
  ): 'stateful' | 'stateless' | 'reject' {
    if (this.config.stateful) {
      if (!o.stateless) return 'stateful';
      if (modeNak === 'stateful') {
        // We Nak'd this peer's H bit away and it asks for stateless again: RFC 3078 §2 lets each sender
        // "negotiate the use of stateless mode", so we take it for this direction rather than loop.
        ctx.log.log(
          'info',
          'the peer insists on stateless MPPE after our Nak: stateless for our transmit side',
        );
        return 'stateless';
      }
      // pppd with mppe-stateful requests stateless (H set) but takes a Nak clearing H.
      return 'stateful';
    }
    if (o.stateless) return 'stateless';
    if (modeNak === 'stateless') {
      // We Nak'd it to stateless once; it insists on stateful, which mppe-stateful (off) does not allow.
      // RFC 1661 §5.4: options "not acceptable for negotiation (as configured by a network administrator)"
      // get a Configure-Reject. Reject option 18 now, as pppd does at once ("Refusing MPPE stateful mode
      // offered by peer"), instead of Nak-ing up to Max-Failure.
      const reason = 'the peer insists on stateful MPPE and mppe-stateful is off';
      if (this.config.required) ctx.note({ kind: 'mppe-refused', reason });
      else ctx.log.log('info', `${reason}: MPPE rejected for our transmit side`);
      return 'reject';
    }
    return 'stateless';
  }

  up(ctx: PolicyContext<CcpNote>): void {
    const rxKeys = this.ours ? keyBitsOf(this.ours) : [];
    const rx: MppeParams | undefined =
      this.ours && rxKeys.length === 1 ? { keyBits: rxKeys[0]!, stateless: this.ours.stateless } : undefined;
    const txKeys = this.peerAccepted ? keyBitsOf(this.peerAccepted) : [];
    const tx: MppeParams | undefined =
      this.peerAccepted && txKeys.length === 1
        ? { keyBits: txKeys[0]!, stateless: this.peerAccepted.stateless }
        : undefined;
    this.negotiatedValue = { rx, tx };
    ctx.log.log('info', 'CCP up', {
      rx: rx ? `MPPE-${rx.keyBits} ${rx.stateless ? 'stateless' : 'stateful'}` : 'none',
      tx: tx ? `MPPE-${tx.keyBits} ${tx.stateless ? 'stateless' : 'stateful'}` : 'none',
    });
    if (this.config.required && (!rx || !tx)) {
      ctx.note({
        kind: 'mppe-refused',
        reason: `MPPE required but not negotiated for ${!rx && !tx ? 'either direction' : !rx ? 'receive' : 'transmit'}`,
      });
    } else if (rx && tx && rx.keyBits !== tx.keyBits) {
      ctx.note({
        kind: 'mppe-refused',
        reason: `MPPE negotiated ${rx.keyBits}-bit keys to receive but ${tx.keyBits}-bit to send`,
      });
    }
  }

  down(): void {
    this.negotiatedValue = undefined;
  }

  finished(): void {
    // This-Layer-Finished ends the negotiation: a new one starts without memory of the peer's requests.
    this.forgetPeerRequests();
  }

  /** A Reset-Request (RFC 1962 §3.1; RFC 3078 §8.2 "send a CCP Reset-Request packet without data"). */
  resetRequest(identifier: number): CpPacket {
    return { code: CcpCode.ResetRequest, identifier, data: new Uint8Array(0) };
  }

  extraCode(packet: CpPacket, ctx: PolicyContext<CcpNote>): ExtraCodeVerdict {
    switch (packet.code) {
      case CcpCode.ResetRequest:
        if (ctx.state === 'Opened') {
          ctx.note({ kind: 'reset-request', identifier: packet.identifier });
          // RFC 1962 §3.1: "A CCP packet MUST be transmitted with the Code field set to 15 (Reset-Ack), the
          // Identifier field copied from the Reset-Request packet". (RFC 3078 §8.2 needs no Reset-Ack for
          // MPPE; pppd sends one anyway, and so do we.)
          ctx.send({ code: CcpCode.ResetAck, identifier: packet.identifier, data: new Uint8Array(0) });
        }
        return { event: 'handled' };
      case CcpCode.ResetAck:
        if (ctx.state === 'Opened') ctx.note({ kind: 'reset-ack', identifier: packet.identifier });
        return { event: 'handled' };
      default:
        return { event: 'RUC' };
    }
  }

  onCodeReject(code: number): CodeRejectVerdict {
    return code === CcpCode.ResetRequest || code === CcpCode.ResetAck ? 'acceptable' : 'never-sent';
  }

  codeName(code: number): string | undefined {
    return code === CcpCode.ResetRequest
      ? 'Reset-Request'
      : code === CcpCode.ResetAck
        ? 'Reset-Ack'
        : undefined;
  }
}
