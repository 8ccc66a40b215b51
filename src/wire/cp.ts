/**
 * The packet format shared by every PPP control protocol that uses the
 * RFC 1661 automaton (LCP, IPCP, IPv6CP, CCP), and its Configuration Option
 * TLVs (RFC 1661 §5, §6).
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Code      |  Identifier   |            Length             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |    Data ...
 * +-+-+-+-+
 *
 *  Option:
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Type      |    Length     |    Data ...
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * Ownership: decoded `data` fields are `subarray` views into the input;
 * copy them to keep them past the call.
 */

import { outputBuffer, put16, u16 } from './bytes.js';
import { WireError, WireErrorCode } from './errors.js';

/** Byte offsets of the control-protocol header (RFC 1661 §5). */
export const CP_FIELD = {
  CODE: 0,
  IDENTIFIER: 1,
  LENGTH: 2,
  DATA: 4,
} as const;

/** Size of Code + Identifier + Length. */
export const CP_HEADER_LENGTH = 4;

/**
 * Codes shared by LCP, IPCP, IPv6CP and CCP (RFC 1661 §5). LCP adds 8–11
 * (and RFC 1570's 12–13); CCP adds 14–15 (RFC 1962 §2). Each protocol's
 * code table spreads this one and adds its own, so the shared seven are
 * written once.
 */
export const CpCode = {
  /** RFC 1661 §5.1 */
  ConfigureRequest: 1,
  /** RFC 1661 §5.2 */
  ConfigureAck: 2,
  /** RFC 1661 §5.3 */
  ConfigureNak: 3,
  /** RFC 1661 §5.4 */
  ConfigureReject: 4,
  /** RFC 1661 §5.5 */
  TerminateRequest: 5,
  /** RFC 1661 §5.5 */
  TerminateAck: 6,
  /** RFC 1661 §5.6 */
  CodeReject: 7,
} as const;
/** One of the {@link CpCode} values. */
export type CpCode = (typeof CpCode)[keyof typeof CpCode];

/** One control-protocol packet. `data` is everything after the 4-byte header, cut to `Length`. */
export interface CpPacket {
  readonly code: number;
  readonly identifier: number;
  readonly data: Uint8Array;
}

/** One Configuration Option (RFC 1661 §6). Unknown types are representable, so Configure-Reject can echo them byte for byte (RFC 1661 §5.4). */
export interface CpOption {
  readonly type: number;
  readonly data: Uint8Array;
}

/**
 * The Code of a packet value: its protocol's kind → Code table gives it,
 * and a packet of `kind: 'unknown'` keeps the Code it was decoded with (so
 * Code-Reject can echo it). One lookup for LCP, IPCP, IPv6CP, CCP, PAP and
 * CHAP instead of a switch in each.
 */
export function codeOfKind<K extends string>(
  codes: Readonly<Record<K, number>>,
  p: { readonly kind: NoInfer<K> } | { readonly kind: 'unknown'; readonly code: number },
): number {
  return p.kind === 'unknown' ? (p as { readonly code: number }).code : codes[p.kind as K];
}

/**
 * The Type of a typed option value: its protocol's kind → Type table gives
 * it, and an option of `kind: 'unknown'` keeps the Type it was decoded with
 * (so Configure-Reject can echo it byte for byte, RFC 1661 §5.4).
 */
export function typeOfKind<K extends string>(
  types: Readonly<Record<K, number>>,
  o: { readonly kind: NoInfer<K> } | { readonly kind: 'unknown'; readonly type: number },
): number {
  return o.kind === 'unknown' ? (o as { readonly type: number }).type : types[o.kind as K];
}

/**
 * Decodes a control-protocol packet from the PPP Information field.
 *
 * RFC 1661 §5: "Octets outside the range of the Length field are treated as
 * padding and are ignored on reception. When a packet is received with an
 * invalid Length field, the packet is silently discarded" — so a Length
 * below 4 or above the bytes present throws, and trailing bytes are ignored.
 */
