/**
 * IP Control Protocol (RFC 1332), PPP protocol 0x8021, with the name-server
 * options of RFC 1877.
 *
 * IPCP "uses the same packet exchange mechanism as the Link Control
 * Protocol" with codes 1–7 only (RFC 1332 §2), so its packets are the
 * shared {@link NcpPacket}s of lcp.ts. This file adds the option values.
 *
 * IPv4 addresses are unsigned 32-bit numbers (print them with
 * `ipv4ToString` from bytes.ts).
 *
 * Ownership: `data` fields in decoded options are views into the input.
 */

import { put32, u16, u32 } from './bytes.js';
import { type CpOption, protocolOptionData, typeOfKind } from './cp.js';
import {
  decodeNcpPacket,
  encodeNcpPacket,
  expectOptionLength,
  expectOptionMinLength,
  type NcpPacket,
  ncpPacketLength,
} from './ncp.js';

/** IPCP packets: codes 1–7 (RFC 1332 §2). */
export type IpcpPacket = NcpPacket;

/** Decodes an IPCP packet (RFC 1332 §2); unknown codes become `{kind: 'unknown'}` for Code-Reject. */
export const decodeIpcpPacket: (bytes: Uint8Array) => IpcpPacket = decodeNcpPacket;
/** Encodes an IPCP packet into `out` at `offset` (allocating when omitted). */
export const encodeIpcpPacket: (p: IpcpPacket, out?: Uint8Array, offset?: number) => Uint8Array =
  encodeNcpPacket;
/** Encoded size of an IPCP packet. */
export const ipcpPacketLength: (p: IpcpPacket) => number = ncpPacketLength;

/** IPCP Configuration Option types (RFC 1332 §3, RFC 1877 §1). */
export enum IpcpOptionType {
  /** RFC 1332 §3.1 (deprecated): Source-IP-Address, Destination-IP-Address. */
  IpAddresses = 1,
  /** RFC 1332 §3.2 */
  IpCompressionProtocol = 2,
  /** RFC 1332 §3.3 */
  IpAddress = 3,
  /** RFC 1877 §1.1 */
  PrimaryDnsServerAddress = 129,
  /** RFC 1877 §1.2 */
  PrimaryNbnsServerAddress = 130,
  /** RFC 1877 §1.3 */
  SecondaryDnsServerAddress = 131,
  /** RFC 1877 §1.4 */
  SecondaryNbnsServerAddress = 132,
}

/** IP-Compression-Protocol values (RFC 1332 §4). */
export enum IpCompressionProtocol {
  /** RFC 1332 §4.1: "002d (hex) for Van Jacobson Compressed TCP/IP headers." */
  VanJacobson = 0x002d,
}

/** The four RFC 1877 name-server options, as `kind`s. */
export type NameServerKind = 'primary-dns' | 'primary-nbns' | 'secondary-dns' | 'secondary-nbns';

/** A typed IPCP option value. Switch on `kind`. */
export type IpcpOption =
  /** RFC 1332 §3.1, Length 10 (deprecated; the policy rejects it). */
  | { readonly kind: 'ip-addresses'; readonly sourceAddress: number; readonly destinationAddress: number }
  /** RFC 1332 §3.2, Length >= 4; VJ (002d) carries Max-Slot-Id and Comp-Slot-Id in `data` (Length 6). */
  | { readonly kind: 'ip-compression-protocol'; readonly protocol: number; readonly data: Uint8Array }
  /** RFC 1332 §3.3, Length 6. 0.0.0.0 asks the peer to assign one. */
  | { readonly kind: 'ip-address'; readonly address: number }
  /** RFC 1877 §1.1–1.4, Length 6 each. 0.0.0.0 asks the peer for one. */
  | { readonly kind: NameServerKind; readonly address: number }
  /** Any other type, kept byte for byte. */
  | { readonly kind: 'unknown'; readonly type: number; readonly data: Uint8Array };

const NAME_SERVER_KINDS: Readonly<Record<number, NameServerKind>> = {
  [IpcpOptionType.PrimaryDnsServerAddress]: 'primary-dns',
  [IpcpOptionType.PrimaryNbnsServerAddress]: 'primary-nbns',
  [IpcpOptionType.SecondaryDnsServerAddress]: 'secondary-dns',
  [IpcpOptionType.SecondaryNbnsServerAddress]: 'secondary-nbns',
};

/**
 * Decodes one raw IPCP option. Throws `OptionLengthError` (a WireError)
 * when a known option's Length is wrong for its type; unknown types decode
 * to `{kind: 'unknown'}`.
 */
export function decodeIpcpOption(o: CpOption): IpcpOption {
  const d = o.data;
  switch (o.type) {
    case IpcpOptionType.IpAddresses:
      expectOptionLength('IPCP', o, 10, 'RFC 1332 §3.1 IP-Addresses: "Length 10"');
      return { kind: 'ip-addresses', sourceAddress: u32(d, 0), destinationAddress: u32(d, 4) };
    case IpcpOptionType.IpCompressionProtocol:
      expectOptionMinLength('IPCP', o, 4, 'RFC 1332 §3.2 IP-Compression-Protocol: "Length >= 4"');
      return { kind: 'ip-compression-protocol', protocol: u16(d, 0), data: d.subarray(2) };
    case IpcpOptionType.IpAddress:
      expectOptionLength('IPCP', o, 6, 'RFC 1332 §3.3 IP-Address: "Length 6"');
      return { kind: 'ip-address', address: u32(d, 0) };
    case IpcpOptionType.PrimaryDnsServerAddress:
    case IpcpOptionType.PrimaryNbnsServerAddress:
    case IpcpOptionType.SecondaryDnsServerAddress:
    case IpcpOptionType.SecondaryNbnsServerAddress:
      expectOptionLength('IPCP', o, 6, 'RFC 1877 §1: name-server address options have "Length 6"');
      return { kind: NAME_SERVER_KINDS[o.type]!, address: u32(d, 0) };
    default:
      return { kind: 'unknown', type: o.type, data: d };
  }
}

/** The Type of each typed IPCP option. */
const IPCP_OPTION_TYPES = {
  'ip-addresses': IpcpOptionType.IpAddresses,
  'ip-compression-protocol': IpcpOptionType.IpCompressionProtocol,
  'ip-address': IpcpOptionType.IpAddress,
  'primary-dns': IpcpOptionType.PrimaryDnsServerAddress,
  'primary-nbns': IpcpOptionType.PrimaryNbnsServerAddress,
  'secondary-dns': IpcpOptionType.SecondaryDnsServerAddress,
  'secondary-nbns': IpcpOptionType.SecondaryNbnsServerAddress,
} as const;

/** The Type of a typed IPCP option. */
export function ipcpOptionType(o: IpcpOption): number {
  return typeOfKind(IPCP_OPTION_TYPES, o);
}

/** Encodes a typed IPCP option as a raw option (new bytes). */
export function encodeIpcpOption(o: IpcpOption): CpOption {
  const type = ipcpOptionType(o);
  switch (o.kind) {
    case 'ip-addresses': {
      const data = new Uint8Array(8);
      put32(data, 0, o.sourceAddress);
      put32(data, 4, o.destinationAddress);
      return { type, data };
    }
    case 'ip-compression-protocol':
      return { type, data: protocolOptionData(o.protocol, o.data) };
    case 'ip-address':
    case 'primary-dns':
    case 'primary-nbns':
    case 'secondary-dns':
    case 'secondary-nbns': {
      const data = new Uint8Array(4);
      put32(data, 0, o.address);
      return { type, data };
    }
    case 'unknown':
      return { type, data: o.data.slice() };
  }
}
