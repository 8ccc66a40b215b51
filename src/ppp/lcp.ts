/**
 * The LCP option policy (RFC 1661 §6, RFC 1570, RFC 1662 §7.1) and the LCP
 * Echo keep-alive, plugged into the generic automaton of `fsm.ts` (pppd's
 * lcp.c callbacks).
 *
 * What we request: MRU when it differs from the default 1500, the
 * Authentication-Protocol we require of the peer (our preference order,
 * RFC 1661 §6.2), a random Magic-Number, PFC and ACFC.
 * What we accept from the peer: MRU ≥ 128, ACCM (acknowledged and ignored:
 * PPTP frames are not HDLC-escaped), an Authentication-Protocol we allow
 * ourselves to answer, a Magic-Number different from ours, PFC, ACFC.
 * Everything else is rejected.
 *
 * Extra codes (RFC 1661 §5.7–5.9, RFC 1570 §1): Protocol-Reject (handed to
 * the unit as a note), Echo-Request (answered with our Magic-Number),
 * Echo-Reply (keep-alive), Discard-Request, Identification and
 * Time-Remaining (accepted and reported).
 */

import { randomUint32 } from '../crypto/random.js';
import { put32 } from '../wire/bytes.js';
import type { CpOption, CpPacket } from '../wire/cp.js';
import { WireError } from '../wire/errors.js';
import {
  AUTH_METHODS,
  type AuthMethod,
  authMethodOf,
  authProtocolOption,
  decodeLcpOption,
  encodeLcpOption,
  LcpCode,
  type LcpOption,
  LcpOptionType,
  lcpPacketFromCp,
} from '../wire/lcp.js';
import { PppProtocol } from '../wire/ppp.js';
import { decodeNakOptions, decodeRequestOption } from './cp-options.js';
import type {
  CodeRejectVerdict,
  CpPolicy,
  ExtraCodeVerdict,
  PolicyContext,
  RequestVerdict,
} from './fsm-policy.js';
import { peerText } from './text.js';

/** Default MRU (RFC 1661 §6.1: "The default value is 1500 octets"). */
export const DEFAULT_MRU = 1500;
/** Smallest MRU we let a peer ask for (pppd MINMRU). */
export const MIN_MRU = 128;
/** Naks of our Magic-Number in a row that mean "looped back" (pppd DEFLOOPBACKFAIL). */
export const DEFAULT_MAX_LOOPBACK = 10;

/** LCP settings, named after pppd's options. */
export interface LcpConfig {
  /** pppd `mru`: the MRU we ask for; requested only when not 1500. */
  readonly mru: number;
  /** pppd `mtu`: never send more than this, whatever the peer's MRU. */
  readonly mtu: number;
  /** pppd `magic` / `nomagic`. */
  readonly magic: boolean;
  /** pppd `pcomp` / `nopcomp`: request and accept Protocol-Field-Compression. */
  readonly pfc: boolean;
  /** pppd `accomp` / `noaccomp`: request and accept Address-and-Control-Field-Compression. */
  readonly acfc: boolean;
  /**
   * Methods we require the peer to authenticate with, most preferred first
   * (pppd `require-mschap-v2`, `require-chap`...). Empty: we do not
   * authenticate the peer (pppd `noauth`).
   */
  readonly authenticate: readonly AuthMethod[];
  /**
   * Methods we agree to authenticate ourselves with, most preferred first:
   * every method not refused (pppd `refuse-pap`, `refuse-chap`,
   * `refuse-mschap`, `refuse-mschap-v2`). Empty: we reject the peer's
   * Authentication-Protocol.
   */
  readonly allowAuth: readonly AuthMethod[];
  /** Naks of our Magic-Number that mean the link is looped back. */
  readonly maxLoopback: number;
  /** Source of 32-bit random numbers (Magic-Number); injectable for tests. */
  readonly random: () => number;
}

