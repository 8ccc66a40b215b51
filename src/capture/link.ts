/**
 * Link-layer headers of captured frames: the LINKTYPE_* values tcpdump,
 * dumpcap and tshark write for Ethernet, Linux "cooked" captures (`-i any`),
 * raw IP and BSD loopback, and how to find the network-layer packet inside.
 *
 * Ownership: `payload` is a view into the frame.
 */

import { u16 } from '../wire/bytes.js';
import { WireError, WireErrorCode } from '../wire/errors.js';
import { rd16, rd32 } from './byte-order.js';

/** LINKTYPE_* values (tcpdump.org/linktypes.html) this reader handles. */
export enum LinkType {
  /** BSD loopback: a 4-byte address family in the writer's byte order. */
  Null = 0,
  /** IEEE 802.3 Ethernet (Ethernet II or 802.3 with LLC). */
  Ethernet = 1,
  /** Raw IP, as DLT_RAW on most BSDs (written by some old tools as the link type). */
  RawBsd12 = 12,
  /** Raw IP, as DLT_RAW on OpenBSD. */
  RawBsd14 = 14,
  /** Raw IP, IPv4 or IPv6 by the version nibble (LINKTYPE_RAW). */
  Raw = 101,
  /** OpenBSD loopback: a 4-byte address family in network byte order. */
  Loop = 108,
  /** Linux cooked capture v1 (SLL), what `tcpdump -i any` wrote before libpcap 1.10. */
  LinuxSll = 113,
  /** Raw IPv4 only. */
  Ipv4 = 228,
  /** Raw IPv6 only. */
  Ipv6 = 229,
  /** Linux cooked capture v2 (SLL2), `tcpdump -i any` with libpcap ≥ 1.10. */
  LinuxSll2 = 276,
}

/** Human names of the link types, for output. */
export const LINK_TYPE_NAMES: Readonly<Record<number, string>> = {
  [LinkType.Null]: 'BSD loopback',
  [LinkType.Ethernet]: 'Ethernet',
  [LinkType.RawBsd12]: 'Raw IP',
  [LinkType.RawBsd14]: 'Raw IP',
  [LinkType.Raw]: 'Raw IP',
  [LinkType.Loop]: 'OpenBSD loopback',
  [LinkType.LinuxSll]: 'Linux cooked capture v1',
  [LinkType.Ipv4]: 'Raw IPv4',
  [LinkType.Ipv6]: 'Raw IPv6',
  [LinkType.LinuxSll2]: 'Linux cooked capture v2',
};

/** EtherType values that matter here (IEEE registry). */
export enum EtherType {
  Ipv4 = 0x0800,
  Arp = 0x0806,
  /** IEEE 802.1Q VLAN tag. */
  Vlan = 0x8100,
  Ipv6 = 0x86dd,
  /** IEEE 802.1ad service tag (Q-in-Q). */
  QinQ = 0x88a8,
  /** Pre-standard Q-in-Q tag some switches still use. */
  QinQOld = 0x9100,
}

/** Which network protocol a frame carries, when it is one this tool dissects. */
export type NetworkProtocol = 'ipv4' | 'ipv6';

/** One 802.1Q/802.1ad tag. */
export interface VlanTag {
  readonly tpid: number;
  readonly priority: number;
  readonly dropEligible: boolean;
  readonly id: number;
}

/** Linux `sll_pkttype` values (linux/if_packet.h), shown in cooked captures. */
export const SLL_PACKET_TYPES: Readonly<Record<number, string>> = {
  0: 'unicast to us',
  1: 'broadcast',
  2: 'multicast',
  3: 'unicast to another host',
  4: 'sent by us',
};

/** The link header, decoded for display. */
export type LinkHeader =
  | {
      readonly kind: 'ethernet';
      readonly destination: string;
      readonly source: string;
      readonly vlans: readonly VlanTag[];
      /** The EtherType after any VLAN tags, or the 802.3 length when ≤ 1500. */
      readonly etherType: number;
    }
  | {
      readonly kind: 'sll';
      readonly packetType: number;
      readonly arphrdType: number;
      readonly address: string;
      readonly protocol: number;
    }
  | {
      readonly kind: 'sll2';
      readonly protocol: number;
      readonly interfaceIndex: number;
      readonly arphrdType: number;
      readonly packetType: number;
      readonly address: string;
    }
  | { readonly kind: 'loopback'; readonly family: number }
  | { readonly kind: 'raw' };

/** A frame split into its link header and network-layer payload. */
export interface LinkFrame {
  readonly linkType: number;
  readonly header: LinkHeader;
  /** Length of the link-layer header in bytes. */
  readonly headerLength: number;
  /** `undefined` when the frame carries something other than IPv4/IPv6 (ARP, LLC...). */
  readonly network: NetworkProtocol | undefined;
  readonly payload: Uint8Array;
}

