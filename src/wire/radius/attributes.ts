/**
 * The RADIUS attribute dictionary this stack speaks, with typed builders and
 * readers: RFC 2865 §5, RFC 2866 §5 (accounting), RFC 2869 §5 (Gigawords,
 * Event-Timestamp, Message-Authenticator, Acct-Interim-Interval), RFC 2868
 * §3 (tunnel attributes with tags), RFC 5176 §3.5 (Error-Cause), and
 * RFC 2548 §2 (Microsoft vendor-specific attributes, Vendor-Id 311).
 *
 * Readers throw {@link WireError} when a value has the wrong size for its
 * data type, so a caller that reads a typed value from an untrusted packet
 * handles it like any other malformed input.
 */

import { fromUtf8, put32, u32, utf8 } from '../bytes.js';
import { WireError, WireErrorCode } from '../errors.js';
import { decodeAttributes, encodeAttributes, type RadiusAttribute, type RadiusPacket } from './packet.js';

/** RFC 2865 §5 data types, plus the tagged forms of RFC 2868 §3 and the hidden/salted ones. */
export type RadiusDataType =
  | 'text'
  | 'string'
  | 'address'
  | 'integer'
  | 'time'
  | 'tagged-integer'
  | 'tagged-text'
  | 'hidden'
  | 'salted'
  | 'vsa';

/** Attribute types (RFC 2865 §5, RFC 2866 §5, RFC 2868 §3, RFC 2869 §5, RFC 5176 §3). */
export enum RadiusAttr {
  UserName = 1,
  UserPassword = 2,
  ChapPassword = 3,
  NasIpAddress = 4,
  NasPort = 5,
  ServiceType = 6,
  FramedProtocol = 7,
  FramedIpAddress = 8,
  FramedIpNetmask = 9,
  FramedMtu = 12,
  ReplyMessage = 18,
  State = 24,
  Class = 25,
  VendorSpecific = 26,
  SessionTimeout = 27,
  IdleTimeout = 28,
  CalledStationId = 30,
  CallingStationId = 31,
  NasIdentifier = 32,
  ProxyState = 33,
  AcctStatusType = 40,
  AcctDelayTime = 41,
  AcctInputOctets = 42,
  AcctOutputOctets = 43,
  AcctSessionId = 44,
  AcctAuthentic = 45,
  AcctSessionTime = 46,
  AcctInputPackets = 47,
  AcctOutputPackets = 48,
  AcctTerminateCause = 49,
  AcctMultiSessionId = 50,
  AcctLinkCount = 51,
  AcctInputGigawords = 52,
  AcctOutputGigawords = 53,
  EventTimestamp = 55,
  ChapChallenge = 60,
  NasPortType = 61,
  TunnelType = 64,
  TunnelMediumType = 65,
  TunnelClientEndpoint = 66,
  TunnelServerEndpoint = 67,
  MessageAuthenticator = 80,
  AcctInterimInterval = 85,
  NasPortId = 87,
  ErrorCause = 101,
}

/** RFC 2548 §2: "Vendor-Id ... 311 for Microsoft". */
export const VENDOR_MICROSOFT = 311;

/** RFC 2548 §2 vendor types (Vendor-Id 311). */
export enum MsAttr {
  ChapResponse = 1,
  ChapError = 2,
  ChapCpw1 = 3,
  ChapCpw2 = 4,
  ChapLmEncPw = 5,
  ChapNtEncPw = 6,
  MppeEncryptionPolicy = 7,
  MppeEncryptionTypes = 8,
  RasVendor = 9,
  ChapChallenge = 11,
  ChapMppeKeys = 12,
  BapUsage = 13,
  LinkUtilizationThreshold = 14,
  LinkDropTimeLimit = 15,
  MppeSendKey = 16,
  MppeRecvKey = 17,
  RasVersion = 18,
  OldArapPassword = 19,
  NewArapPassword = 20,
  ArapPasswordChangeReason = 21,
  FilterAttr = 22,
  AcctAuthType = 23,
  AcctEapType = 24,
  Chap2Response = 25,
  Chap2Success = 26,
  Chap2Cpw = 27,
  PrimaryDnsServer = 28,
  SecondaryDnsServer = 29,
  PrimaryNbnsServer = 30,
  SecondaryNbnsServer = 31,
}

export interface RadiusAttributeInfo {
  readonly name: string;
  readonly type: RadiusDataType;
  /** Names of enumerated integer values. */
  readonly values?: Readonly<Record<number, string>>;
}