/** Default LCP settings: pppd's, with MS-CHAPv2 as the only method either way (docs/architecture.md §6). */
export const DEFAULT_LCP_CONFIG: LcpConfig = {
  mru: DEFAULT_MRU,
  mtu: DEFAULT_MRU,
  magic: true,
  pfc: true,
  acfc: true,
  authenticate: [],
  allowAuth: ['mschap-v2'],
  maxLoopback: DEFAULT_MAX_LOOPBACK,
  random: randomUint32,
};

/** What LCP negotiated, frozen at This-Layer-Up. */
export interface LcpNegotiated {
  /** Largest Information field we may send: min(peer's MRU, our `mtu`). */
  readonly mtu: number;
  /** The MRU the peer agreed we can receive (1500 when not negotiated). */
  readonly mru: number;
  /** Our Magic-Number if the peer acknowledged it, else 0. */
  readonly ourMagic: number;
  /** The peer's Magic-Number if we acknowledged one, else 0. */
  readonly peerMagic: number;
  /** We may send compressed Protocol fields (the peer asked for PFC and we acked). */
  readonly txPfc: boolean;
  /** We may omit Address/Control (the peer asked for ACFC and we acked). */
  readonly txAcfc: boolean;
  /** The peer may send us compressed Protocol fields (we asked, it acked). */
  readonly rxPfc: boolean;
  /** The peer may omit Address/Control (we asked, it acked). */
  readonly rxAcfc: boolean;
  /** The method the peer must authenticate itself with (we asked, it acked). */
  readonly authPeerWith: AuthMethod | undefined;
  /** The method we must authenticate ourselves with (it asked, we acked). */
  readonly authSelfWith: AuthMethod | undefined;
}

/** What the LCP policy tells the unit. */
export type LcpNote =
  /** RFC 1661 §5.7: the peer does not speak `protocol`; stop sending it. */
  | { readonly kind: 'protocol-reject'; readonly protocol: number }
  /** An Echo-Reply to our Echo-Request (keep-alive). */
  | { readonly kind: 'echo-reply' }
  /** The peer Code-Rejected Echo-Request: stop the keep-alive. */
  | { readonly kind: 'echo-rejected' }
  /** Our own Magic-Number came back (RFC 1661 §6.4): the link is looped back. */
  | { readonly kind: 'loopback'; readonly detail: string }
  /** RFC 1570 §1.1 Identification. */
  | { readonly kind: 'identification'; readonly message: string }
  /** RFC 1570 §1.2 Time-Remaining. */
  | { readonly kind: 'time-remaining'; readonly seconds: number; readonly message: string }
  /** The peer demanded an authentication method we refuse (we Nak'd or Rejected it). */
  | { readonly kind: 'auth-refused'; readonly method: string };

/** Human name of an authentication method, as pppd prints it. */
export function authMethodName(m: AuthMethod | undefined): string {
  switch (m) {
    case 'pap':
      return 'PAP';
    case 'chap-md5':
      return 'CHAP';
    case 'mschap':
      return 'MS-CHAP';
    case 'mschap-v2':
      return 'MS-CHAP-v2';
    case undefined:
      return 'none';
  }
}

const EXTRA_CODE_NAMES: Readonly<Record<number, string>> = {
  [LcpCode.ProtocolReject]: 'Protocol-Reject',
  [LcpCode.EchoRequest]: 'Echo-Request',
  [LcpCode.EchoReply]: 'Echo-Reply',
  [LcpCode.DiscardRequest]: 'Discard-Request',
  [LcpCode.Identification]: 'Identification',
  [LcpCode.TimeRemaining]: 'Time-Remaining',
};

/** Our side of the negotiation (pppd `gotoptions`), reset at each new negotiation. */
interface OurSide {
  mru: number | undefined;
  authIndex: number;
  magic: number | undefined;
  pfc: boolean;
  acfc: boolean;
}

/** The peer's side (pppd `hisoptions`), recomputed from each Configure-Request. */
interface PeerSide {
  mru: number;
  magic: number;
  pfc: boolean;
  acfc: boolean;
  auth: AuthMethod | undefined;
}

/**
 * The LCP policy. One instance per link; it also builds Echo-Requests for
 * the keep-alive and remembers what was negotiated.
 */
