/**
 * PPP frames as carried by PPTP (RFC 1661 §2, RFC 1662 §3.1, RFC 2637 §4):
 * optional Address/Control (0xFF 0x03, omitted under ACFC), then the
 * Protocol field (1 byte under PFC when its value allows), then the
 * Information field. PPTP carries no HDLC flags or FCS.
 *
 * The PPP *unit* works with {@link PppFrame} values; the *channel* (the
 * PPTP call's GRE data path) applies ACFC/PFC on the wire, exactly as the
 * seed's `pptp_xmit` does.
 */

import { outputBuffer } from './bytes.js';
import { WireError, WireErrorCode } from './errors.js';

/**
 * PPP Protocol field values used by this stack (RFC 1661 §2 and the
 * protocol RFCs named on each member).
 */
export enum PppProtocol {
  /** Internet Protocol version 4 (RFC 1332 §2). */
  Ipv4 = 0x0021,
  /** Internet Protocol version 6 (RFC 5072 §3). */
  Ipv6 = 0x0057,
  /** Compressed datagram: MPPE/MPPC payload (RFC 1962 §2, RFC 3078 §3). */
  Compressed = 0x00fd,
  /** IP Control Protocol (RFC 1332 §1). */
  Ipcp = 0x8021,
  /** IPv6 Control Protocol (RFC 5072 §4). */
  Ipv6cp = 0x8057,
  /** Compression Control Protocol (RFC 1962 §1). */
  Ccp = 0x80fd,
  /** Link Control Protocol (RFC 1661 §5). */
  Lcp = 0xc021,
  /** Password Authentication Protocol (RFC 1334 §2). */
  Pap = 0xc023,
  /** Challenge Handshake Authentication Protocol, incl. MS-CHAP (RFC 1994 §4, RFC 2433, RFC 2759). */
  Chap = 0xc223,
}

/**
 * One PPP frame as the unit sees it. `payload` is the Information field.
 * Ownership: a decoded payload is a view into the receive buffer, valid only
 * during the call that delivered it.
 */
export interface PppFrame {
  readonly protocol: number;
  readonly payload: Uint8Array;
}

/** Address field value: All-Stations (RFC 1662 §3.1). */
export const PPP_ADDRESS_ALL_STATIONS = 0xff;
/** Control field value: Unnumbered Information with P/F zero (RFC 1662 §3.1). */
export const PPP_CONTROL_UI = 0x03;
/** Largest PPP header the channel writes: Address + Control + 2-byte Protocol. */
export const PPP_MAX_HEADER_LENGTH = 4;

/**
 * Transmit-side framing options negotiated by LCP (RFC 1661 §6.5 PFC, §6.6
 * ACFC), the `SC_COMP_PROT` / `SC_COMP_AC` flags of Linux's `pptp_xmit`.
 * Both default to off: "By default, all implementations MUST transmit
 * packets with two octet PPP Protocol fields" (§6.5) and "MUST transmit
 * frames with Address and Control fields" (§6.6).
 */
export interface PppFramingFlags {
  /** Address-and-Control-Field-Compression: omit 0xFF 0x03. */
  readonly acfc: boolean;
  /** Protocol-Field-Compression: send protocols below 0x100 in one octet. */
  readonly pfc: boolean;
}

/** No compression: what every frame uses until LCP negotiates otherwise. */
export const PPP_NO_COMPRESSION: PppFramingFlags = Object.freeze({ acfc: false, pfc: false });

const REF_CONTROL =
  'RFC 1662 §3.1: "Frames with unrecognized Control field values SHOULD be silently discarded."';
const REF_PROTOCOL =
  'RFC 1661 §2: "All Protocols MUST be odd; the least significant bit of the least significant octet MUST equal "1". Also, all Protocols MUST be assigned such that the least significant bit of the most significant octet equals "0". Frames received which don\'t comply with these rules MUST be treated as having an unrecognized Protocol."';

