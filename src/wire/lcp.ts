/**
 * Link Control Protocol packets and Configuration Options (RFC 1661 §5–6,
 * RFC 1570 §1, RFC 1662 §7.1), built on the generic control-protocol codec
 * in `cp.ts`.
 *
 * Two levels, as everywhere in `wire/`:
 *  - packets: {@link decodeLcpPacket} / {@link encodeLcpPacket} /
 *    {@link lcpPacketLength} over a typed {@link LcpPacket} union
 *    (discriminated by `kind`). Configure-* packets keep their options raw
 *    ({@link CpOption}), so Configure-Reject can echo an option byte for
 *    byte (RFC 1661 §5.4) and one malformed option value does not make the
 *    whole packet undecodable.
 *  - option values: {@link decodeLcpOption} turns one raw option into a
 *    typed {@link LcpOption}; {@link encodeLcpOption} goes back. Unknown
 *    types decode to `{kind: 'unknown'}`. A Length that is wrong for a known
 *    type throws {@link OptionLengthError} (a {@link WireError}), which the
 *    automaton answers with Configure-Nak or Configure-Reject.
 *
 * The shared packet shapes (Configure-*, Terminate-*, Code-Reject, unknown
 * codes) and the option Length checks live in `ncp.ts`, because IPCP,
 * IPv6CP and CCP use "exactly the same packet exchange mechanism as the
 * Link Control Protocol" (RFC 1332 §2) with codes 1–7 only; this file
 * re-exports them, so LCP's whole vocabulary is importable from here.
 *
 * Ownership: every `Uint8Array` in a decoded value is a `subarray` view into
 * the input. Copy it to keep it past the call.
 */

import { put16, put32, u16, u32 } from './bytes.js';
import {
  CP_HEADER_LENGTH,
  CpCode,
  type CpOption,
  type CpPacket,
  codeOfKind,
  decodeCpPacket,
  protocolOptionData,
  typeOfKind,
} from './cp.js';
import { WireError, WireErrorCode } from './errors.js';
import {
  beginCpPacket,
  decodeNcpCommon,
  expectOptionLength,
  expectOptionMinLength,
  NCP_CODES,
  type NcpPacket,
  ncpCommonDataLength,
  writeNcpCommonData,
} from './ncp.js';
import { PppProtocol } from './ppp.js';

export * from './ncp.js';

// ─── Codes ──────────────────────────────────────────────────────────────────

/** LCP Code field values (RFC 1661 §5, RFC 1570 §1): the shared codes 1–7, then LCP's own. */
export const LcpCode = {
  ...CpCode,
  /** RFC 1661 §5.7 */
  ProtocolReject: 8,
  /** RFC 1661 §5.8 */
  EchoRequest: 9,
  /** RFC 1661 §5.8 */
  EchoReply: 10,
  /** RFC 1661 §5.9 */
  DiscardRequest: 11,
  /** RFC 1570 §1.1 */
  Identification: 12,
  /** RFC 1570 §1.2 */
  TimeRemaining: 13,
} as const;
/** One of the {@link LcpCode} values. */
export type LcpCode = (typeof LcpCode)[keyof typeof LcpCode];

// ─── LCP-only packets ───────────────────────────────────────────────────────

/**
 * Protocol-Reject (RFC 1661 §5.7).
 * ```
 * |     Code      |  Identifier   |            Length             |
 * |       Rejected-Protocol       |      Rejected-Information ...
 * ```
 */
export interface ProtocolRejectPacket {
  readonly kind: 'protocol-reject';
  readonly identifier: number;
  /** "the PPP Protocol field of the packet which is being rejected" */
  readonly rejectedProtocol: number;
  /** "a copy of the packet which is being rejected", truncated to the MRU. */
  readonly rejectedInformation: Uint8Array;
}

/**
 * Echo-Request, Echo-Reply (RFC 1661 §5.8) and Discard-Request (§5.9).
 * ```
 * |     Code      |  Identifier   |            Length             |
 * |                         Magic-Number                          |
 * |    Data ...
 * ```
 */
export interface EchoPacket {
  readonly kind: 'echo-request' | 'echo-reply' | 'discard-request';
  readonly identifier: number;
  /** "Until the Magic-Number Configuration Option has been successfully negotiated, the Magic-Number MUST be transmitted as zero." */
  readonly magicNumber: number;
  /** "zero or more octets ... uninterpreted data for use by the sender" */
  readonly data: Uint8Array;
}

/**
 * Identification (RFC 1570 §1.1): Magic-Number then a human-readable
 * Message. "There is no response to the Identification packet."
 */