export class LcpPolicy implements CpPolicy<LcpNote> {
  readonly name = 'lcp';
  readonly protocol = PppProtocol.Lcp;
  readonly config: LcpConfig;
  private ours: OurSide;
  private peer: PeerSide = { mru: DEFAULT_MRU, magic: 0, pfc: false, acfc: false, auth: undefined };
  /** What the peer acknowledged of our last request. */
  private acked: OurSide | undefined;
  /** Value we suggested in our last Nak of the peer's Magic-Number (RFC 1661 §6.4). */
  private lastNakMagic: number | undefined;
  private loopbackNaks = 0;
  private echoId = 0;
  private negotiatedValue: LcpNegotiated | undefined;

  constructor(config: Partial<LcpConfig> = {}) {
    this.config = { ...DEFAULT_LCP_CONFIG, ...config };
    // The Magic-Number is drawn by reset(), which the automaton calls before its first Configure-Request.
    this.ours = { ...this.initialOurs(false) };
  }

  /** What LCP negotiated, set at This-Layer-Up and cleared at This-Layer-Down. */
  get negotiated(): LcpNegotiated | undefined {
    return this.negotiatedValue;
  }

  private initialOurs(drawMagic = true): OurSide {
    return {
      mru: this.config.mru !== DEFAULT_MRU ? this.config.mru : undefined,
      authIndex: 0,
      magic: this.config.magic && drawMagic ? this.newMagic() : undefined,
      pfc: this.config.pfc,
      acfc: this.config.acfc,
    };
  }

  private newMagic(avoid?: number): number {
    // RFC 1661 §6.4: "A Magic-Number of zero is illegal".
    for (let i = 0; i < 16; i++) {
      const m = this.config.random() >>> 0;
      if (m !== 0 && m !== avoid) return m;
    }
    return avoid === 1 ? 2 : 1;
  }

  reset(): void {
    // Our side only: `lastNakMagic` records what *we* told the peer in our last Nak and stays valid.
    this.ours = this.initialOurs();
    this.acked = undefined;
    this.loopbackNaks = 0;
  }

  buildRequest(): CpOption[] {
    const o = this.ours;
    const req: LcpOption[] = [];
    if (o.mru !== undefined) req.push({ kind: 'mru', mru: o.mru });
    const auth = this.config.authenticate[o.authIndex];
    if (auth) req.push(authProtocolOption(auth));
    if (o.magic !== undefined) req.push({ kind: 'magic-number', magicNumber: o.magic });
    if (o.pfc) req.push({ kind: 'pfc' });
    if (o.acfc) req.push({ kind: 'acfc' });
    return req.map(encodeLcpOption);
  }

  onAck(): void {
    this.acked = { ...this.ours };
    this.loopbackNaks = 0;
  }