/** Colon-separated hex of a hardware address. */
export function macToString(b: Uint8Array): string {
  const parts: string[] = [];
  for (const x of b) parts.push(x.toString(16).padStart(2, '0'));
  return parts.join(':');
}

function byEtherType(t: number): NetworkProtocol | undefined {
  if (t === EtherType.Ipv4) return 'ipv4';
  if (t === EtherType.Ipv6) return 'ipv6';
  return undefined;
}

function byVersionNibble(b: Uint8Array): NetworkProtocol | undefined {
  if (b.length === 0) return undefined;
  const v = b[0]! >>> 4;
  return v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : undefined;
}

/** BSD address-family values for IPv4 (2 everywhere) and IPv6 (24 NetBSD/OpenBSD, 28 FreeBSD, 30 macOS). */
function byAddressFamily(f: number): NetworkProtocol | undefined {
  if (f === 2) return 'ipv4';
  if (f === 24 || f === 28 || f === 30) return 'ipv6';
  return undefined;
}

/**
 * Splits a captured frame into link header and network packet. A trailing
 * FCS of `fcsLength` bytes (when the capture says there is one) is removed
 * first. Throws `WireError` when the frame is too short for its link header
 * or the link type is not one of {@link LinkType}.
 */
export function decodeLinkFrame(linkType: number, frame: Uint8Array, fcsLength = 0): LinkFrame {
  const data =
    fcsLength > 0 && frame.length >= fcsLength ? frame.subarray(0, frame.length - fcsLength) : frame;
  const need = (n: number, what: string) => {
    if (data.length < n) {
      throw new WireError(
        WireErrorCode.Truncated,
        `${what}: frame of ${data.length} bytes < ${n}-byte header`,
      );
    }
  };
  switch (linkType) {
    case LinkType.Ethernet: {
      need(14, 'Ethernet');
      let off = 12;
      let type = u16(data, off);
      const vlans: VlanTag[] = [];
      while (type === EtherType.Vlan || type === EtherType.QinQ || type === EtherType.QinQOld) {
        need(off + 6, '802.1Q tag');
        const tci = u16(data, off + 2);
        vlans.push({
          tpid: type,
          priority: tci >>> 13,
          dropEligible: (tci & 0x1000) !== 0,
          id: tci & 0x0fff,
        });
        off += 4;
        type = u16(data, off);
      }
      const headerLength = off + 2;
      return {
        linkType,
        header: {
          kind: 'ethernet',
          destination: macToString(data.subarray(0, 6)),
          source: macToString(data.subarray(6, 12)),
          vlans,
          etherType: type,
        },
        headerLength,
        // IEEE 802.3: a value ≤ 1500 is a length (LLC follows), not an EtherType.
        network: type > 1500 ? byEtherType(type) : undefined,
        payload: data.subarray(headerLength),
      };
    }
    case LinkType.LinuxSll: {
      need(16, 'Linux cooked header');
      const addrLen = Math.min(u16(data, 4), 8);
      const protocol = u16(data, 14);
      return {
        linkType,
        header: {
          kind: 'sll',
          packetType: u16(data, 0),
          arphrdType: u16(data, 2),
          address: macToString(data.subarray(6, 6 + addrLen)),
          protocol,
        },
        headerLength: 16,
        network: byEtherType(protocol),
        payload: data.subarray(16),
      };
    }
    case LinkType.LinuxSll2: {
      need(20, 'Linux cooked v2 header');
      const protocol = u16(data, 0);
      const addrLen = Math.min(data[11]!, 8);
      return {
        linkType,
        header: {
          kind: 'sll2',
          protocol,
          interfaceIndex: new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(4),
          arphrdType: u16(data, 8),
          packetType: data[10]!,
          address: macToString(data.subarray(12, 12 + addrLen)),
        },
        headerLength: 20,
        network: byEtherType(protocol),
        payload: data.subarray(20),
      };
    }
    case LinkType.Raw:
    case LinkType.RawBsd12:
    case LinkType.RawBsd14:
      return {
        linkType,
        header: { kind: 'raw' },
        headerLength: 0,
        network: byVersionNibble(data),
        payload: data,
      };
    case LinkType.Ipv4:
      return { linkType, header: { kind: 'raw' }, headerLength: 0, network: 'ipv4', payload: data };
    case LinkType.Ipv6:
      return { linkType, header: { kind: 'raw' }, headerLength: 0, network: 'ipv6', payload: data };
    case LinkType.Null:
    case LinkType.Loop: {
      need(4, 'loopback header');
      const be = rd32(data, 0, false);
      // LINKTYPE_NULL is in the writer's byte order: a family is small, so a
      // value with high bytes set was written little-endian.
      const family = linkType === LinkType.Loop || be <= 0xffff ? be : rd16(data, 0, true);
      return {
        linkType,
        header: { kind: 'loopback', family },
        headerLength: 4,
        network: byAddressFamily(family),
        payload: data.subarray(4),
      };
    }
    default:
      throw new WireError(WireErrorCode.UnknownType, `link type ${linkType} is not supported`);
  }
}
