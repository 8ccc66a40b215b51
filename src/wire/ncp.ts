/**
 * What every PPP control protocol built on the RFC 1661 automaton shares
 * beyond the bare packet and option codec of `cp.ts`: the typed packets of
 * codes 1–7 (Configure-*, Terminate-*, Code-Reject, and unknown codes),
 * their decoder and encoder, and the option Length checks that every
 * option-value decoder uses.
 *
 * IPCP and IPv6CP use "exactly the same packet exchange mechanism as the
 * Link Control Protocol" (RFC 1332 §2, RFC 5072 §3) with codes 1–7 only, so
 * their packets are {@link NcpPacket}s; LCP and CCP add codes of their own
 * on top ({@link decodeNcpCommon} and its siblings). `lcp.ts` re-exports
 * all of this.
 *
 * Ownership: every `Uint8Array` in a decoded value is a `subarray` view into
 * the input.
 */

import { outputBuffer, put16 } from './bytes.js';
import {
  CP_FIELD,
  CP_HEADER_LENGTH,
  CpCode,
  type CpOption,
  type CpPacket,
  codeOfKind,
  cpOptionsLength,
  decodeCpOptions,
  decodeCpPacket,
  encodeCpOptions,
} from './cp.js';
import { WireError, WireErrorCode } from './errors.js';

/** The four option-carrying codes (RFC 1661 §5.1–5.4). */
export type ConfigureKind = 'configure-request' | 'configure-ack' | 'configure-nak' | 'configure-reject';

/**
 * Configure-Request/Ack/Nak/Reject (RFC 1661 §5.1–5.4): the Data field is a
 * list of Configuration Options, kept raw so a Reject can echo them exactly.
 */
export interface ConfigurePacket {
  readonly kind: ConfigureKind;
  readonly identifier: number;
  readonly options: readonly CpOption[];
}

/** Terminate-Request/Ack (RFC 1661 §5.5): "The Data field is zero or more octets, and contains uninterpreted data for use by the sender." */
export interface TerminatePacket {
  readonly kind: 'terminate-request' | 'terminate-ack';
  readonly identifier: number;
  readonly data: Uint8Array;
}

/**
 * Code-Reject (RFC 1661 §5.6): `rejectedPacket` is "a copy of the LCP packet
 * which is being rejected", possibly truncated to the MRU, so it is kept raw
 * (decode it with `decodeCpPacket` if it is complete).
 */
export interface CodeRejectPacket {
  readonly kind: 'code-reject';
  readonly identifier: number;
  readonly rejectedPacket: Uint8Array;
}

/**
 * A packet whose Code this protocol does not define. It is representable so
 * that the automaton can answer with Code-Reject (RFC 1661 §5.6: "This MUST
 * be reported back to the sender of the unknown Code by transmitting a
 * Code-Reject").
 */
export interface UnknownCodePacket {
  readonly kind: 'unknown';
  readonly code: number;
  readonly identifier: number;
  readonly data: Uint8Array;
}

/** The packet set of an NCP without extra codes (IPCP, IPv6CP: codes 1–7 only). */
export type NcpPacket = ConfigurePacket | TerminatePacket | CodeRejectPacket | UnknownCodePacket;

const CONFIGURE_KINDS: readonly ConfigureKind[] = [
  'configure-request',
  'configure-ack',
  'configure-nak',
  'configure-reject',
];

/**
 * Decodes the Data of a code 1–7 packet into its typed form, or returns
 * `undefined` when the code is not one of 1–7 (the caller handles its own
 * extra codes or maps it to {@link UnknownCodePacket}).
 *
 * Throws {@link WireError} when a Configure-* option list is malformed:
 * RFC 1661 §6 "When the Data field is indicated by the Length to extend
 * beyond the end of the Information field, the entire packet is silently
 * discarded without affecting the automaton."
 */
export function decodeNcpCommon(p: CpPacket): NcpPacket | undefined {
  const identifier = p.identifier;
  switch (p.code) {
    case 1:
    case 2:
    case 3:
    case 4:
      return { kind: CONFIGURE_KINDS[p.code - 1]!, identifier, options: decodeCpOptions(p.data) };
    case 5:
      return { kind: 'terminate-request', identifier, data: p.data };
    case 6:
      return { kind: 'terminate-ack', identifier, data: p.data };
    case 7:
      return { kind: 'code-reject', identifier, rejectedPacket: p.data };
    default:
      return undefined;
  }
}

/** The Code of each code 1–7 packet kind (RFC 1661 §5). */
export const NCP_CODES = {
  'configure-request': CpCode.ConfigureRequest,
  'configure-ack': CpCode.ConfigureAck,
  'configure-nak': CpCode.ConfigureNak,
  'configure-reject': CpCode.ConfigureReject,
  'terminate-request': CpCode.TerminateRequest,
  'terminate-ack': CpCode.TerminateAck,
  'code-reject': CpCode.CodeReject,
} as const;