  onNak(options: readonly CpOption[], treatAsReject: boolean, ctx: PolicyContext<LcpNote>): boolean {
    const o = this.ours;
    const decoded = decodeNakOptions(options, decodeLcpOption);
    if (!decoded) return false;
    for (const opt of decoded) {
      switch (opt.kind) {
        case 'mru':
          // pppd lcp_nakci: take the peer's MRU if it is no larger than ours or the default.
          if (treatAsReject) o.mru = undefined;
          else if (opt.mru >= MIN_MRU && (opt.mru <= (o.mru ?? DEFAULT_MRU) || opt.mru <= DEFAULT_MRU)) {
            o.mru = opt.mru === DEFAULT_MRU ? undefined : opt.mru;
          }
          break;
        case 'authentication-protocol': {
          // RFC 1661 §6.2: "If that protocol is Configure-Nak'd, then the implementation SHOULD attempt the
          // next most desirable protocol in the next Configure-Request."
          const list = this.config.authenticate;
          if (o.authIndex >= list.length) break; // not something we asked for
          const suggested = authMethodOf(opt);
          const at = suggested ? list.indexOf(suggested) : -1;
          o.authIndex = !treatAsReject && at > o.authIndex ? at : o.authIndex + 1;
          ctx.log.log('info', `peer Nak'd authentication ${authMethodName(list[o.authIndex - 1])}`, {
            suggested: suggested ? authMethodName(suggested) : 'unknown',
            next: authMethodName(list[o.authIndex]),
          });
          break;
        }
        case 'magic-number': {
          if (o.magic === undefined) break;
          // RFC 1661 §6.4: "If the Magic-Number is equal to the one sent in the last Configure-Nak, the
          // possibility of a looped-back link is increased, and a new Magic-Number MUST be chosen." Counted
          // even past Max-Failure, or a looped link would never be recognised (pppd does the same).
          const looped = this.lastNakMagic !== undefined && opt.magicNumber === this.lastNakMagic;
          if (looped) {
            this.loopbackNaks++;
            if (this.loopbackNaks >= this.config.maxLoopback) {
              ctx.note({
                kind: 'loopback',
                detail: `our Configure-Nak of the Magic-Number came back ${this.loopbackNaks} times`,
              });
            }
          } else {
            this.loopbackNaks = 0;
          }
          if (treatAsReject && !looped) o.magic = undefined;
          else o.magic = this.newMagic(opt.magicNumber);
          break;
        }
        case 'pfc':
          // Boolean options cannot be Nak'd (RFC 1661 §5.3); treat it as a Reject (pppd does).
          o.pfc = false;
          break;
        case 'acfc':
          o.acfc = false;
          break;
        default:
          // An option we did not request, appended as a hint (RFC 1661 §5.3): nothing we want from it.
          break;
      }
    }
    return true;
  }

  onReject(options: readonly CpOption[]): boolean {
    const o = this.ours;
    for (const opt of options) {
      switch (opt.type) {
        case LcpOptionType.MaximumReceiveUnit:
          o.mru = undefined;
          break;
        case LcpOptionType.AuthenticationProtocol:
          // The peer will not authenticate at all: the unit ends the link if we require it.
          o.authIndex = this.config.authenticate.length;
          break;
        case LcpOptionType.MagicNumber:
          // RFC 1661 §6.4: "it can only mean that the link is not looped-back, and that its peer will not be
          // using Magic-Numbers. In this case, an implementation SHOULD act as if the negotiation had been
          // successful" — without a Magic-Number of our own.
          o.magic = undefined;
          break;
        case LcpOptionType.ProtocolFieldCompression:
          o.pfc = false;
          break;
        case LcpOptionType.AddressAndControlFieldCompression:
          o.acfc = false;
          break;
        default:
          return false;
      }
    }
    return true;
  }

