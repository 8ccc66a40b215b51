/**
 * IPv6 Control Protocol (RFC 5072), PPP protocol 0x8057.
 *
 * IPv6CP uses the LCP packet exchange with codes 1–7 only (RFC 5072 §3), so
 * its packets are the shared {@link NcpPacket}s of lcp.ts. Options:
 * Interface-Identifier (RFC 5072 §4.1) and IPv6-Compression-Protocol (type
 * 2, from RFC 2472 §4.2; RFC 5072 removed it, but old peers still send it,
 * and the policy rejects it). Also the link-local address an identifier
 * gives (RFC 5072 §5).
 *
 * Ownership: `interfaceIdentifier` and `data` in decoded options are views
 * into the input.
 */

import { ipv6ToString, u16 } from './bytes.js';
import { type CpOption, protocolOptionData, typeOfKind } from './cp.js';
import {
  decodeNcpPacket,
  encodeNcpPacket,
  expectOptionLength,
  expectOptionMinLength,
  type NcpPacket,
  ncpPacketLength,
} from './ncp.js';

/** IPv6CP packets: codes 1–7 (RFC 5072 §3). */
export type Ipv6cpPacket = NcpPacket;

/** Decodes an IPv6CP packet (RFC 5072 §3); unknown codes become `{kind: 'unknown'}` for Code-Reject. */
export const decodeIpv6cpPacket: (bytes: Uint8Array) => Ipv6cpPacket = decodeNcpPacket;
/** Encodes an IPv6CP packet into `out` at `offset` (allocating when omitted). */
export const encodeIpv6cpPacket: (p: Ipv6cpPacket, out?: Uint8Array, offset?: number) => Uint8Array =
  encodeNcpPacket;
/** Encoded size of an IPv6CP packet. */
export const ipv6cpPacketLength: (p: Ipv6cpPacket) => number = ncpPacketLength;

/** IPv6CP Configuration Option types. */
export enum Ipv6cpOptionType {
  /** RFC 5072 §4.1 */
  InterfaceIdentifier = 1,
  /** RFC 2472 §4.2 (removed by RFC 5072, appendix "Changes") */
  Ipv6CompressionProtocol = 2,
}

/** Size of the Interface-Identifier field (RFC 5072 §4.1: "The Interface-Identifier field is 8 octets"... Length 10). */
export const INTERFACE_IDENTIFIER_LENGTH = 8;

/** A typed IPv6CP option value. Switch on `kind`. */
export type Ipv6cpOption =
  /** RFC 5072 §4.1, Length 10. All zeros means "please assign one". */
  | { readonly kind: 'interface-identifier'; readonly interfaceIdentifier: Uint8Array }
  /** RFC 2472 §4.2, Length >= 4. */
  | { readonly kind: 'ipv6-compression-protocol'; readonly protocol: number; readonly data: Uint8Array }
  /** Any other type, kept byte for byte. */
  | { readonly kind: 'unknown'; readonly type: number; readonly data: Uint8Array };

/**
 * Decodes one raw IPv6CP option. Throws `OptionLengthError` (a WireError)
 * when a known option's Length is wrong for its type.
 */
export function decodeIpv6cpOption(o: CpOption): Ipv6cpOption {
  switch (o.type) {
    case Ipv6cpOptionType.InterfaceIdentifier:
      expectOptionLength('IPv6CP', o, 10, 'RFC 5072 §4.1 Interface-Identifier: "Length 10"');
      return { kind: 'interface-identifier', interfaceIdentifier: o.data };
    case Ipv6cpOptionType.Ipv6CompressionProtocol:
      expectOptionMinLength('IPv6CP', o, 4, 'RFC 2472 §4.2 IPv6-Compression-Protocol: "Length >= 4"');
      return { kind: 'ipv6-compression-protocol', protocol: u16(o.data, 0), data: o.data.subarray(2) };
    default:
      return { kind: 'unknown', type: o.type, data: o.data };
  }
}

/** The Type of each typed IPv6CP option. */
const IPV6CP_OPTION_TYPES = {
  'interface-identifier': Ipv6cpOptionType.InterfaceIdentifier,
  'ipv6-compression-protocol': Ipv6cpOptionType.Ipv6CompressionProtocol,
} as const;

/** The Type of a typed IPv6CP option. */
export function ipv6cpOptionType(o: Ipv6cpOption): number {
  return typeOfKind(IPV6CP_OPTION_TYPES, o);
}

/**
 * Encodes a typed IPv6CP option as a raw option (new bytes). Throws
 * `RangeError` when an Interface-Identifier is not 8 bytes.
 */
export function encodeIpv6cpOption(o: Ipv6cpOption): CpOption {
  const type = ipv6cpOptionType(o);
  switch (o.kind) {
    case 'interface-identifier':
      if (o.interfaceIdentifier.length !== INTERFACE_IDENTIFIER_LENGTH) {
        throw new RangeError(`Interface-Identifier must be 8 bytes, got ${o.interfaceIdentifier.length}`);
      }
      return { type, data: o.interfaceIdentifier.slice() };
    case 'ipv6-compression-protocol':
      return { type, data: protocolOptionData(o.protocol, o.data) };
    case 'unknown':
      return { type, data: o.data.slice() };
  }
}

/**
 * The link-local address for an interface identifier (RFC 5072 §5):
 * `1111111010` then 54 zero bits then the 64-bit identifier, in RFC 5952
 * text form.
 */
export function linkLocalAddress(id: Uint8Array): string {
  if (id.length !== INTERFACE_IDENTIFIER_LENGTH) throw new RangeError('interface identifier must be 8 bytes');
  const address = new Uint8Array(16);
  address[0] = 0xfe;
  address[1] = 0x80;
  address.set(id, 8);
  return ipv6ToString(address);
}