/** Code of a code 1–7 packet kind. */
export function ncpCommonCode(p: NcpPacket): number {
  return codeOfKind(NCP_CODES, p);
}

/** Data length (after the 4-byte header) of a code 1–7 or unknown packet. */
export function ncpCommonDataLength(p: NcpPacket): number {
  switch (p.kind) {
    case 'configure-request':
    case 'configure-ack':
    case 'configure-nak':
    case 'configure-reject':
      return cpOptionsLength(p.options);
    case 'terminate-request':
    case 'terminate-ack':
    case 'unknown':
      return p.data.length;
    case 'code-reject':
      return p.rejectedPacket.length;
  }
}

/** Writes the Data of a code 1–7 or unknown packet at `off` in `buf`. */
export function writeNcpCommonData(p: NcpPacket, buf: Uint8Array, off: number): void {
  switch (p.kind) {
    case 'configure-request':
    case 'configure-ack':
    case 'configure-nak':
    case 'configure-reject':
      encodeCpOptions(p.options, buf, off);
      return;
    case 'terminate-request':
    case 'terminate-ack':
    case 'unknown':
      buf.set(p.data, off);
      return;
    case 'code-reject':
      buf.set(p.rejectedPacket, off);
      return;
  }
}

/**
 * Writes the Code/Identifier/Length header for a packet of `dataLength`
 * Data bytes at `offset` in `out` (allocating when omitted) and returns the
 * whole packet's view; the caller fills in the Data.
 */
export function beginCpPacket(
  code: number,
  identifier: number,
  dataLength: number,
  out: Uint8Array | undefined,
  offset: number,
  what: string,
): Uint8Array {
  const len = CP_HEADER_LENGTH + dataLength;
  if (len > 0xffff) throw new RangeError(`${what}: packet too long (${len})`);
  const buf = outputBuffer(out, offset, len, what);
  buf[offset + CP_FIELD.CODE] = code & 0xff;
  buf[offset + CP_FIELD.IDENTIFIER] = identifier & 0xff;
  put16(buf, offset + CP_FIELD.LENGTH, len);
  return buf.subarray(offset, offset + len);
}

/**
 * Decodes a packet of an NCP that has only codes 1–7 (IPCP RFC 1332 §2,
 * IPv6CP RFC 5072 §3); other codes become `{kind: 'unknown'}` for
 * Code-Reject.
 */
export function decodeNcpPacket(bytes: Uint8Array): NcpPacket {
  const p = decodeCpPacket(bytes);
  return decodeNcpCommon(p) ?? { kind: 'unknown', code: p.code, identifier: p.identifier, data: p.data };
}

/** Encoded size of an {@link NcpPacket}. */
export function ncpPacketLength(p: NcpPacket): number {
  return CP_HEADER_LENGTH + ncpCommonDataLength(p);
}

/** Encodes an {@link NcpPacket} into `out` at `offset` (allocating when omitted); returns a view of the bytes written. */
export function encodeNcpPacket(p: NcpPacket, out?: Uint8Array, offset = 0): Uint8Array {
  const pkt = beginCpPacket(
    ncpCommonCode(p),
    p.identifier,
    ncpCommonDataLength(p),
    out,
    offset,
    'encodeNcpPacket',
  );
  writeNcpCommonData(p, pkt, CP_HEADER_LENGTH);
  return pkt;
}

// ─── Option Length checks ───────────────────────────────────────────────────

/**
 * Thrown by the option-value decoders ({@link decodeLcpOption} and its IPCP,
 * IPv6CP and CCP siblings) when a known option's Length is wrong for its
 * Type. It is a {@link WireError} (code `BadOption`), distinct by class so
 * the automaton can tell "answer with Nak/Reject" from other failures:
 * RFC 1661 §6 "If a negotiable Configuration Option is received in a
 * Configure-Request, but with an invalid or unrecognized Length, a
 * Configure-Nak SHOULD be transmitted which includes the desired
 * Configuration Option with an appropriate Length and Data."
 */
export class OptionLengthError extends WireError {
  constructor(
    readonly protocol: string,
    readonly optionType: number,
    /** The Length field (Type + Length + Data). */
    readonly optionLength: number,
    readonly expected: string,
    reference: string,
  ) {
    super(
      WireErrorCode.BadOption,
      `${protocol} option ${optionType}: Length ${optionLength}, expected ${expected}`,
      reference,
    );
  }
}

/** Throws {@link OptionLengthError} unless the option's Length equals `length`. */
export function expectOptionLength(protocol: string, o: CpOption, length: number, reference: string): void {
  if (o.data.length + 2 !== length) {
    throw new OptionLengthError(protocol, o.type, o.data.length + 2, String(length), reference);
  }
}

/** Throws {@link OptionLengthError} unless the option's Length is at least `min`. */
export function expectOptionMinLength(protocol: string, o: CpOption, min: number, reference: string): void {
  if (o.data.length + 2 < min) {
    throw new OptionLengthError(protocol, o.type, o.data.length + 2, `>= ${min}`, reference);
  }
}