export interface IdentificationPacket {
  readonly kind: 'identification';
  readonly identifier: number;
  readonly magicNumber: number;
  readonly message: Uint8Array;
}

/**
 * Time-Remaining (RFC 1570 §1.2): Magic-Number, Seconds-Remaining
 * (0xffffffff = "forever"), Message.
 */
export interface TimeRemainingPacket {
  readonly kind: 'time-remaining';
  readonly identifier: number;
  readonly magicNumber: number;
  readonly secondsRemaining: number;
  readonly message: Uint8Array;
}

/** Every LCP packet. Switch on `kind`. */
export type LcpPacket =
  | NcpPacket
  | ProtocolRejectPacket
  | EchoPacket
  | IdentificationPacket
  | TimeRemainingPacket;

/** Offsets inside the Data field of the LCP-only codes (after the 4-byte header). */
export const LCP_DATA_FIELD = {
  /** Protocol-Reject: Rejected-Protocol (2 bytes), then Rejected-Information. */
  REJECTED_PROTOCOL: 0,
  REJECTED_INFORMATION: 2,
  /** Echo/Discard/Identification/Time-Remaining: Magic-Number (4 bytes). */
  MAGIC_NUMBER: 0,
  /** Echo/Discard data, Identification message. */
  AFTER_MAGIC: 4,
  /** Time-Remaining: Seconds-Remaining (4 bytes), then the Message. */
  SECONDS_REMAINING: 4,
  TIME_REMAINING_MESSAGE: 8,
} as const;

/**
 * Interprets a decoded control packet as LCP. Throws {@link WireError} when
 * the Data is too short for its Code or a Configure-* option list is
 * malformed. Unknown codes become `{kind: 'unknown'}`.
 */
export function lcpPacketFromCp(p: CpPacket): LcpPacket {
  const common = decodeNcpCommon(p);
  if (common) return common;
  const { identifier, data } = p;
  switch (p.code) {
    case LcpCode.ProtocolReject:
      if (data.length < 2) {
        throw new WireError(
          WireErrorCode.Truncated,
          `LCP Protocol-Reject: ${data.length} data bytes, need the 2-byte Rejected-Protocol`,
          'RFC 1661 §5.7: "The Rejected-Protocol field is two octets"',
        );
      }
      return {
        kind: 'protocol-reject',
        identifier,
        rejectedProtocol: u16(data, LCP_DATA_FIELD.REJECTED_PROTOCOL),
        rejectedInformation: data.subarray(LCP_DATA_FIELD.REJECTED_INFORMATION),
      };
    case LcpCode.EchoRequest:
    case LcpCode.EchoReply:
    case LcpCode.DiscardRequest: {
      needMagic(data, p.code);
      const kind =
        p.code === LcpCode.EchoRequest
          ? 'echo-request'
          : p.code === LcpCode.EchoReply
            ? 'echo-reply'
            : 'discard-request';
      return {
        kind,
        identifier,
        magicNumber: u32(data, LCP_DATA_FIELD.MAGIC_NUMBER),
        data: data.subarray(LCP_DATA_FIELD.AFTER_MAGIC),
      };
    }
    case LcpCode.Identification:
      needMagic(data, p.code);
      return {
        kind: 'identification',
        identifier,
        magicNumber: u32(data, LCP_DATA_FIELD.MAGIC_NUMBER),
        message: data.subarray(LCP_DATA_FIELD.AFTER_MAGIC),
      };
    case LcpCode.TimeRemaining:
      if (data.length < LCP_DATA_FIELD.TIME_REMAINING_MESSAGE) {
        throw new WireError(
          WireErrorCode.Truncated,
          `LCP Time-Remaining: ${data.length} data bytes, need Magic-Number and Seconds-Remaining (8)`,
          'RFC 1570 §1.2: "The Seconds-Remaining field is four octets"',
        );
      }
      return {
        kind: 'time-remaining',
        identifier,
        magicNumber: u32(data, LCP_DATA_FIELD.MAGIC_NUMBER),
        secondsRemaining: u32(data, LCP_DATA_FIELD.SECONDS_REMAINING),
        message: data.subarray(LCP_DATA_FIELD.TIME_REMAINING_MESSAGE),
      };
    default:
      return { kind: 'unknown', code: p.code, identifier, data };
  }
}

function needMagic(data: Uint8Array, code: number): void {
  if (data.length < 4) {
    throw new WireError(
      WireErrorCode.Truncated,
      `LCP code ${code}: ${data.length} data bytes, need the 4-byte Magic-Number`,
      'RFC 1661 §5.8: "The Magic-Number field is four octets"',
    );
  }
}