/** RFC 2865 §5.6 Service-Type values used here. */
export const ServiceType = {
  Login: 1,
  Framed: 2,
  CallbackLogin: 3,
  CallbackFramed: 4,
  Outbound: 5,
  Administrative: 6,
  NasPrompt: 7,
  AuthenticateOnly: 8,
  CallCheck: 10,
  AuthorizeOnly: 17,
} as const;
/** RFC 2865 §5.7 Framed-Protocol: PPP = 1. */
export const FramedProtocol = { PPP: 1, SLIP: 2 } as const;
/** RFC 2865 §5.41 NAS-Port-Type: Virtual = 5 ("Virtual refers to a connection to the NAS via some transport protocol"). */
export const NasPortType = { Async: 0, Sync: 1, Isdn: 2, Virtual: 5, Ethernet: 15 } as const;
/** RFC 2866 §5.1 Acct-Status-Type. */
export const AcctStatusType = {
  Start: 1,
  Stop: 2,
  InterimUpdate: 3,
  AccountingOn: 7,
  AccountingOff: 8,
} as const;
/** RFC 2866 §5.10 Acct-Terminate-Cause. */
export const AcctTerminateCause = {
  UserRequest: 1,
  LostCarrier: 2,
  LostService: 3,
  IdleTimeout: 4,
  SessionTimeout: 5,
  AdminReset: 6,
  AdminReboot: 7,
  PortError: 8,
  NasError: 9,
  NasRequest: 10,
  NasReboot: 11,
  PortUnneeded: 12,
  PortPreempted: 13,
  PortSuspended: 14,
  ServiceUnavailable: 15,
  Callback: 16,
  UserError: 17,
  HostRequest: 18,
} as const;
/** RFC 2868 §3.1 Tunnel-Type: PPTP = 1. */
export const TunnelType = { PPTP: 1, L2F: 2, L2TP: 3 } as const;
/** RFC 2868 §3.2 Tunnel-Medium-Type: IPv4 = 1. */
export const TunnelMediumType = { IPv4: 1, IPv6: 2 } as const;
/** RFC 5176 §3.5 Error-Cause. */
export const ErrorCause = {
  ResidualSessionContextRemoved: 201,
  InvalidEapPacket: 202,
  UnsupportedAttribute: 401,
  MissingAttribute: 402,
  NasIdentificationMismatch: 403,
  InvalidRequest: 404,
  UnsupportedService: 405,
  UnsupportedExtension: 406,
  InvalidAttributeValue: 407,
  AdministrativelyProhibited: 501,
  RequestNotRoutable: 502,
  SessionContextNotFound: 503,
  SessionContextNotRemovable: 504,
  OtherProxyProcessingError: 505,
  ResourcesUnavailable: 506,
  RequestInitiated: 507,
  MultipleSessionSelectionUnsupported: 508,
} as const;
/** RFC 2548 §2.4.4 MS-MPPE-Encryption-Policy: 1 = allowed, 2 = required. */
export const MppeEncryptionPolicy = { Allowed: 1, Required: 2 } as const;
/** RFC 2548 §2.4.5 MS-MPPE-Encryption-Types bits: 0x2 = 40-bit, 0x4 = 128-bit (0x8 = 56-bit in practice). */
export const MppeEncryptionTypes = { Rc4_40: 0x2, Rc4_128: 0x4, Rc4_56: 0x8 } as const;

const names = <T extends Record<string, number>>(o: T): Record<number, string> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [v, k]));

/** Standard attributes this stack knows by name. Others decode as raw octets. */
export const RADIUS_ATTRIBUTES: ReadonlyMap<number, RadiusAttributeInfo> = new Map<
  number,
  RadiusAttributeInfo
