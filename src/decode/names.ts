/**
 * Display names for numbers the dissector shows, named as the defining RFCs
 * name them. A number without a name is shown as the number.
 */

/** `Name (0x0021)`-style text, or just the number. */
export function named(table: Readonly<Record<number, string>>, v: number, hexDigits = 0): string {
  const num = hexDigits ? `0x${v.toString(16).padStart(hexDigits, '0')}` : String(v);
  const name = table[v];
  return name ? `${name} (${num})` : num;
}

/** PPP Protocol field values (RFC 1661 §2 and the protocols' RFCs; IANA "PPP DLL Protocol Numbers"). */
export const PPP_PROTOCOL_NAMES: Readonly<Record<number, string>> = {
  33: 'IPv4',
  45: 'Van Jacobson compressed TCP/IP',
  47: 'Van Jacobson uncompressed TCP/IP',
  61: 'Multilink',
  87: 'IPv6',
  251: 'Compressed datagram (single link)',
  253: 'Compressed datagram',
  641: 'MPLS unicast',
  32801: 'IPCP',
  32855: 'IPv6CP',
  33019: 'CCP (single link)',
  33021: 'CCP',
  33409: 'MPLSCP',
  49185: 'LCP',
  49187: 'PAP',
  49189: 'Link Quality Report',
  49195: 'BACP',
  49197: 'BAP',
  49699: 'CHAP',
  49703: 'EAP',
};

/** Codes of LCP (RFC 1661 §5, RFC 1570 §1) — IPCP/IPv6CP use 1–7, CCP 1–7 and 14–15 (RFC 1962 §3.1). */
export const CP_CODE_NAMES: Readonly<Record<number, string>> = {
  1: 'Configure-Request',
  2: 'Configure-Ack',
  3: 'Configure-Nak',
  4: 'Configure-Reject',
  5: 'Terminate-Request',
  6: 'Terminate-Ack',
  7: 'Code-Reject',
  8: 'Protocol-Reject',
  9: 'Echo-Request',
  10: 'Echo-Reply',
  11: 'Discard-Request',
  12: 'Identification',
  13: 'Time-Remaining',
  14: 'Reset-Request',
  15: 'Reset-Ack',
};

/** LCP Configuration Option types (RFC 1661 §6, RFC 1570 §2, RFC 1990 §5.1, RFC 2125, RFC 2153). */
export const LCP_OPTION_NAMES: Readonly<Record<number, string>> = {
  0: 'Vendor-Specific',
  1: 'MRU',
  2: 'ACCM',
  3: 'Authentication-Protocol',
  4: 'Quality-Protocol',
  5: 'Magic-Number',
  7: 'Protocol-Field-Compression',
  8: 'Address-and-Control-Field-Compression',
  9: 'FCS-Alternatives',
  10: 'Self-Describing-Padding',
  11: 'Numbered-Mode',
  13: 'Callback',
  15: 'Compound-Frames',
  17: 'Multilink-MRRU',
  18: 'Multilink-Short-Sequence-Number',
  19: 'Endpoint-Discriminator',
  23: 'Link-Discriminator',
};

/** IPCP Configuration Option types (RFC 1332 §3, RFC 1877 §1). */
export const IPCP_OPTION_NAMES: Readonly<Record<number, string>> = {
  1: 'IP-Addresses',
  2: 'IP-Compression-Protocol',
  3: 'IP-Address',
  129: 'Primary-DNS-Address',
  130: 'Primary-NBNS-Address',
  131: 'Secondary-DNS-Address',
  132: 'Secondary-NBNS-Address',
};

/** IPv6CP Configuration Option types (RFC 5072 §4, RFC 2472 §4.2). */
export const IPV6CP_OPTION_NAMES: Readonly<Record<number, string>> = {
  1: 'Interface-Identifier',
  2: 'IPv6-Compression-Protocol',
};

