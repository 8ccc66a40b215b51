/**
 * RADIUS packet codec (RFC 2865 §3 and §5, RFC 2866 §3, RFC 5176 §2.3).
 *
 * Decoding is zero-copy: every attribute value is a `subarray` of the input,
 * so a decoded packet is valid only while its input buffer is. Decoders are
 * total: they return a {@link RadiusPacket} or throw a {@link WireError}.
 * Authenticators and hidden attributes need the shared secret and MD5: they
 * live in `crypto/radius.ts`, not here.
 */

import { put16, u16 } from '../bytes.js';
import { WireError, WireErrorCode } from '../errors.js';

/** RFC 2865 §3 Code field (plus RFC 2866 §4 and RFC 5176 §3.5). */
export enum RadiusCode {
  AccessRequest = 1,
  AccessAccept = 2,
  AccessReject = 3,
  AccountingRequest = 4,
  AccountingResponse = 5,
  AccessChallenge = 11,
  StatusServer = 12,
  StatusClient = 13,
  DisconnectRequest = 40,
  DisconnectAck = 41,
  DisconnectNak = 42,
  CoaRequest = 43,
  CoaAck = 44,
  CoaNak = 45,
}

/** RFC 2865 §3: Code, Identifier, Length, 16-byte Authenticator. */
export const RADIUS_HEADER_LENGTH = 20;
/** RFC 2865 §3: "The minimum length is 20 and maximum length is 4096." */
export const RADIUS_MAX_PACKET_LENGTH = 4096;
/** RFC 2865 §3: the Authenticator field is sixteen octets. */
export const RADIUS_AUTHENTICATOR_LENGTH = 16;
/** RFC 2865 §5: Length is one octet covering Type and Length, so a value holds at most 253 octets. */
export const RADIUS_MAX_ATTRIBUTE_VALUE = 253;

/** One attribute, undecoded: RFC 2865 §5 Type and the octets after Length. */
export interface RadiusAttribute {
  readonly type: number;
  readonly value: Uint8Array;
}

export interface RadiusPacket {
  readonly code: number;
  readonly identifier: number;
  /** 16 octets: Request or Response Authenticator (RFC 2865 §3). */
  readonly authenticator: Uint8Array;
  /** In wire order; unknown types are kept as they came. */
  readonly attributes: readonly RadiusAttribute[];
}

const LENGTH_REFERENCE =
  'RFC 2865 §3: "If the packet is shorter than the Length field indicates, it MUST be silently discarded"';
const MIN_LENGTH_REFERENCE = 'RFC 2865 §3: "The minimum length is 20 and maximum length is 4096"';
const ATTRIBUTE_REFERENCE =
  'RFC 2865 §5: an attribute\'s Length "indicates the length of this Attribute including the Type, Length and Value fields"; below 2 or past the packet, the packet is malformed';

/**
 * Decodes one RADIUS packet. RFC 2865 §3: "Octets outside the range of the
 * Length field MUST be treated as padding and ignored on reception", so
 * bytes after Length are ignored; a datagram shorter than Length, a Length
 * outside 20..4096, or an attribute whose Length is below 2 or runs past the
 * packet makes it throw (the caller drops the packet and counts it).
 */
export function decodeRadius(b: Uint8Array): RadiusPacket {
  if (b.length < RADIUS_HEADER_LENGTH) {
    throw new WireError(
      WireErrorCode.Truncated,
      `radius: need ${RADIUS_HEADER_LENGTH} bytes, have ${b.length}`,
      MIN_LENGTH_REFERENCE,
    );
  }
  const length = u16(b, 2);
  if (length < RADIUS_HEADER_LENGTH) {
    throw new WireError(WireErrorCode.LengthTooSmall, `radius: Length ${length}`, MIN_LENGTH_REFERENCE);
  }
  if (length > RADIUS_MAX_PACKET_LENGTH) {
    throw new WireError(WireErrorCode.LengthTooLarge, `radius: Length ${length}`, MIN_LENGTH_REFERENCE);
  }
  if (length > b.length) {
    throw new WireError(
      WireErrorCode.Truncated,
      `radius: Length ${length} but only ${b.length} bytes`,
      LENGTH_REFERENCE,
    );
  }
  return {
    code: b[0]!,
    identifier: b[1]!,
    authenticator: b.subarray(4, 20),
    attributes: decodeAttributes(b.subarray(RADIUS_HEADER_LENGTH, length), 'radius'),
  };
}