>([
  [RadiusAttr.UserName, { name: 'User-Name', type: 'text' }],
  [RadiusAttr.UserPassword, { name: 'User-Password', type: 'hidden' }],
  [RadiusAttr.ChapPassword, { name: 'CHAP-Password', type: 'string' }],
  [RadiusAttr.NasIpAddress, { name: 'NAS-IP-Address', type: 'address' }],
  [RadiusAttr.NasPort, { name: 'NAS-Port', type: 'integer' }],
  [RadiusAttr.ServiceType, { name: 'Service-Type', type: 'integer', values: names(ServiceType) }],
  [RadiusAttr.FramedProtocol, { name: 'Framed-Protocol', type: 'integer', values: names(FramedProtocol) }],
  [RadiusAttr.FramedIpAddress, { name: 'Framed-IP-Address', type: 'address' }],
  [RadiusAttr.FramedIpNetmask, { name: 'Framed-IP-Netmask', type: 'address' }],
  [RadiusAttr.FramedMtu, { name: 'Framed-MTU', type: 'integer' }],
  [RadiusAttr.ReplyMessage, { name: 'Reply-Message', type: 'text' }],
  [RadiusAttr.State, { name: 'State', type: 'string' }],
  [RadiusAttr.Class, { name: 'Class', type: 'string' }],
  [RadiusAttr.VendorSpecific, { name: 'Vendor-Specific', type: 'vsa' }],
  [RadiusAttr.SessionTimeout, { name: 'Session-Timeout', type: 'integer' }],
  [RadiusAttr.IdleTimeout, { name: 'Idle-Timeout', type: 'integer' }],
  [RadiusAttr.CalledStationId, { name: 'Called-Station-Id', type: 'text' }],
  [RadiusAttr.CallingStationId, { name: 'Calling-Station-Id', type: 'text' }],
  [RadiusAttr.NasIdentifier, { name: 'NAS-Identifier', type: 'text' }],
  [RadiusAttr.ProxyState, { name: 'Proxy-State', type: 'string' }],
  [RadiusAttr.AcctStatusType, { name: 'Acct-Status-Type', type: 'integer', values: names(AcctStatusType) }],
  [RadiusAttr.AcctDelayTime, { name: 'Acct-Delay-Time', type: 'integer' }],
  [RadiusAttr.AcctInputOctets, { name: 'Acct-Input-Octets', type: 'integer' }],
  [RadiusAttr.AcctOutputOctets, { name: 'Acct-Output-Octets', type: 'integer' }],
  [RadiusAttr.AcctSessionId, { name: 'Acct-Session-Id', type: 'text' }],
  [
    RadiusAttr.AcctAuthentic,
    { name: 'Acct-Authentic', type: 'integer', values: { 1: 'RADIUS', 2: 'Local', 3: 'Remote' } },
  ],
  [RadiusAttr.AcctSessionTime, { name: 'Acct-Session-Time', type: 'integer' }],
  [RadiusAttr.AcctInputPackets, { name: 'Acct-Input-Packets', type: 'integer' }],
  [RadiusAttr.AcctOutputPackets, { name: 'Acct-Output-Packets', type: 'integer' }],
  [
    RadiusAttr.AcctTerminateCause,
    { name: 'Acct-Terminate-Cause', type: 'integer', values: names(AcctTerminateCause) },
  ],
  [RadiusAttr.AcctMultiSessionId, { name: 'Acct-Multi-Session-Id', type: 'text' }],
  [RadiusAttr.AcctLinkCount, { name: 'Acct-Link-Count', type: 'integer' }],
  [RadiusAttr.AcctInputGigawords, { name: 'Acct-Input-Gigawords', type: 'integer' }],
  [RadiusAttr.AcctOutputGigawords, { name: 'Acct-Output-Gigawords', type: 'integer' }],
  [RadiusAttr.EventTimestamp, { name: 'Event-Timestamp', type: 'time' }],
  [RadiusAttr.ChapChallenge, { name: 'CHAP-Challenge', type: 'string' }],
  [RadiusAttr.NasPortType, { name: 'NAS-Port-Type', type: 'integer', values: names(NasPortType) }],
  [RadiusAttr.TunnelType, { name: 'Tunnel-Type', type: 'tagged-integer', values: names(TunnelType) }],
  [
    RadiusAttr.TunnelMediumType,
    { name: 'Tunnel-Medium-Type', type: 'tagged-integer', values: names(TunnelMediumType) },
  ],
  [RadiusAttr.TunnelClientEndpoint, { name: 'Tunnel-Client-Endpoint', type: 'tagged-text' }],
  [RadiusAttr.TunnelServerEndpoint, { name: 'Tunnel-Server-Endpoint', type: 'tagged-text' }],
  [RadiusAttr.MessageAuthenticator, { name: 'Message-Authenticator', type: 'string' }],
  [RadiusAttr.AcctInterimInterval, { name: 'Acct-Interim-Interval', type: 'integer' }],
  [RadiusAttr.NasPortId, { name: 'NAS-Port-Id', type: 'text' }],
  [RadiusAttr.ErrorCause, { name: 'Error-Cause', type: 'integer', values: names(ErrorCause) }],
]);

/** Microsoft vendor attributes (RFC 2548 §2) this stack knows by name. */
export const MICROSOFT_ATTRIBUTES: ReadonlyMap<number, RadiusAttributeInfo> = new Map<
  number,
  RadiusAttributeInfo