/**
 * Whether a frame is exempt from ACFC/PFC on transmit: every LCP packet.
 *
 * RFC 1661 §6.6: "The Address and Control fields MUST NOT be compressed when
 * sending any LCP packet. This rule guarantees unambiguous recognition of
 * LCP packets." (PFC can never apply to 0xc021 anyway.)
 *
 * Deliberate difference from Linux's `pptp_xmit`, which exempts only
 * codes 1–7 (`islcp = proto == PPP_LCP && 1 <= data[2] && data[2] <= 7`)
 * and so strips 0xFF 0x03 from Echo/Discard/Protocol-Reject once ACFC is
 * negotiated. We keep the RFC's stricter rule: it includes the kernel's (codes
 * 1–7 are never compressed) and every receiver must accept the full form.
 * `firstByte` (the LCP Code, or -1 when the Information field is empty) is
 * kept in the signature for callers that build headers before the payload.
 */
export function pppIsUncompressible(protocol: number, _firstByte: number): boolean {
  return protocol === PppProtocol.Lcp;
}

/**
 * Length of the PPP header (Address/Control + Protocol) that
 * {@link encodePppHeader} writes for this frame: 1 to 4 bytes.
 */
export function pppHeaderLength(protocol: number, firstByte: number, flags: PppFramingFlags): number {
  const exempt = pppIsUncompressible(protocol, firstByte);
  const ac = flags.acfc && !exempt ? 0 : 2;
  const proto = flags.pfc && !exempt && protocol < 0x100 ? 1 : 2;
  return ac + proto;
}

/**
 * Writes the PPP header at `offset`, in front of an Information field whose
 * first byte is `firstByte` (-1 when empty): Address/Control unless ACFC,
 * then the Protocol in one octet when PFC allows it (RFC 1661 §6.5: only
 * values below 0x100, whose high octet is zero), never compressing LCP
 * codes 1–7 (see {@link pppIsUncompressible}). Returns the header length.
 */
export function encodePppHeader(
  protocol: number,
  firstByte: number,
  flags: PppFramingFlags,
  buf: Uint8Array,
  offset: number,
): number {
  const exempt = pppIsUncompressible(protocol, firstByte);
  let o = offset;
  if (!flags.acfc || exempt) {
    buf[o++] = PPP_ADDRESS_ALL_STATIONS;
    buf[o++] = PPP_CONTROL_UI;
  }
  if (!flags.pfc || exempt || protocol >= 0x100) buf[o++] = (protocol >>> 8) & 0xff;
  buf[o++] = protocol & 0xff;
  return o - offset;
}

/**
 * A checked view over one PPP frame as carried in a GRE payload (no flags,
 * no FCS), in `bytes[start, end)`. Reusable: `PppFrameView.check(b, view)`.
 */
export class PppFrameView {
  private constructor(
    private b: Uint8Array,
    private start: number,
    private end: number,
    private info: number,
    private proto: number,
  ) {}