/** RFC 2865 §5 Type-Length-Value list covering exactly `b`. */
export function decodeAttributes(b: Uint8Array, what: string): RadiusAttribute[] {
  const out: RadiusAttribute[] = [];
  let off = 0;
  while (off < b.length) {
    if (off + 2 > b.length) {
      throw new WireError(
        WireErrorCode.BadOption,
        `${what}: attribute header cut at ${off}`,
        ATTRIBUTE_REFERENCE,
      );
    }
    const len = b[off + 1]!;
    if (len < 2) {
      throw new WireError(
        WireErrorCode.BadOption,
        `${what}: attribute ${b[off]} at ${off} has Length ${len}`,
        ATTRIBUTE_REFERENCE,
      );
    }
    if (off + len > b.length) {
      throw new WireError(
        WireErrorCode.BadOption,
        `${what}: attribute ${b[off]} at ${off} has Length ${len}, ${b.length - off} left`,
        ATTRIBUTE_REFERENCE,
      );
    }
    out.push({ type: b[off]!, value: b.subarray(off + 2, off + len) });
    off += len;
  }
  return out;
}

/** Bytes {@link encodeAttributes} writes for `attrs`. */
export function attributesLength(attrs: readonly RadiusAttribute[]): number {
  let n = 0;
  for (const a of attrs) n += 2 + a.value.length;
  return n;
}

/** Writes a TLV list at `off`; returns the offset after it. Throws RangeError for a value over 253 octets. */
export function encodeAttributes(out: Uint8Array, off: number, attrs: readonly RadiusAttribute[]): number {
  for (const a of attrs) {
    if (a.value.length > RADIUS_MAX_ATTRIBUTE_VALUE) {
      throw new RangeError(`radius: attribute ${a.type} value is ${a.value.length} octets (max 253)`);
    }
    if (a.type < 0 || a.type > 255) throw new RangeError(`radius: attribute type ${a.type}`);
    out[off] = a.type;
    out[off + 1] = a.value.length + 2;
    out.set(a.value, off + 2);
    off += 2 + a.value.length;
  }
  return off;
}

/**
 * Encodes a packet with its Authenticator field as given (all zeros when
 * `authenticator` is omitted); `crypto/radius.ts` fills in authenticators
 * and Message-Authenticator afterwards. Throws RangeError above 4096 octets.
 */
export function encodeRadius(p: {
  readonly code: number;
  readonly identifier: number;
  readonly authenticator?: Uint8Array;
  readonly attributes: readonly RadiusAttribute[];
}): Uint8Array {
  const length = RADIUS_HEADER_LENGTH + attributesLength(p.attributes);
  if (length > RADIUS_MAX_PACKET_LENGTH)
    throw new RangeError(`radius: packet would be ${length} octets (max 4096)`);
  const out = new Uint8Array(length);
  out[0] = p.code;
  out[1] = p.identifier & 0xff;
  put16(out, 2, length);
  if (p.authenticator) {
    if (p.authenticator.length !== RADIUS_AUTHENTICATOR_LENGTH)
      throw new RangeError('radius: authenticator must be 16 octets');
    out.set(p.authenticator, 4);
  }
  encodeAttributes(out, RADIUS_HEADER_LENGTH, p.attributes);
  return out;
}

/** Offset of the value of the first attribute of `type` in an encoded packet, or -1. Assumes a valid packet. */
export function findAttributeOffset(packet: Uint8Array, type: number): number {
  const end = Math.min(packet.length, u16(packet, 2));
  let off = RADIUS_HEADER_LENGTH;
  while (off + 2 <= end) {
    const len = packet[off + 1]!;
    if (len < 2) return -1;
    if (packet[off] === type) return off + 2;
    off += len;
  }
  return -1;
}

/** The first attribute of `type`, if any. */
export function getAttribute(p: RadiusPacket, type: number): Uint8Array | undefined {
  for (const a of p.attributes) if (a.type === type) return a.value;
  return undefined;
}

/** Every attribute of `type`, in order (Class, Reply-Message and Vendor-Specific may repeat). */
export function getAttributes(p: RadiusPacket, type: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const a of p.attributes) if (a.type === type) out.push(a.value);
  return out;
}