>([
  [MsAttr.ChapResponse, { name: 'MS-CHAP-Response', type: 'string' }],
  [MsAttr.ChapError, { name: 'MS-CHAP-Error', type: 'string' }],
  [
    MsAttr.MppeEncryptionPolicy,
    {
      name: 'MS-MPPE-Encryption-Policy',
      type: 'integer',
      values: { 1: 'Encryption-Allowed', 2: 'Encryption-Required' },
    },
  ],
  [MsAttr.MppeEncryptionTypes, { name: 'MS-MPPE-Encryption-Types', type: 'integer' }],
  [MsAttr.ChapChallenge, { name: 'MS-CHAP-Challenge', type: 'string' }],
  [MsAttr.ChapMppeKeys, { name: 'MS-CHAP-MPPE-Keys', type: 'hidden' }],
  [MsAttr.MppeSendKey, { name: 'MS-MPPE-Send-Key', type: 'salted' }],
  [MsAttr.MppeRecvKey, { name: 'MS-MPPE-Recv-Key', type: 'salted' }],
  [MsAttr.Chap2Response, { name: 'MS-CHAP2-Response', type: 'string' }],
  [MsAttr.Chap2Success, { name: 'MS-CHAP2-Success', type: 'string' }],
  [MsAttr.PrimaryDnsServer, { name: 'MS-Primary-DNS-Server', type: 'address' }],
  [MsAttr.SecondaryDnsServer, { name: 'MS-Secondary-DNS-Server', type: 'address' }],
  [MsAttr.PrimaryNbnsServer, { name: 'MS-Primary-NBNS-Server', type: 'address' }],
  [MsAttr.SecondaryNbnsServer, { name: 'MS-Secondary-NBNS-Server', type: 'address' }],
]);

// ─── builders ────────────────────────────────────────────────────────────

/** RFC 2865 §5 "text": UTF-8. Throws RangeError above 253 octets. */
export function textAttribute(type: number, s: string): RadiusAttribute {
  return { type, value: utf8(s) };
}

/** RFC 2865 §5 "string": octets as given. */
export function octetsAttribute(type: number, value: Uint8Array): RadiusAttribute {
  return { type, value };
}

/** RFC 2865 §5 "integer" (and "time"): 32 bits, big-endian. */
export function integerAttribute(type: number, n: number): RadiusAttribute {
  const value = new Uint8Array(4);
  put32(value, 0, n);
  return { type, value };
}

/** RFC 2865 §5 "address": a 32-bit IPv4 address as a number (see `parseIpv4`). */
export function addressAttribute(type: number, address: number): RadiusAttribute {
  return integerAttribute(type, address);
}

/**
 * RFC 2868 §3.1/§3.2 tagged integer: "Tag ... one octet ... Value ... three
 * octets". `tag` is 0 (none) or 1..0x1F.
 */
export function taggedIntegerAttribute(type: number, tag: number, n: number): RadiusAttribute {
  if (tag < 0 || tag > 0x1f) throw new RangeError(`radius: tag ${tag} outside 0..31`);
  const value = new Uint8Array(4);
  put32(value, 0, n & 0xffffff);
  value[0] = tag;
  return { type, value };
}

/**
 * RFC 2868 §3.3 tagged text (Tunnel-Client-Endpoint). With `tag` 0 no tag
 * octet is written, unless the text itself starts with an octet 0x01..0x1F,
 * which a receiver would take for a tag; then a zero tag octet is sent.
 */
export function taggedTextAttribute(type: number, tag: number, s: string): RadiusAttribute {
  if (tag < 0 || tag > 0x1f) throw new RangeError(`radius: tag ${tag} outside 0..31`);
  const text = utf8(s);
  if (tag === 0 && !(text.length > 0 && text[0]! <= 0x1f)) return { type, value: text };
  const value = new Uint8Array(text.length + 1);
  value[0] = tag;
  value.set(text, 1);
  return { type, value };
}

/** A sub-attribute inside Vendor-Specific (RFC 2865 §5.26 recommended format; RFC 2548 §2 uses it). */
export interface VendorSubAttribute {
  readonly type: number;
  readonly value: Uint8Array;
}

/**
 * RFC 2865 §5.26 Vendor-Specific with one or more sub-attributes in the
 * recommended Vendor-Type/Vendor-Length format.
 */
export function vendorAttribute(vendorId: number, subs: readonly VendorSubAttribute[]): RadiusAttribute {
  let n = 4;
  for (const s of subs) n += 2 + s.value.length;
  const value = new Uint8Array(n);
  put32(value, 0, vendorId);
  encodeAttributes(value, 4, subs);
  return { type: RadiusAttr.VendorSpecific, value };
}