  judgeRequest(
    options: readonly CpOption[],
    _rejectIfDisagree: boolean, // the automaton turns our Naks into Rejects past Max-Failure
    ctx: PolicyContext<LcpNote>,
  ): RequestVerdict {
    const peer: PeerSide = { mru: DEFAULT_MRU, magic: 0, pfc: false, acfc: false, auth: undefined };
    const nak: CpOption[] = [];
    const nakAlways: CpOption[] = [];
    const reject: CpOption[] = [];
    const seen = new Set<number>();
    for (const raw of options) {
      if (seen.has(raw.type)) {
        // RFC 1661 §6: "None of the Configuration Options in this specification can be listed more than once."
        reject.push(raw);
        continue;
      }
      seen.add(raw.type);
      // A bad Length is Rejected, like pppd (see decodeRequestOption).
      const opt = decodeRequestOption(raw, decodeLcpOption, reject, ctx);
      if (!opt) continue;
      switch (opt.kind) {
        case 'mru':
          if (opt.mru < MIN_MRU) nak.push(encodeLcpOption({ kind: 'mru', mru: MIN_MRU }));
          else peer.mru = opt.mru;
          break;
        case 'accm':
          // RFC 1662 §7.1 matters for async HDLC only; PPTP carries frames unescaped, so any map is fine.
          break;
        case 'authentication-protocol': {
          const allow = this.config.allowAuth;
          if (allow.length === 0) {
            ctx.note({ kind: 'auth-refused', method: describeAuthOption(opt) });
            reject.push(raw);
            break;
          }
          const m = authMethodOf(opt);
          if (m && allow.includes(m)) {
            peer.auth = m;
          } else {
            // RFC 1661 §5.3: Nak with a value acceptable to us: our most preferred method.
            ctx.note({ kind: 'auth-refused', method: describeAuthOption(opt) });
            nak.push(encodeLcpOption(authProtocolOption(allow[0]!)));
          }
          break;
        }
        case 'magic-number': {
          const ours = this.ours.magic;
          // Both Naks below survive Max-Failure (`nakAlways`): having sent a Magic-Number we "MUST NOT respond
          // with a Configure-Reject when it receives a Configure-Request with a Magic-Number" (RFC 1661 §6.4).
          if (opt.magicNumber === 0) {
            // RFC 1661 §6.4: "A Magic-Number of zero is illegal and MUST always be Nak'd".
            this.lastNakMagic = this.newMagic(ours);
            nakAlways.push(encodeLcpOption({ kind: 'magic-number', magicNumber: this.lastNakMagic }));
          } else if (ours !== undefined && opt.magicNumber === ours) {
            // RFC 1661 §6.4: "If the two Magic-Numbers are equal, then it is possible, but not certain, that the
            // link is looped-back ... a Configure-Nak MUST be sent specifying a different Magic-Number value."
            this.lastNakMagic = this.newMagic(ours);
            nakAlways.push(encodeLcpOption({ kind: 'magic-number', magicNumber: this.lastNakMagic }));
          } else {
            peer.magic = opt.magicNumber;
          }
          break;
        }
        case 'pfc':
          if (this.config.pfc) peer.pfc = true;
          else reject.push(raw);
          break;
        case 'acfc':
          if (this.config.acfc) peer.acfc = true;
          else reject.push(raw);
          break;
        case 'quality-protocol':
        case 'unknown':
          // RFC 1661 §5.4: options "not recognizable or ... not acceptable for negotiation" are rejected
          // (Quality-Protocol, Callback, Multilink, Endpoint-Discriminator...).
          reject.push(raw);
          break;
      }
    }
    this.peer = peer;
    return { nak, reject, nakAlways };
  }

  up(ctx: PolicyContext<LcpNote>): void {
    const acked = this.acked ?? this.ours;
    const peerMru = this.peer.mru;
    this.negotiatedValue = {
      mtu: Math.min(peerMru, this.config.mtu),
      mru: acked.mru ?? DEFAULT_MRU,
      ourMagic: acked.magic ?? 0,
      peerMagic: this.peer.magic,
      txPfc: this.peer.pfc,
      txAcfc: this.peer.acfc,
      rxPfc: acked.pfc,
      rxAcfc: acked.acfc,
      authPeerWith: this.config.authenticate[acked.authIndex],
      authSelfWith: this.peer.auth,
    };
    ctx.log.log('info', 'LCP up', {
      mtu: this.negotiatedValue.mtu,
      mru: this.negotiatedValue.mru,
      authPeer: authMethodName(this.negotiatedValue.authPeerWith),
      authSelf: authMethodName(this.negotiatedValue.authSelfWith),
      pfc: this.negotiatedValue.txPfc,
      acfc: this.negotiatedValue.txAcfc,
    });
  }

  down(): void {
    this.negotiatedValue = undefined;
  }

  /** Our Magic-Number for Echo/Discard packets: "Until the Magic-Number ... has been successfully negotiated, the Magic-Number MUST be transmitted as zero" (RFC 1661 §5.8). */
  private echoMagic(): number {
    return this.negotiatedValue?.ourMagic ?? 0;
  }

  /** An Echo-Request for the keep-alive (RFC 1661 §5.8), with a fresh Identifier. */
  echoRequest(): CpPacket {
    this.echoId = (this.echoId + 1) & 0xff;
    const data = new Uint8Array(4);
    // put32, not a DataView: a view makes V8 move the 4 bytes off the heap (a malloc, then a free).
    put32(data, 0, this.echoMagic());
    return { code: LcpCode.EchoRequest, identifier: this.echoId, data };
  }