/**
 * Decodes an LCP packet from the PPP Information field (protocol 0xc021).
 * Trailing padding past Length is ignored (RFC 1661 §5).
 */
export function decodeLcpPacket(bytes: Uint8Array): LcpPacket {
  return lcpPacketFromCp(decodeCpPacket(bytes));
}

/** The Code of each LCP packet kind: the shared 1–7, then LCP's own. */
const LCP_CODES = {
  ...NCP_CODES,
  'protocol-reject': LcpCode.ProtocolReject,
  'echo-request': LcpCode.EchoRequest,
  'echo-reply': LcpCode.EchoReply,
  'discard-request': LcpCode.DiscardRequest,
  identification: LcpCode.Identification,
  'time-remaining': LcpCode.TimeRemaining,
} as const;

/** The Code of an LCP packet value. */
export function lcpCode(p: LcpPacket): number {
  return codeOfKind(LCP_CODES, p);
}

function lcpDataLength(p: LcpPacket): number {
  switch (p.kind) {
    case 'protocol-reject':
      return 2 + p.rejectedInformation.length;
    case 'echo-request':
    case 'echo-reply':
    case 'discard-request':
      return 4 + p.data.length;
    case 'identification':
      return 4 + p.message.length;
    case 'time-remaining':
      return 8 + p.message.length;
    default:
      return ncpCommonDataLength(p);
  }
}

/** Encoded size of an LCP packet. */
export function lcpPacketLength(p: LcpPacket): number {
  return CP_HEADER_LENGTH + lcpDataLength(p);
}

/**
 * Encodes `p` into `out` at `offset` (allocating when omitted); returns a
 * view of exactly the bytes written. Throws `RangeError` when the packet
 * does not fit (a programming error, not a peer's).
 */
export function encodeLcpPacket(p: LcpPacket, out?: Uint8Array, offset = 0): Uint8Array {
  const pkt = beginCpPacket(lcpCode(p), p.identifier, lcpDataLength(p), out, offset, 'encodeLcpPacket');
  const d = CP_HEADER_LENGTH;
  switch (p.kind) {
    case 'protocol-reject':
      put16(pkt, d + LCP_DATA_FIELD.REJECTED_PROTOCOL, p.rejectedProtocol);
      pkt.set(p.rejectedInformation, d + LCP_DATA_FIELD.REJECTED_INFORMATION);
      break;
    case 'echo-request':
    case 'echo-reply':
    case 'discard-request':
      put32(pkt, d + LCP_DATA_FIELD.MAGIC_NUMBER, p.magicNumber);
      pkt.set(p.data, d + LCP_DATA_FIELD.AFTER_MAGIC);
      break;
    case 'identification':
      put32(pkt, d + LCP_DATA_FIELD.MAGIC_NUMBER, p.magicNumber);
      pkt.set(p.message, d + LCP_DATA_FIELD.AFTER_MAGIC);
      break;
    case 'time-remaining':
      put32(pkt, d + LCP_DATA_FIELD.MAGIC_NUMBER, p.magicNumber);
      put32(pkt, d + LCP_DATA_FIELD.SECONDS_REMAINING, p.secondsRemaining);
      pkt.set(p.message, d + LCP_DATA_FIELD.TIME_REMAINING_MESSAGE);
      break;
    default:
      writeNcpCommonData(p, pkt, d);
  }
  return pkt;
}

// ─── Configuration Options ──────────────────────────────────────────────────

/**
 * LCP Configuration Option types (RFC 1661 §6, RFC 1570 §2, and the
 * assignments later RFCs made that Windows and pppd peers send). Only the
 * RFC 1661/1662 ones have typed values; the rest decode as `unknown`.
 */
export enum LcpOptionType {
  /** RFC 1661 §6.1 */
  MaximumReceiveUnit = 1,
  /** RFC 1662 §7.1 */
  AsyncControlCharacterMap = 2,
  /** RFC 1661 §6.2 */
  AuthenticationProtocol = 3,
  /** RFC 1661 §6.3 */
  QualityProtocol = 4,
  /** RFC 1661 §6.4 */
  MagicNumber = 5,
  /** RFC 1661 §6.5 */
  ProtocolFieldCompression = 7,
  /** RFC 1661 §6.6 */
  AddressAndControlFieldCompression = 8,
  /** RFC 1570 §2.1 */
  FcsAlternatives = 9,
  /** RFC 1570 §2.2 */
  SelfDescribingPadding = 10,
  /** RFC 1570 §2.3 (Windows clients may request it) */
  Callback = 13,
  /** RFC 1570 §2.4 */
  CompoundFrames = 15,
  /** RFC 1990 §5.1.1 Multilink MRRU (sent by Windows when multilink is enabled) */
  MultilinkMrru = 17,
  /** RFC 1990 §5.1.2 Multilink Short Sequence Number Header Format */
  MultilinkShortSequence = 18,
  /** RFC 1990 §5.1.3 Endpoint Discriminator */
  EndpointDiscriminator = 19,
  /** RFC 2125 §5.1 Link Discriminator (BACP) */
  LinkDiscriminator = 23,
}