/** One Microsoft (311) vendor attribute. */
export function microsoftAttribute(type: MsAttr, value: Uint8Array): RadiusAttribute {
  return vendorAttribute(VENDOR_MICROSOFT, [{ type, value }]);
}

// ─── readers ─────────────────────────────────────────────────────────────

const VSA_REFERENCE =
  'RFC 2865 §5.26: "The Length field is >= 7"; RFC 2548 §2: each sub-attribute has Vendor-Type, Vendor-Length, Vendor-String';

/** RFC 2865 §5.26 Vendor-Id and sub-attributes, or throws (value under 4 octets, or malformed sub-attributes). */
export function decodeVendorSpecific(value: Uint8Array): { vendorId: number; subs: VendorSubAttribute[] } {
  if (value.length < 5) {
    throw new WireError(WireErrorCode.BadOption, `Vendor-Specific: ${value.length} octets`, VSA_REFERENCE);
  }
  return { vendorId: u32(value, 0), subs: decodeAttributes(value.subarray(4), 'Vendor-Specific') };
}

/** Every vendor sub-attribute of `vendorId`/`type` in `p`, in order. Skips Vendor-Specific attributes that do not parse. */
export function getVendorAttributes(p: RadiusPacket, vendorId: number, type: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const a of p.attributes) {
    if (a.type !== RadiusAttr.VendorSpecific || a.value.length < 5 || u32(a.value, 0) !== vendorId) continue;
    let subs: VendorSubAttribute[];
    try {
      subs = decodeAttributes(a.value.subarray(4), 'Vendor-Specific');
    } catch (e) {
      if (e instanceof WireError) continue;
      throw e;
    }
    for (const s of subs) if (s.type === type) out.push(s.value);
  }
  return out;
}

/** The first Microsoft sub-attribute of `type`, if any. */
export function getMicrosoftAttribute(p: RadiusPacket, type: MsAttr): Uint8Array | undefined {
  return getVendorAttributes(p, VENDOR_MICROSOFT, type)[0];
}

function sizeError(what: string, want: number, have: number): WireError {
  return new WireError(
    WireErrorCode.BadValue,
    `${what}: ${have} octets, want ${want}`,
    'RFC 2865 §5: "integer" and "address" values are 4 octets',
  );
}

/** A 4-octet integer/address/time value. */
export function readInteger(value: Uint8Array, what = 'integer'): number {
  if (value.length !== 4) throw sizeError(what, 4, value.length);
  return u32(value, 0);
}

/** Text (UTF-8; invalid sequences become U+FFFD). */
export function readText(value: Uint8Array): string {
  return fromUtf8(value);
}

/** RFC 2868 §3.1 tagged integer: tag and 24-bit value. */
export function readTaggedInteger(
  value: Uint8Array,
  what = 'tagged integer',
): { tag: number; value: number } {
  if (value.length !== 4) throw sizeError(what, 4, value.length);
  return { tag: value[0]!, value: u32(value, 0) & 0xffffff };
}

/**
 * RFC 2868 §3.3: "If the value of the Tag field is greater than 0x00 and
 * less than or equal to 0x1F ... Tag ... If the Tag field is greater than
 * 0x1F, it SHOULD be interpreted as the first byte of the following String
 * field." A zero first octet is read as an unused tag.
 */
export function readTaggedText(value: Uint8Array): { tag: number; text: string } {
  if (value.length > 0 && value[0]! <= 0x1f) return { tag: value[0]!, text: fromUtf8(value.subarray(1)) };
  return { tag: 0, text: fromUtf8(value) };
}

/** The first integer attribute of `type`, if present (throws if its size is wrong). */
export function getInteger(p: RadiusPacket, type: number): number | undefined {
  for (const a of p.attributes) if (a.type === type) return readInteger(a.value, attributeName(type));
  return undefined;
}

/** The first text attribute of `type`, if present. */
export function getText(p: RadiusPacket, type: number): string | undefined {
  for (const a of p.attributes) if (a.type === type) return fromUtf8(a.value);
  return undefined;
}

/** All Reply-Message attributes joined, as RFC 2865 §5.18 describes for several ("displayed ... in order"). */
export function getReplyMessage(p: RadiusPacket): string | undefined {
  const parts: string[] = [];
  for (const a of p.attributes) if (a.type === RadiusAttr.ReplyMessage) parts.push(fromUtf8(a.value));
  return parts.length ? parts.join('') : undefined;
}

/** "User-Name", or "Attr-N" for an unknown type. */
export function attributeName(type: number): string {
  return RADIUS_ATTRIBUTES.get(type)?.name ?? `Attr-${type}`;
}
