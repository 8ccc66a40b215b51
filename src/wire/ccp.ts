/**
 * Compression Control Protocol (RFC 1962), PPP protocol 0x80fd: the vehicle
 * for negotiating MPPE and MPPC (option 18, RFC 3078 §2, RFC 2118 §2).
 *
 * CCP uses the LCP packet exchange with codes 1–7 and adds Reset-Request
 * (14) and Reset-Ack (15) (RFC 1962 §3.1). Option 18 is typed; every other
 * compressor (Predictor, Stac, BSD-Compress, Deflate...) decodes as
 * `unknown` so the policy can Configure-Reject it byte for byte.
 *
 * Ownership: `data` fields are views into the input.
 */

import { put32, u32 } from './bytes.js';
import { CP_HEADER_LENGTH, CpCode, type CpOption, type CpPacket, codeOfKind, decodeCpPacket } from './cp.js';
import {
  beginCpPacket,
  decodeNcpCommon,
  expectOptionLength,
  NCP_CODES,
  type NcpPacket,
  ncpCommonDataLength,
  writeNcpCommonData,
} from './ncp.js';

/** CCP Code field values (RFC 1962 §3): the shared codes 1–7, then Reset-Request and Reset-Ack. */
export const CcpCode = {
  ...CpCode,
  /** RFC 1962 §3.1 */
  ResetRequest: 14,
  /** RFC 1962 §3.1 */
  ResetAck: 15,
} as const;
/** One of the {@link CcpCode} values. */
export type CcpCode = (typeof CcpCode)[keyof typeof CcpCode];

/**
 * Reset-Request / Reset-Ack (RFC 1962 §3.1): "the Data field filled with any
 * desired data". A Reset-Ack copies the Identifier of the Reset-Request.
 */
export interface CcpResetPacket {
  readonly kind: 'reset-request' | 'reset-ack';
  readonly identifier: number;
  readonly data: Uint8Array;
}

/** Every CCP packet. Switch on `kind`. */
export type CcpPacket = NcpPacket | CcpResetPacket;

/** Interprets a decoded control packet as CCP. */
export function ccpPacketFromCp(p: CpPacket): CcpPacket {
  const common = decodeNcpCommon(p);
  if (common) return common;
  switch (p.code) {
    case CcpCode.ResetRequest:
      return { kind: 'reset-request', identifier: p.identifier, data: p.data };
    case CcpCode.ResetAck:
      return { kind: 'reset-ack', identifier: p.identifier, data: p.data };
    default:
      return { kind: 'unknown', code: p.code, identifier: p.identifier, data: p.data };
  }
}

/** Decodes a CCP packet from the PPP Information field. */
export function decodeCcpPacket(bytes: Uint8Array): CcpPacket {
  return ccpPacketFromCp(decodeCpPacket(bytes));
}

/** The Code of each CCP packet kind: the shared 1–7, then Reset-Request and Reset-Ack. */
const CCP_CODES = {
  ...NCP_CODES,
  'reset-request': CcpCode.ResetRequest,
  'reset-ack': CcpCode.ResetAck,
} as const;

/** The Code of a CCP packet value. */
export function ccpCode(p: CcpPacket): number {
  return codeOfKind(CCP_CODES, p);
}

function isReset(p: CcpPacket): p is CcpResetPacket {
  return p.kind === 'reset-request' || p.kind === 'reset-ack';
}

function ccpDataLength(p: CcpPacket): number {
  return isReset(p) ? p.data.length : ncpCommonDataLength(p);
}

/** Encoded size of a CCP packet. */
export function ccpPacketLength(p: CcpPacket): number {
  return CP_HEADER_LENGTH + ccpDataLength(p);
}

/** Encodes a CCP packet into `out` at `offset` (allocating when omitted); returns a view of the bytes written. */
export function encodeCcpPacket(p: CcpPacket, out?: Uint8Array, offset = 0): Uint8Array {
  const pkt = beginCpPacket(ccpCode(p), p.identifier, ccpDataLength(p), out, offset, 'encodeCcpPacket');
  if (isReset(p)) pkt.set(p.data, CP_HEADER_LENGTH);
  else writeNcpCommonData(p, pkt, CP_HEADER_LENGTH);
  return pkt;
}

// ─── Options ────────────────────────────────────────────────────────────────

/** CCP Configuration Option types (RFC 1962 §4 and later assignments). */
export enum CcpOptionType {
  /** RFC 1962 §4.1 */
  Oui = 0,
  /** RFC 1978 */
  PredictorType1 = 1,
  /** RFC 1978 */
  PredictorType2 = 2,
  /** RFC 1962 §4 */
  PuddleJumper = 3,
  /** RFC 1962 §4 */
  HewlettPackardPpc = 16,
  /** RFC 1974 */
  StacLzs = 17,
  /** RFC 2118 §2 (MPPC) and RFC 3078 §2 (MPPE): one option, "Supported Bits" */
  MicrosoftPpc = 18,
  /** RFC 1962 §4 */
  GandalfFza = 19,
  /** RFC 1962 §4 */
  V42bis = 20,
  /** RFC 1977 */
  BsdCompress = 21,
  /** RFC 1967 */
  LzsDcp = 23,
  /** RFC 1975 Magnalink */
  Mvrca = 24,
  /** RFC 1976 */
  Dce = 25,
  /** RFC 1979 */
  Deflate = 26,
}