/** Quality-Protocol values (RFC 1661 §6.3). */
export enum QualityProtocol {
  /** RFC 1989 Link Quality Report */
  LinkQualityReport = 0xc025,
}

/** A typed LCP Configuration Option value. Switch on `kind`. */
export type LcpOption =
  /** RFC 1661 §6.1: Length 4. */
  | { readonly kind: 'mru'; readonly mru: number }
  /** RFC 1662 §7.1: Length 6, 32-bit map, bit n = character n is escaped. */
  | { readonly kind: 'accm'; readonly accm: number }
  /**
   * RFC 1661 §6.2: Length >= 4. PAP has no data and Length 4 (RFC 1334
   * §2.1); CHAP carries a one-octet Algorithm and Length 5 (RFC 1994 §3).
   */
  | { readonly kind: 'authentication-protocol'; readonly protocol: number; readonly data: Uint8Array }
  /** RFC 1661 §6.3: Length >= 4. */
  | { readonly kind: 'quality-protocol'; readonly protocol: number; readonly data: Uint8Array }
  /** RFC 1661 §6.4: Length 6. */
  | { readonly kind: 'magic-number'; readonly magicNumber: number }
  /** RFC 1661 §6.5: Length 2. */
  | { readonly kind: 'pfc' }
  /** RFC 1661 §6.6: Length 2. */
  | { readonly kind: 'acfc' }
  /** Any other type, kept byte for byte. */
  | { readonly kind: 'unknown'; readonly type: number; readonly data: Uint8Array };

/**
 * Decodes one raw LCP option into its typed value. Throws
 * {@link OptionLengthError} when the Length is wrong for the type; never
 * throws for unknown types.
 */
export function decodeLcpOption(o: CpOption): LcpOption {
  const d = o.data;
  switch (o.type) {
    case LcpOptionType.MaximumReceiveUnit:
      expectOptionLength('LCP', o, 4, 'RFC 1661 §6.1 MRU: "Length 4"');
      return { kind: 'mru', mru: u16(d, 0) };
    case LcpOptionType.AsyncControlCharacterMap:
      expectOptionLength('LCP', o, 6, 'RFC 1662 §7.1 ACCM: "Length 6"');
      return { kind: 'accm', accm: u32(d, 0) };
    case LcpOptionType.AuthenticationProtocol: {
      expectOptionMinLength('LCP', o, 4, 'RFC 1661 §6.2 Authentication-Protocol: "Length >= 4"');
      const protocol = u16(d, 0);
      if (protocol === PppProtocol.Pap) {
        expectOptionLength('LCP', o, 4, 'RFC 1334 §2.1 PAP: "Length 4 ... There is no Data field."');
      } else if (protocol === PppProtocol.Chap) {
        expectOptionLength(
          'LCP',
          o,
          5,
          'RFC 1994 §3 CHAP: "Length 5" (Authentication-Protocol c223 + Algorithm)',
        );
      }
      return { kind: 'authentication-protocol', protocol, data: d.subarray(2) };
    }
    case LcpOptionType.QualityProtocol:
      expectOptionMinLength('LCP', o, 4, 'RFC 1661 §6.3 Quality-Protocol: "Length >= 4"');
      return { kind: 'quality-protocol', protocol: u16(d, 0), data: d.subarray(2) };
    case LcpOptionType.MagicNumber:
      expectOptionLength('LCP', o, 6, 'RFC 1661 §6.4 Magic-Number: "Length 6"');
      return { kind: 'magic-number', magicNumber: u32(d, 0) };
    case LcpOptionType.ProtocolFieldCompression:
      expectOptionLength('LCP', o, 2, 'RFC 1661 §6.5 PFC: "Length 2"');
      return { kind: 'pfc' };
    case LcpOptionType.AddressAndControlFieldCompression:
      expectOptionLength('LCP', o, 2, 'RFC 1661 §6.6 ACFC: "Length 2"');
      return { kind: 'acfc' };
    default:
      return { kind: 'unknown', type: o.type, data: d };
  }
}