export function decodeCpPacket(bytes: Uint8Array): CpPacket {
  if (bytes.length < CP_HEADER_LENGTH) {
    throw new WireError(WireErrorCode.Truncated, `control packet: ${bytes.length} bytes < 4-byte header`);
  }
  const length = u16(bytes, CP_FIELD.LENGTH);
  if (length < CP_HEADER_LENGTH) {
    throw new WireError(
      WireErrorCode.LengthTooSmall,
      `control packet Length ${length} < 4`,
      'RFC 1661 §5: a packet with an invalid Length field is silently discarded',
    );
  }
  if (length > bytes.length) {
    throw new WireError(
      WireErrorCode.LengthTooLarge,
      `control packet Length ${length} > ${bytes.length} bytes present`,
      'RFC 1661 §5: a packet with an invalid Length field is silently discarded',
    );
  }
  return {
    code: bytes[CP_FIELD.CODE]!,
    identifier: bytes[CP_FIELD.IDENTIFIER]!,
    data: bytes.subarray(CP_HEADER_LENGTH, length),
  };
}

/** Encoded size of a control-protocol packet. */
export function cpPacketLength(p: CpPacket): number {
  return CP_HEADER_LENGTH + p.data.length;
}

/**
 * Encodes `p` into `out` at `offset` (allocating when `out` is omitted) and
 * returns a view of exactly the bytes written.
 */
export function encodeCpPacket(p: CpPacket, out?: Uint8Array, offset = 0): Uint8Array {
  const len = cpPacketLength(p);
  if (len > 0xffff) throw new RangeError(`control packet too long: ${len}`);
  const buf = outputBuffer(out, offset, len, 'encodeCpPacket');
  buf[offset + CP_FIELD.CODE] = p.code & 0xff;
  buf[offset + CP_FIELD.IDENTIFIER] = p.identifier & 0xff;
  put16(buf, offset + CP_FIELD.LENGTH, len);
  buf.set(p.data, offset + CP_HEADER_LENGTH);
  return buf.subarray(offset, offset + len);
}

/**
 * Decodes a Configuration Option list (the Data of Configure-Request/Ack/
 * Nak/Reject).
 *
 * RFC 1661 §6: "The Length field is one octet, and indicates the length of
 * this Configuration Option including the Type, Length and Data fields." A
 * Length below 2 or running past the end makes the whole list invalid (pppd
 * does the same); a zero Length must never loop forever.
 */
export function decodeCpOptions(data: Uint8Array): CpOption[] {
  const opts: CpOption[] = [];
  let off = 0;
  while (off < data.length) {
    if (data.length - off < 2) {
      throw new WireError(WireErrorCode.BadOption, `option at ${off}: 1 byte left, need Type and Length`);
    }
    const type = data[off]!;
    const len = data[off + 1]!;
    if (len < 2) {
      throw new WireError(
        WireErrorCode.BadOption,
        `option ${type} at ${off}: Length ${len} < 2`,
        'RFC 1661 §6',
      );
    }
    if (off + len > data.length) {
      throw new WireError(
        WireErrorCode.BadOption,
        `option ${type} at ${off}: Length ${len} runs past the end (${data.length})`,
        'RFC 1661 §6',
      );
    }
    opts.push({ type, data: data.subarray(off + 2, off + len) });
    off += len;
  }
  return opts;
}

/** Encoded size of an option list. */
export function cpOptionsLength(opts: readonly CpOption[]): number {
  let n = 0;
  for (const o of opts) n += 2 + o.data.length;
  return n;
}

/** Encodes an option list into `out` at `offset` (allocating when omitted); returns a view of the bytes written. */
export function encodeCpOptions(opts: readonly CpOption[], out?: Uint8Array, offset = 0): Uint8Array {
  const len = cpOptionsLength(opts);
  const buf = outputBuffer(out, offset, len, 'encodeCpOptions');
  let off = offset;
  for (const o of opts) {
    const olen = 2 + o.data.length;
    if (olen > 0xff) throw new RangeError(`option ${o.type} too long: ${olen}`);
    buf[off] = o.type & 0xff;
    buf[off + 1] = olen;
    buf.set(o.data, off + 2);
    off += olen;
  }
  return buf.subarray(offset, offset + len);
}

/**
 * The Data of an option that names a protocol and carries that protocol's
 * own parameters after it (LCP Authentication-Protocol and Quality-Protocol,
 * RFC 1661 §6.2–6.3; IPCP IP-Compression-Protocol, RFC 1332 §3.2; IPv6CP
 * IPv6-Compression-Protocol, RFC 2472 §4.2): 2 octets of protocol, then
 * `rest`. New bytes.
 */
export function protocolOptionData(protocol: number, rest: Uint8Array): Uint8Array {
  const data = new Uint8Array(2 + rest.length);
  put16(data, 0, protocol);
  data.set(rest, 2);
  return data;
}