  /**
   * Checks a frame: Address/Control 0xFF 0x03 are stripped when present (RFC
   * 1662 §3.2: "If they contain the values 0xff and 0x03, they are assumed to
   * be the Address and Control fields. If not, it is assumed that the fields
   * were compressed"); an Address 0xFF with another Control value is
   * rejected. Then a 1-octet (odd first octet, PFC) or 2-octet Protocol,
   * which must be odd in its low octet and even in its high octet (RFC 1661
   * §2). Throws {@link WireError}.
   */
  static check(bytes: Uint8Array, reuse?: PppFrameView, start = 0, end = bytes.length): PppFrameView {
    let o = start;
    if (end - o >= 1 && bytes[o] === PPP_ADDRESS_ALL_STATIONS) {
      // 0xff can never start a Protocol field: it would be the reserved
      // compressed value 0x00ff (RFC 1662 §3.2), so this must be an Address.
      if (end - o < 2) throw new WireError(WireErrorCode.Truncated, 'PPP: Address without Control');
      if (bytes[o + 1] !== PPP_CONTROL_UI) {
        throw new WireError(
          WireErrorCode.BadValue,
          `PPP: Control 0x${bytes[o + 1]!.toString(16)}`,
          REF_CONTROL,
        );
      }
      o += 2;
    }
    if (end - o < 1) throw new WireError(WireErrorCode.Truncated, 'PPP: no Protocol field');
    let proto = bytes[o]!;
    if (proto & 1) {
      o += 1; // compressed (PFC): the high octet is zero
    } else {
      if (end - o < 2) throw new WireError(WireErrorCode.Truncated, 'PPP: 2-octet Protocol cut short');
      const low = bytes[o + 1]!;
      if (!(low & 1)) {
        throw new WireError(
          WireErrorCode.UnknownType,
          `PPP: Protocol 0x${((proto << 8) | low).toString(16).padStart(4, '0')} is not odd`,
          REF_PROTOCOL,
        );
      }
      proto = (proto << 8) | low;
      o += 2;
    }
    if (reuse) {
      reuse.b = bytes;
      reuse.start = start;
      reuse.end = end;
      reuse.info = o;
      reuse.proto = proto;
      return reuse;
    }
    return new PppFrameView(bytes, start, end, o, proto);
  }

  get bytes(): Uint8Array {
    return this.b;
  }
  /** Whether 0xFF 0x03 was present. */
  get hasAddressControl(): boolean {
    return this.b[this.start] === PPP_ADDRESS_ALL_STATIONS;
  }
  /** 1 when the Protocol field was compressed, else 2. */
  get protocolFieldLength(): number {
    return this.info - this.start - (this.hasAddressControl ? 2 : 0);
  }
  get protocol(): number {
    return this.proto;
  }
  /** Offset of the Information field in {@link bytes}. */
  get informationStart(): number {
    return this.info;
  }
  get informationEnd(): number {
    return this.end;
  }
  /** The Information field (and any padding: PPP has no length of its own; RFC 1661 §2). View. */
  get information(): Uint8Array {
    return this.b.subarray(this.info, this.end);
  }
  toFrame(): PppFrame {
    return { protocol: this.proto, payload: this.b.subarray(this.info, this.end) };
  }
}

/** Decodes a PPP frame (both with and without Address/Control, 1- or 2-octet Protocol). */
export function decodePppFrame(bytes: Uint8Array): PppFrame {
  return PppFrameView.check(bytes).toFrame();
}

/** Encoded size of `frame` under `flags`. */
export function pppFrameLength(frame: PppFrame, flags: PppFramingFlags = PPP_NO_COMPRESSION): number {
  const first = frame.payload.length ? frame.payload[0]! : -1;
  return pppHeaderLength(frame.protocol, first, flags) + frame.payload.length;
}

/**
 * Encodes `frame` (header + a copy of the Information field) under `flags`
 * into `out` at `offset`, allocating when `out` is omitted; returns a view
 * of the bytes written. Throws `RangeError` for a Protocol value RFC 1661 §2
 * does not allow (even, odd high octet, or the reserved 0x00ff).
 */
export function encodePppFrame(
  frame: PppFrame,
  flags: PppFramingFlags = PPP_NO_COMPRESSION,
  out?: Uint8Array,
  offset = 0,
): Uint8Array {
  const p = frame.protocol;
  if (p < 0 || p > 0xffff || !(p & 1) || p & 0x100 || p === 0xff)
    throw new RangeError(`invalid PPP Protocol 0x${p.toString(16)}`);
  const len = pppFrameLength(frame, flags);
  const buf = outputBuffer(out, offset, len, 'encodePppFrame');
  const first = frame.payload.length ? frame.payload[0]! : -1;
  const hlen = encodePppHeader(p, first, flags, buf, offset);
  buf.set(frame.payload, offset + hlen);
  return buf.subarray(offset, offset + len);
}