/** CCP Configuration Option types (RFC 1962 §4 and the compression RFCs). */
export const CCP_OPTION_NAMES: Readonly<Record<number, string>> = {
  0: 'OUI',
  1: 'Predictor-1',
  2: 'Predictor-2',
  3: 'Puddle-Jumper',
  16: 'Hewlett-Packard-PPC',
  17: 'Stac-LZS',
  18: 'MPPE/MPPC',
  19: 'Gandalf-FZA',
  20: 'V.42bis',
  21: 'BSD-Compress',
  23: 'LZS-DCP',
  24: 'Magnalink',
  25: 'DCE',
  26: 'Deflate',
};

/** CHAP Algorithm octet of the LCP Authentication-Protocol option (RFC 1994 §3, RFC 2433 §4, RFC 2759 §2). */
export const CHAP_ALGORITHM_NAMES: Readonly<Record<number, string>> = {
  5: 'MD5',
  128: 'MS-CHAP',
  129: 'MS-CHAPv2',
};

/** PAP codes (RFC 1334 §2.2). */
export const PAP_CODE_NAMES: Readonly<Record<number, string>> = {
  1: 'Authenticate-Request',
  2: 'Authenticate-Ack',
  3: 'Authenticate-Nak',
};

/** CHAP codes (RFC 1994 §4, RFC 2759 §7). */
export const CHAP_CODE_NAMES: Readonly<Record<number, string>> = {
  1: 'Challenge',
  2: 'Response',
  3: 'Success',
  4: 'Failure',
  7: 'Change-Password',
};

/** MS-CHAP `E=` error codes (RFC 2433 §8, RFC 2759 §6). */
export const MSCHAP_ERROR_NAMES: Readonly<Record<number, string>> = {
  646: 'ERROR_RESTRICTED_LOGON_HOURS',
  647: 'ERROR_ACCT_DISABLED',
  648: 'ERROR_PASSWD_EXPIRED',
  649: 'ERROR_NO_DIALIN_PERMISSION',
  691: 'ERROR_AUTHENTICATION_FAILURE',
  709: 'ERROR_CHANGING_PASSWORD',
};

/** EtherTypes (IEEE registry). */
export const ETHER_TYPE_NAMES: Readonly<Record<number, string>> = {
  2048: 'IPv4',
  2054: 'ARP',
  33024: '802.1Q',
  34525: 'IPv6',
  34915: 'PPPoE discovery',
  34916: 'PPPoE session',
  34984: '802.1ad',
  35020: 'LLDP',
};

/** ICMPv4 types (RFC 792, RFC 1191). */
export const ICMP_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'Echo Reply',
  3: 'Destination Unreachable',
  4: 'Source Quench',
  5: 'Redirect',
  8: 'Echo Request',
  9: 'Router Advertisement',
  10: 'Router Solicitation',
  11: 'Time Exceeded',
  12: 'Parameter Problem',
  13: 'Timestamp',
  14: 'Timestamp Reply',
};

/** ICMPv4 Destination Unreachable codes (RFC 792, RFC 1191 §4, RFC 1812 §5.2.7.1). */
export const ICMP_UNREACHABLE_CODE_NAMES: Readonly<Record<number, string>> = {
  0: 'net unreachable',
  1: 'host unreachable',
  2: 'protocol unreachable',
  3: 'port unreachable',
  4: 'fragmentation needed and DF set',
  5: 'source route failed',
  9: 'network administratively prohibited',
  10: 'host administratively prohibited',
  13: 'communication administratively prohibited',
};

/** ICMPv6 types (RFC 4443, RFC 4861). */
export const ICMPV6_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'Destination Unreachable',
  2: 'Packet Too Big',
  3: 'Time Exceeded',
  4: 'Parameter Problem',
  128: 'Echo Request',
  129: 'Echo Reply',
  133: 'Router Solicitation',
  134: 'Router Advertisement',
  135: 'Neighbor Solicitation',
  136: 'Neighbor Advertisement',
  137: 'Redirect',
  143: 'Multicast Listener Report v2',
};

/** Linux ARPHRD_* values seen in cooked captures (linux/if_arp.h). */
export const ARPHRD_NAMES: Readonly<Record<number, string>> = {
  1: 'Ethernet',
  512: 'PPP',
  772: 'loopback',
  776: 'IPv6-in-IPv4',
  778: 'GRE',
  65534: 'none (tun)',
};