  /**
   * A Protocol-Reject of `frame` (RFC 1661 §5.7): "The Rejected-Information
   * MUST be truncated to comply with the peer's established MRU."
   */
  protocolReject(protocol: number, information: Uint8Array, identifier: number): CpPacket {
    const peerMru = this.peer.mru;
    const room = Math.max(0, Math.min(information.length, peerMru - 6));
    const data = new Uint8Array(2 + room);
    data[0] = (protocol >>> 8) & 0xff;
    data[1] = protocol & 0xff;
    data.set(information.subarray(0, room), 2);
    return { code: LcpCode.ProtocolReject, identifier, data };
  }

  extraCode(packet: CpPacket, ctx: PolicyContext<LcpNote>): ExtraCodeVerdict {
    if (!(packet.code in EXTRA_CODE_NAMES)) return { event: 'RUC' };
    let p: ReturnType<typeof lcpPacketFromCp>;
    try {
      p = lcpPacketFromCp(packet);
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      // RFC 1661 §5: an invalid packet "is silently discarded without affecting the automaton".
      ctx.log.log('debug', `malformed ${EXTRA_CODE_NAMES[packet.code]} discarded`, { error: e.message });
      return { event: 'handled' };
    }
    const opened = ctx.state === 'Opened';
    const ourMagic = this.echoMagic();
    switch (p.kind) {
      case 'protocol-reject':
        // RFC 1661 §5.7: "Protocol-Reject packets received in any state other than the LCP Opened state
        // SHOULD be silently discarded."
        if (!opened) return { event: 'handled' };
        // "a Protocol-Reject of LCP!" is catastrophic (RFC 1661 §4.3); of anything else, RXJ+.
        if (p.rejectedProtocol === PppProtocol.Lcp) return { event: 'RXJ-' };
        ctx.note({ kind: 'protocol-reject', protocol: p.rejectedProtocol });
        return { event: 'RXJ+' };
      case 'echo-request': {
        if (opened && ourMagic !== 0 && p.magicNumber === ourMagic) {
          // RFC 1661 §6.4: "Reception of a Magic-Number field equal to the negotiated local Magic-Number
          // indicates a looped-back link."
          ctx.note({ kind: 'loopback', detail: 'received an Echo-Request carrying our own Magic-Number' });
          return { event: 'handled' };
        }
        const data = new Uint8Array(4 + p.data.length);
        put32(data, 0, ourMagic);
        data.set(p.data, 4);
        // RFC 1661 §5.8: "the Identifier field of the Echo-Request is copied into the Identifier field of the
        // Echo-Reply packet"; the reply carries *our* Magic-Number.
        return { event: 'RXR', reply: { code: LcpCode.EchoReply, identifier: p.identifier, data } };
      }
      case 'echo-reply':
        if (opened) {
          if (ourMagic !== 0 && p.magicNumber === ourMagic) {
            // pppd: "appear to have received our own echo-reply!" — not proof the peer is alive.
            ctx.log.log('warn', 'Echo-Reply carries our own Magic-Number: ignored');
          } else {
            ctx.note({ kind: 'echo-reply' });
          }
        }
        return { event: 'RXR' };
      case 'discard-request':
        // RFC 1661 §5.9: "the receiver MUST silently discard any Discard-Request that it receives."
        return { event: 'RXR' };
      case 'identification': {
        // RFC 1570 §1.1: "There is no response to the Identification packet."
        const message = peerText(p.message);
        ctx.log.log('info', 'peer identification', { message });
        ctx.note({ kind: 'identification', message });
        return { event: 'handled' };
      }
      case 'time-remaining': {
        const message = peerText(p.message);
        ctx.log.log('info', 'peer time remaining', { seconds: p.secondsRemaining, message });
        ctx.note({ kind: 'time-remaining', seconds: p.secondsRemaining, message });
        return { event: 'handled' };
      }
      default:
        return { event: 'RUC' };
    }
  }

  onCodeReject(code: number, ctx: PolicyContext<LcpNote>): CodeRejectVerdict {
    if (code === LcpCode.EchoRequest) ctx.note({ kind: 'echo-rejected' });
    // Codes 8–13 are LCP extensions: losing them is not fatal (RXJ+). We send no other.
    return code >= LcpCode.ProtocolReject && code <= LcpCode.TimeRemaining ? 'acceptable' : 'never-sent';
  }