/** The Type of each typed LCP option. */
const LCP_OPTION_TYPES = {
  mru: LcpOptionType.MaximumReceiveUnit,
  accm: LcpOptionType.AsyncControlCharacterMap,
  'authentication-protocol': LcpOptionType.AuthenticationProtocol,
  'quality-protocol': LcpOptionType.QualityProtocol,
  'magic-number': LcpOptionType.MagicNumber,
  pfc: LcpOptionType.ProtocolFieldCompression,
  acfc: LcpOptionType.AddressAndControlFieldCompression,
} as const;

/** The Type of a typed LCP option. */
export function lcpOptionType(o: LcpOption): number {
  return typeOfKind(LCP_OPTION_TYPES, o);
}

/** Encodes a typed LCP option as a raw option (new bytes). */
export function encodeLcpOption(o: LcpOption): CpOption {
  const type = lcpOptionType(o);
  switch (o.kind) {
    case 'mru': {
      const data = new Uint8Array(2);
      put16(data, 0, o.mru);
      return { type, data };
    }
    case 'accm':
    case 'magic-number': {
      const data = new Uint8Array(4);
      put32(data, 0, o.kind === 'accm' ? o.accm : o.magicNumber);
      return { type, data };
    }
    case 'authentication-protocol':
    case 'quality-protocol':
      return { type, data: protocolOptionData(o.protocol, o.data) };
    case 'pfc':
    case 'acfc':
      return { type, data: new Uint8Array(0) };
    case 'unknown':
      return { type, data: o.data.slice() };
  }
}

// ─── Authentication-Protocol helpers ────────────────────────────────────────

/**
 * The Algorithm octet of the LCP Authentication-Protocol option for CHAP
 * (RFC 1994 §3).
 */
export enum ChapAlgorithm {
  /** RFC 1994 §3: "5 CHAP with MD5 [3]" */
  Md5 = 5,
  /** RFC 2433 §4: "the Algorithm field has value 0x80" */
  MsChap = 0x80,
  /** RFC 2759 §2: MS-CHAP-V2 is algorithm 0x81 */
  MsChapV2 = 0x81,
}

/**
 * The four authentication methods this stack speaks, as negotiated by the
 * LCP Authentication-Protocol option: PAP (c023), and CHAP (c223) with
 * Algorithm 5 (MD5, RFC 1994 §3), 0x80 (MS-CHAP, RFC 2433 §4) or 0x81
 * (MS-CHAP-V2, RFC 2759 §2).
 */
export type AuthMethod = 'pap' | 'chap-md5' | 'mschap' | 'mschap-v2';

/** Every {@link AuthMethod}, strongest first (the default preference order). */
export const AUTH_METHODS: readonly AuthMethod[] = ['mschap-v2', 'mschap', 'chap-md5', 'pap'];

/** The CHAP Algorithm octet of each CHAP-based {@link AuthMethod} (RFC 1994 §3, RFC 2433 §4, RFC 2759 §2). */
const CHAP_ALGORITHMS = {
  'chap-md5': ChapAlgorithm.Md5,
  mschap: ChapAlgorithm.MsChap,
  'mschap-v2': ChapAlgorithm.MsChapV2,
} as const;

/** The CHAP-based methods, keys of {@link CHAP_ALGORITHMS}. */
const CHAP_METHODS = Object.keys(CHAP_ALGORITHMS) as (keyof typeof CHAP_ALGORITHMS)[];

/**
 * The method an Authentication-Protocol option asks for, or `undefined` for
 * protocols and CHAP algorithms this stack does not speak (the automaton
 * Naks those with its own preference).
 */
export function authMethodOf(o: LcpOption): AuthMethod | undefined {
  if (o.kind !== 'authentication-protocol') return undefined;
  if (o.protocol === PppProtocol.Pap && o.data.length === 0) return 'pap';
  if (o.protocol === PppProtocol.Chap && o.data.length === 1) {
    return CHAP_METHODS.find((m) => CHAP_ALGORITHMS[m] === o.data[0]);
  }
  return undefined;
}

/** The Authentication-Protocol option value requesting `m`. */
export function authProtocolOption(m: AuthMethod): LcpOption {
  return m === 'pap'
    ? { kind: 'authentication-protocol', protocol: PppProtocol.Pap, data: new Uint8Array(0) }
    : {
        kind: 'authentication-protocol',
        protocol: PppProtocol.Chap,
        data: Uint8Array.of(CHAP_ALGORITHMS[m]),
      };
}