/**
 * The named bits of option 18's 32-bit Supported Bits field (RFC 3078 §2.2.1,
 * RFC 2118 §2), as values of the whole field:
 * ```
 *    3                   2                   1
 *  1 0 9 8 7 6 5 4 3 2 1 0 9 8 7 6 5 4 3 2 1 0 9 8 7 6 5 4 3 2 1 0
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |             |H|                               |M|S|L|D|     |C|
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 */
export enum MppeBit {
  /** C: MPPC compression (RFC 2118). */
  C = 0x00000001,
  /** D: obsolete; "it SHOULD NOT be accepted" (RFC 3078 §2.2.1). */
  D = 0x00000010,
  /** L: 40-bit session keys. */
  L = 0x00000020,
  /** S: 128-bit session keys. */
  S = 0x00000040,
  /** M: 56-bit session keys. */
  M = 0x00000080,
  /** H: stateless mode, the key changes after every packet (RFC 3078 §7.2). */
  H = 0x01000000,
}

const KNOWN_MPPE_BITS = MppeBit.C | MppeBit.D | MppeBit.L | MppeBit.S | MppeBit.M | MppeBit.H;

/**
 * Option 18 (MPPE/MPPC) with its bits named. `otherBits` keeps any reserved
 * bit a peer set ("All other bits are reserved and MUST be set to 0",
 * RFC 3078 §2.2.1), so the option round-trips and a policy can Nak it.
 * A peer that sends every bit off is representable (all false).
 */
export interface MppeOption {
  readonly kind: 'mppe';
  /** C (RFC 2118). */
  readonly mppc: boolean;
  /** D (obsolete). */
  readonly obsoleteD: boolean;
  /** L: 40-bit keys. */
  readonly key40: boolean;
  /** S: 128-bit keys. */
  readonly key128: boolean;
  /** M: 56-bit keys. */
  readonly key56: boolean;
  /** H: stateless mode. */
  readonly stateless: boolean;
  /** Reserved bits that were set (0 from a conforming peer). */
  readonly otherBits: number;
}

/** A typed CCP option value. Switch on `kind`. */
export type CcpOption =
  | MppeOption
  | { readonly kind: 'unknown'; readonly type: number; readonly data: Uint8Array };

/** Splits a Supported Bits value into its named flags. */
export function mppeOptionFromBits(bits: number): MppeOption {
  const b = bits >>> 0;
  return {
    kind: 'mppe',
    mppc: (b & MppeBit.C) !== 0,
    obsoleteD: (b & MppeBit.D) !== 0,
    key40: (b & MppeBit.L) !== 0,
    key128: (b & MppeBit.S) !== 0,
    key56: (b & MppeBit.M) !== 0,
    stateless: (b & MppeBit.H) !== 0,
    otherBits: (b & ~KNOWN_MPPE_BITS) >>> 0,
  };
}

/** The Supported Bits value of an {@link MppeOption}. */
export function mppeOptionBits(o: MppeOption): number {
  let b = o.otherBits & ~KNOWN_MPPE_BITS;
  if (o.mppc) b |= MppeBit.C;
  if (o.obsoleteD) b |= MppeBit.D;
  if (o.key40) b |= MppeBit.L;
  if (o.key128) b |= MppeBit.S;
  if (o.key56) b |= MppeBit.M;
  if (o.stateless) b |= MppeBit.H;
  return b >>> 0;
}

/**
 * Decodes one raw CCP option. Throws `OptionLengthError` (a WireError) when
 * option 18's Length is not 6 (RFC 3078 §2.2.1); other types decode to
 * `{kind: 'unknown'}`.
 */
export function decodeCcpOption(o: CpOption): CcpOption {
  if (o.type === CcpOptionType.MicrosoftPpc) {
    expectOptionLength('CCP', o, 6, 'RFC 3078 §2.2.1 MPPE/MPPC option: "Length 6"');
    return mppeOptionFromBits(u32(o.data, 0));
  }
  return { kind: 'unknown', type: o.type, data: o.data };
}

/** Encodes a typed CCP option as a raw option (new bytes). */
export function encodeCcpOption(o: CcpOption): CpOption {
  if (o.kind === 'mppe') {
    const data = new Uint8Array(4);
    put32(data, 0, mppeOptionBits(o));
    return { type: CcpOptionType.MicrosoftPpc, data };
  }
  return { type: o.type, data: o.data.slice() };
}