  codeName(code: number): string | undefined {
    return EXTRA_CODE_NAMES[code];
  }
}

function describeAuthOption(o: LcpOption): string {
  if (o.kind !== 'authentication-protocol') return 'unknown';
  const m = authMethodOf(o);
  if (m) return authMethodName(m);
  return `protocol 0x${o.protocol.toString(16)}${o.data.length ? ` algorithm 0x${o.data[0]!.toString(16)}` : ''}`;
}

/**
 * The pppd option names for authentication, turned into the two lists the
 * policy works with. `require*` build {@link LcpConfig.authenticate} (in
 * our order of strength); `refuse*` remove methods from
 * {@link LcpConfig.allowAuth}.
 */
export interface AuthOptions {
  /**
   * pppd `require-pap` / `require-chap` / `require-mschap` /
   * `require-mschap-v2`: methods we demand of the peer. When none is set
   * and a secrets lookup is given, `require-mschap-v2` is implied.
   */
  readonly requirePap?: boolean;
  readonly requireChap?: boolean;
  readonly requireMschap?: boolean;
  readonly requireMschapV2?: boolean;
  /**
   * pppd `refuse-*`: methods we will not authenticate ourselves with.
   * Default: PAP, CHAP and MS-CHAP refused (only MS-CHAP-v2 allowed).
   */
  readonly refusePap?: boolean;
  readonly refuseChap?: boolean;
  readonly refuseMschap?: boolean;
  readonly refuseMschapV2?: boolean;
}

/** Turns pppd-style require/refuse flags into `authenticate` and `allowAuth` lists (strongest first). */
export function authListsFrom(o: AuthOptions): { authenticate: AuthMethod[]; allowAuth: AuthMethod[] } {
  const required: Record<AuthMethod, boolean | undefined> = {
    'mschap-v2': o.requireMschapV2,
    mschap: o.requireMschap,
    'chap-md5': o.requireChap,
    pap: o.requirePap,
  };
  const refused: Record<AuthMethod, boolean | undefined> = {
    'mschap-v2': o.refuseMschapV2,
    mschap: o.refuseMschap,
    'chap-md5': o.refuseChap,
    pap: o.refusePap,
  };
  return {
    authenticate: AUTH_METHODS.filter((m) => required[m]),
    allowAuth: AUTH_METHODS.filter((m) => !refused[m]),
  };
}

/**
 * pppd's LCP echo keep-alive (`lcp-echo-interval`, `lcp-echo-failure`,
 * `lcp-echo-adaptive`), sans-IO: the unit calls {@link tick} every interval
 * and does what it answers.
 *
 * pppd: before sending, if `lcp-echo-failure` requests are already
 * outstanding the peer is declared dead ("No response to N echo-requests");
 * any Echo-Reply clears the count. Adaptive: while traffic arrives from the
 * peer no Echo-Request is sent, and (our addition) the count is cleared,
 * since that traffic proves the peer alive.
 */
export class LcpKeepalive {
  private pending = 0;
  constructor(
    readonly intervalMs: number,
    readonly failures: number,
    readonly adaptive: boolean,
  ) {}

  /** Whether the keep-alive runs at all (pppd: interval 0 disables it). */
  get enabled(): boolean {
    return this.intervalMs > 0;
  }

  /** Echo-Requests sent without a reply. */
  get outstanding(): number {
    return this.pending;
  }

  /** One interval elapsed; `trafficSeen` says whether anything arrived from the peer during it. */
  tick(trafficSeen: boolean): 'send' | 'skip' | 'dead' {
    if (this.adaptive && trafficSeen) {
      this.pending = 0;
      return 'skip';
    }
    if (this.failures > 0 && this.pending >= this.failures) return 'dead';
    this.pending++;
    return 'send';
  }

  /** An Echo-Reply arrived. */
  replied(): void {
    this.pending = 0;
  }

  reset(): void {
    this.pending = 0;
  }
}
