/**
 * Layers for what a PPTP call carries: the PPP frame (RFC 1661 §2, RFC 1662
 * §3.1 address/control), then by Protocol: LCP, IPCP, IPv6CP, CCP (the RFC
 * 1661 packet format and their options), PAP, CHAP with the MS-CHAP v1/v2
 * Response and Success/Failure formats, the MPPE header, or an inner IPv4/
 * IPv6 packet. Every codec used here is the stack's own (`wire/`): what this
 * shows as malformed is exactly what the stack would refuse.
 */

import { ipv4ToString, u16 } from '../wire/bytes.js';
import {
  type CcpOption,
  type CcpPacket,
  type CcpResetPacket,
  ccpPacketFromCp,
  decodeCcpOption,
  type MppeOption,
  mppeOptionBits,
} from '../wire/ccp.js';
import { type ChapPacket, decodeChapPacket } from '../wire/chap.js';
import { type CpOption, type CpPacket, decodeCpPacket } from '../wire/cp.js';
import { decodeIpcpOption, type IpcpOption } from '../wire/ipcp.js';
import { decodeIpv6cpOption, type Ipv6cpOption } from '../wire/ipv6cp.js';
import {
  ChapAlgorithm,
  decodeLcpOption,
  decodeNcpCommon,
  type LcpOption,
  type LcpPacket,
  lcpPacketFromCp,
  type NcpPacket,
} from '../wire/lcp.js';
import { MppeView } from '../wire/mppe.js';
import {
  decodeMsChapV1Response,
  decodeMsChapV2Response,
  MSCHAPV2_CHALLENGE_LENGTH,
  parseMsChapFailure,
  parseMsChapV2Success,
} from '../wire/mschap.js';
import { decodePapPacket, type PapPacket } from '../wire/pap.js';
import { PppFrameView, PppProtocol } from '../wire/ppp.js';
import { dataLayer, dissectIp } from './inet.js';
import { MppeSessionDecryptor, type MsChapExchange, mppeBitsOf, WRONG_PASSWORD } from './mppe-decrypt.js';
import {
  CCP_OPTION_NAMES,
  CHAP_ALGORITHM_NAMES,
  CHAP_CODE_NAMES,
  CP_CODE_NAMES,
  IPCP_OPTION_NAMES,
  IPV6CP_OPTION_NAMES,
  LCP_OPTION_NAMES,
  MSCHAP_ERROR_NAMES,
  named,
  PAP_CODE_NAMES,
  PPP_PROTOCOL_NAMES,
} from './names.js';
import {
  bytesHex,
  type Field,
  flag,
  group,
  hex,
  hidden,
  kv,
  type Layer,
  list,
  malformedLayer,
  malformedOf,
  printable,
  printableString,
  shown,
} from './tree.js';

/**
 * What the dissector remembers about one PPP session, learnt from earlier
 * frames, to read later ones: which CHAP algorithm was agreed (MS-CHAP v1
 * and v2 Responses have the same size) and which MPPE variant CCP agreed.
 */
export interface PppSessionState {
  /** CHAP Algorithm octet of an acknowledged LCP Authentication-Protocol option. */
  chapAlgorithm?: number;
  /** Value-Size of the last CHAP Challenge. */
  chapChallengeLength?: number;
  /** The MPPE option of an acknowledged CCP Configure-Request. */
  mppe?: MppeOption;
  /** The last CHAP Challenge: who sent it and its value. */
  challenge?: { readonly from: string; readonly value: Uint8Array };
  /** The MS-CHAP exchange that last succeeded (its keys are the ones MPPE uses). */
  msChap?: MsChapExchange;
  /** A Response waiting for its Success. */
  pendingMsChap?: MsChapExchange;
  /** The decryptor built from `msChap` and the password, or why there is none. */
  decryptor?: MppeSessionDecryptor | { readonly error: string; readonly wrongPassword?: true };
}

/** Options that change what is shown. */
export interface PppDissectOptions {
  /** Show PAP passwords (hidden by default: a capture may be shared, the output even more so). */
  readonly showSecrets?: boolean;
  /** Outer source address of the frame (which side sent it). */
  readonly from?: string;
  /** The account's password: decrypts MPPE after an MS-CHAP exchange seen in the capture. */
  readonly password?: string;
  /**
   * Told about a problem that concerns the whole capture rather than one
   * packet (a wrong password), once per session; the caller reports it once.
   */
  readonly warn?: (message: string) => void;
}

/** The one line a wrong `--password` gives (once, not per packet). */
export const WRONG_PASSWORD_WARNING = 'MPPE: could not decrypt with the given password (wrong password?)';

// ─── PPP frame ──────────────────────────────────────────────────────────────

/**
 * Dissects a PPP frame (a GRE payload) and what it carries. Appends layers
 * to `out`; never throws.
 */
export function dissectPpp(
  bytes: Uint8Array,
  out: Layer[],
  session: PppSessionState,
  opts: PppDissectOptions = {},
): void {
  let v: PppFrameView;
  try {
    v = PppFrameView.check(bytes);
  } catch (e) {
    out.push(malformedLayer('PPP', e, bytes));
    return;
  }
  const protocol = v.protocol;
  out.push({
    protocol: 'PPP',
    fields: [
      shown(
        'addressControl',
        v.hasAddressControl,
        v.hasAddressControl ? 'ff 03' : 'no address/control (ACFC)',
      ),
      kv('protocol', protocol, '', named(PPP_PROTOCOL_NAMES, protocol, 4)),
      flag('protocolCompressed', v.protocolFieldLength === 1, '(PFC)'),
    ],
  });
  dissectPppPayload(protocol, v.information, out, session, opts);
}

/** The layer(s) for a PPP Information field of the given Protocol. */
export function dissectPppPayload(
  protocol: number,
  info: Uint8Array,
  out: Layer[],
  session: PppSessionState,
  opts: PppDissectOptions,
): void {
  try {
    switch (protocol) {
      case PppProtocol.Lcp:
        out.push(lcpLayer(info, session));
        return;
      case PppProtocol.Ipcp:
        out.push(ncpLayer('IPCP', info, ipcpOptionField));
        return;
      case PppProtocol.Ipv6cp:
        out.push(ncpLayer('IPv6CP', info, ipv6cpOptionField));
        return;
      case PppProtocol.Ccp:
        out.push(ccpLayer(info, session));
        return;
      case PppProtocol.Pap:
        out.push(papLayer(decodePapPacket(info), info, opts));
        return;
      case PppProtocol.Chap:
        out.push(chapLayer(decodeChapPacket(info), info, session, opts.from ?? ''));
        return;
      case PppProtocol.Compressed:
        dissectMppe(info, out, session, opts);
        return;
      case PppProtocol.Ipv4:
        dissectIp(info, out, 'ipv4');
        return;
      case PppProtocol.Ipv6:
        dissectIp(info, out, 'ipv6');
        return;
      default:
        out.push(dataLayer(info, `PPP protocol ${named(PPP_PROTOCOL_NAMES, protocol, 4)} is not dissected`));
    }
  } catch (e) {
    out.push(
      malformedLayer(PPP_PROTOCOL_NAMES[protocol] ?? 'PPP data', e, info, rawCpHeader(protocol, info)),
    );
  }
}

/** The control protocols that start with Code, Identifier, Length (RFC 1661 §5). */
const CP_PROTOCOLS: ReadonlySet<number> = new Set([
  PppProtocol.Lcp,
  PppProtocol.Ipcp,
  PppProtocol.Ipv6cp,
  PppProtocol.Ccp,
  PppProtocol.Pap,
  PppProtocol.Chap,
]);

/**
 * Code, Identifier and Length as written, for a control packet that did not
 * decode (typically one cut by the capture's snap length): what is there is
 * still shown.
 */
function rawCpHeader(protocol: number, info: Uint8Array): Field[] {
  if (!CP_PROTOCOLS.has(protocol) || info.length < 4) return [];
  const names =
    protocol === PppProtocol.Pap
      ? PAP_CODE_NAMES
      : protocol === PppProtocol.Chap
        ? CHAP_CODE_NAMES
        : CP_CODE_NAMES;
  return [
    kv('code', info[0]!, '', named(names, info[0]!)),
    kv('identifier', info[1]!, 'id'),
    kv('length', (info[2]! << 8) | info[3]!, 'len'),
  ];
}

// ─── Control protocols (RFC 1661 §5) ────────────────────────────────────────

/** Code, Identifier and Length fields shared by LCP/IPCP/IPv6CP/CCP/PAP/CHAP. */
function headerFields(p: CpPacket, codeNames: Readonly<Record<number, string>>): Field[] {
  return [
    kv('code', p.code, '', named(codeNames, p.code)),
    kv('identifier', p.identifier, 'id'),
    kv('length', 4 + p.data.length, 'len'),
  ];
}

/** An option whose value could not be read: its Length is wrong for its Type. */
function badOptionField(
  o: CpOption,
  names: Readonly<Record<number, string>>,
  err: unknown,
  i: number,
): Field {
  const m = malformedOf(err);
  return {
    key: String(i),
    text: `${named(names, o.type)}: [malformed] ${m.detail}`,
    children: [
      hidden('type', o.type),
      hidden('name', names[o.type] ?? null),
      hidden('malformed', m.detail),
      hidden('data', bytesHex(o.data, 64)),
    ],
  };
}

/** One option line: `Name (type): value`, JSON `{type, name, ...}`. */
function optionField(
  i: number,
  type: number,
  names: Readonly<Record<number, string>>,
  value: string,
  json: Field[],
): Field {
  const label = named(names, type);
  return {
    key: String(i),
    text: value ? `${label}: ${value}` : label,
    children: [hidden('type', type), hidden('name', names[type] ?? null), ...json],
  };
}

function rawOptionField(i: number, o: CpOption, names: Readonly<Record<number, string>>): Field {
  return optionField(i, o.type, names, o.data.length ? bytesHex(o.data, 64) : '', [
    hidden('data', bytesHex(o.data, 256)),
  ]);
}

function lcpOptionField(o: CpOption, i: number): Field {
  let v: LcpOption;
  try {
    v = decodeLcpOption(o);
  } catch (e) {
    return badOptionField(o, LCP_OPTION_NAMES, e, i);
  }
  const n = LCP_OPTION_NAMES;
  switch (v.kind) {
    case 'mru':
      return optionField(i, o.type, n, String(v.mru), [hidden('mru', v.mru)]);
    case 'accm':
      return optionField(i, o.type, n, hex(v.accm, 8), [hidden('accm', v.accm)]);
    case 'magic-number':
      return optionField(i, o.type, n, hex(v.magicNumber, 8), [hidden('magicNumber', v.magicNumber)]);
    case 'pfc':
    case 'acfc':
      return optionField(i, o.type, n, '', []);
    case 'authentication-protocol': {
      let value = named(PPP_PROTOCOL_NAMES, v.protocol, 4);
      const json: Field[] = [hidden('protocol', v.protocol)];
      if (v.protocol === PppProtocol.Chap && v.data.length === 1) {
        value += ` ${named(CHAP_ALGORITHM_NAMES, v.data[0]!, 2)}`;
        json.push(hidden('algorithm', v.data[0]!));
      } else if (v.data.length) {
        value += ` ${bytesHex(v.data)}`;
        json.push(hidden('data', bytesHex(v.data, 256)));
      }
      return optionField(i, o.type, n, value, json);
    }
    case 'quality-protocol':
      return optionField(i, o.type, n, named(PPP_PROTOCOL_NAMES, v.protocol, 4), [
        hidden('protocol', v.protocol),
        hidden('data', bytesHex(v.data, 256)),
      ]);
    case 'unknown':
      return rawOptionField(i, o, n);
  }
}

function ipcpOptionField(o: CpOption, i: number): Field {
  let v: IpcpOption;
  try {
    v = decodeIpcpOption(o);
  } catch (e) {
    return badOptionField(o, IPCP_OPTION_NAMES, e, i);
  }
  const n = IPCP_OPTION_NAMES;
  switch (v.kind) {
    case 'ip-address':
    case 'primary-dns':
    case 'secondary-dns':
    case 'primary-nbns':
    case 'secondary-nbns': {
      const a = ipv4ToString(v.address);
      return optionField(i, o.type, n, v.address === 0 ? `${a} (asks for one)` : a, [hidden('address', a)]);
    }
    case 'ip-addresses':
      return optionField(
        i,
        o.type,
        n,
        `${ipv4ToString(v.sourceAddress)} → ${ipv4ToString(v.destinationAddress)}`,
        [
          hidden('sourceAddress', ipv4ToString(v.sourceAddress)),
          hidden('destinationAddress', ipv4ToString(v.destinationAddress)),
        ],
      );
    case 'ip-compression-protocol': {
      let value = v.protocol === 0x002d ? 'Van Jacobson (0x002d)' : hex(v.protocol);
      const json = [hidden('protocol', v.protocol), hidden('data', bytesHex(v.data, 256))];
      // RFC 1332 §4.1: Max-Slot-Id and Comp-Slot-Id follow the VJ protocol number.
      if (v.protocol === 0x002d && v.data.length === 2) {
        value += ` max slot ${v.data[0]} comp slot ${v.data[1]}`;
        json.push(hidden('maxSlotId', v.data[0]!), hidden('compSlotId', v.data[1]!));
      } else if (v.data.length) value += ` ${bytesHex(v.data)}`;
      return optionField(i, o.type, n, value, json);
    }
    case 'unknown':
      return rawOptionField(i, o, n);
  }
}

function ipv6cpOptionField(o: CpOption, i: number): Field {
  let v: Ipv6cpOption;
  try {
    v = decodeIpv6cpOption(o);
  } catch (e) {
    return badOptionField(o, IPV6CP_OPTION_NAMES, e, i);
  }
  const n = IPV6CP_OPTION_NAMES;
  switch (v.kind) {
    case 'interface-identifier': {
      const groups: string[] = [];
      for (let k = 0; k < 8; k += 2) groups.push(u16(v.interfaceIdentifier, k).toString(16).padStart(4, '0'));
      const id = groups.join(':');
      return optionField(i, o.type, n, id, [hidden('interfaceIdentifier', id)]);
    }
    case 'ipv6-compression-protocol':
      return optionField(i, o.type, n, hex(v.protocol), [
        hidden('protocol', v.protocol),
        hidden('data', bytesHex(v.data, 256)),
      ]);
    case 'unknown':
      return rawOptionField(i, o, n);
  }
}

/** The MPPE option's bits as letters (`H S`) and as words (`stateless, 128-bit`). */
export function mppeBitsWords(m: MppeOption): { letters: string[]; words: string[] } {
  const letters: string[] = [];
  const words: string[] = [];
  const add = (on: boolean, letter: string, word: string) => {
    if (!on) return;
    letters.push(letter);
    words.push(word);
  };
  add(m.stateless, 'H', 'stateless');
  add(m.key128, 'S', '128-bit');
  add(m.key56, 'M', '56-bit');
  add(m.key40, 'L', '40-bit');
  add(m.obsoleteD, 'D', 'obsolete D bit');
  add(m.mppc, 'C', 'MPPC compression');
  if (m.otherBits) words.push(`reserved bits ${hex(m.otherBits, 8)}`);
  return { letters, words };
}

/** `0x01000040 H S (stateless, 128-bit)`: the option 18 value as shown. */
export function mppeBitsText(m: MppeOption): string {
  const { letters, words } = mppeBitsWords(m);
  const value = hex(mppeOptionBits(m), 8);
  if (!words.length) return `${value} (nothing offered)`;
  return `${value}${letters.length ? ` ${letters.join(' ')}` : ''} (${words.join(', ')})`;
}

function ccpOptionField(o: CpOption, i: number): Field {
  let v: CcpOption;
  try {
    v = decodeCcpOption(o);
  } catch (e) {
    return badOptionField(o, CCP_OPTION_NAMES, e, i);
  }
  if (v.kind === 'unknown') return rawOptionField(i, o, CCP_OPTION_NAMES);
  return optionField(i, o.type, CCP_OPTION_NAMES, mppeBitsText(v), [
    hidden('supportedBits', mppeOptionBits(v)),
    hidden('stateless', v.stateless),
    hidden('key128', v.key128),
    hidden('key56', v.key56),
    hidden('key40', v.key40),
    hidden('mppc', v.mppc),
    hidden('obsoleteD', v.obsoleteD),
  ]);
}

/** Fields of the codes 1–7 every control protocol shares. */
function ncpFields(p: NcpPacket, optionFieldOf: (o: CpOption, i: number) => Field): Field[] {
  switch (p.kind) {
    case 'configure-request':
    case 'configure-ack':
    case 'configure-nak':
    case 'configure-reject':
      return [list('options', p.options.map(optionFieldOf), '')];
    case 'terminate-request':
    case 'terminate-ack':
    case 'unknown':
      return p.data.length ? [kv('data', printable(p.data, 64), 'data', `"${printable(p.data, 64)}"`)] : [];
    case 'code-reject': {
      const fields: Field[] = [
        kv('rejectedLength', p.rejectedPacket.length, 'rejected', `${p.rejectedPacket.length} bytes`),
      ];
      if (p.rejectedPacket.length >= 2) {
        fields.push(
          kv('rejectedCode', p.rejectedPacket[0]!, 'rejected code', String(p.rejectedPacket[0])),
          kv('rejectedIdentifier', p.rejectedPacket[1]!, 'rejected id'),
        );
      }
      return fields;
    }
  }
}

/** IPCP or IPv6CP (codes 1–7 only). */
function ncpLayer(
  protocol: string,
  info: Uint8Array,
  optionFieldOf: (o: CpOption, i: number) => Field,
): Layer {
  const cp = decodeCpPacket(info);
  const fields = headerFields(cp, CP_CODE_NAMES);
  let p: NcpPacket;
  try {
    p = decodeNcpCommon(cp) ?? { kind: 'unknown', code: cp.code, identifier: cp.identifier, data: cp.data };
  } catch (e) {
    return malformedLayer(protocol, e, info, fields);
  }
  return { protocol, fields: [...fields, ...ncpFields(p, optionFieldOf)] };
}

function lcpLayer(info: Uint8Array, session: PppSessionState): Layer {
  const cp = decodeCpPacket(info);
  const fields = headerFields(cp, CP_CODE_NAMES);
  let p: LcpPacket;
  try {
    p = lcpPacketFromCp(cp);
  } catch (e) {
    return malformedLayer('LCP', e, info, fields);
  }
  switch (p.kind) {
    case 'protocol-reject':
      fields.push(
        kv(
          'rejectedProtocol',
          p.rejectedProtocol,
          'rejected protocol',
          named(PPP_PROTOCOL_NAMES, p.rejectedProtocol, 4),
        ),
        kv('rejectedLength', p.rejectedInformation.length, '', `(${p.rejectedInformation.length} bytes)`),
      );
      break;
    case 'echo-request':
    case 'echo-reply':
    case 'discard-request':
      fields.push(kv('magicNumber', p.magicNumber, 'magic', hex(p.magicNumber, 8)));
      if (p.data.length) fields.push(kv('dataLength', p.data.length, 'data', `${p.data.length} bytes`));
      break;
    case 'identification':
      fields.push(
        kv('magicNumber', p.magicNumber, 'magic', hex(p.magicNumber, 8)),
        kv('message', printable(p.message), 'message', `"${printable(p.message)}"`),
      );
      break;
    case 'time-remaining':
      fields.push(
        kv('magicNumber', p.magicNumber, 'magic', hex(p.magicNumber, 8)),
        // RFC 1570 §1.2: 0xffffffff means "forever".
        kv(
          'secondsRemaining',
          p.secondsRemaining,
          'remaining',
          p.secondsRemaining === 0xffffffff ? 'forever' : `${p.secondsRemaining} s`,
        ),
      );
      if (p.message.length)
        fields.push(kv('message', printable(p.message), 'message', `"${printable(p.message)}"`));
      break;
    default:
      fields.push(...ncpFields(p, lcpOptionField));
      if (p.kind === 'configure-ack') rememberAuth(p.options, session);
  }
  return { protocol: 'LCP', fields };
}

/** An acknowledged Authentication-Protocol option fixes how CHAP Responses read. */
function rememberAuth(options: readonly CpOption[], session: PppSessionState): void {
  for (const o of options) {
    if (o.type === 3 && o.data.length === 3 && u16(o.data, 0) === PppProtocol.Chap)
      session.chapAlgorithm = o.data[2]!;
  }
}

function isCcpReset(p: CcpPacket): p is CcpResetPacket {
  return p.kind === 'reset-request' || p.kind === 'reset-ack';
}

function ccpLayer(info: Uint8Array, session: PppSessionState): Layer {
  const cp = decodeCpPacket(info);
  const fields = headerFields(cp, CP_CODE_NAMES);
  let packet: CcpPacket;
  try {
    packet = ccpPacketFromCp(cp);
  } catch (e) {
    return malformedLayer('CCP', e, info, fields);
  }
  if (isCcpReset(packet)) {
    if (packet.data.length)
      fields.push(kv('dataLength', packet.data.length, 'data', `${packet.data.length} bytes`));
    return { protocol: 'CCP', fields };
  }
  const p = packet;
  if (p.kind === 'configure-ack') {
    for (const o of p.options) {
      try {
        const v = decodeCcpOption(o);
        if (v.kind === 'mppe') {
          session.mppe = v;
          session.decryptor = undefined; // a (re)negotiation starts the keys afresh
        }
      } catch {
        // shown as a malformed option below
      }
    }
  }
  return { protocol: 'CCP', fields: [...fields, ...ncpFields(p, ccpOptionField)] };
}

// ─── Authentication ─────────────────────────────────────────────────────────

function papLayer(p: PapPacket, info: Uint8Array, opts: PppDissectOptions): Layer {
  const cp = decodeCpPacket(info);
  const fields = headerFields(cp, PAP_CODE_NAMES);
  switch (p.kind) {
    case 'authenticate-request':
      fields.push(kv('peerId', printable(p.peerId), 'peer-id', `"${printable(p.peerId)}"`));
      if (opts.showSecrets)
        fields.push(kv('password', printable(p.password), 'password', `"${printable(p.password)}"`));
      else
        fields.push(
          kv('passwordLength', p.password.length, 'password', `(${p.password.length} bytes, hidden)`),
        );
      break;
    case 'authenticate-ack':
    case 'authenticate-nak':
      if (p.message.length)
        fields.push(kv('message', printable(p.message), 'message', `"${printable(p.message)}"`));
      break;
    case 'unknown':
      if (p.data.length) fields.push(kv('dataLength', p.data.length, 'data', `${p.data.length} bytes`));
      break;
  }
  return { protocol: 'PAP', fields };
}

/** Keeps what key derivation needs from a Response that answers the last Challenge. */
function rememberResponse(
  session: PppSessionState,
  version: 1 | 2,
  ntResponse: Uint8Array,
  name: Uint8Array,
  peerChallenge?: Uint8Array,
): void {
  const c = session.challenge;
  if (!c) return;
  session.pendingMsChap = {
    version,
    authenticator: c.from,
    authenticatorChallenge: c.value,
    ntResponse: ntResponse.slice(),
    userName: name.slice(),
    ...(peerChallenge ? { peerChallenge: peerChallenge.slice() } : {}),
  };
}

/** Which MS-CHAP version a 49-byte Response is, from what the session agreed or, failing that, the Challenge size. */
function msChapVersion(session: PppSessionState): 1 | 2 | undefined {
  if (session.chapAlgorithm === ChapAlgorithm.MsChapV2) return 2;
  if (session.chapAlgorithm === ChapAlgorithm.MsChap) return 1;
  if (session.chapAlgorithm === ChapAlgorithm.Md5) return undefined;
  // RFC 2759 §3: v2 challenges are 16 octets; RFC 2433 §5: v1 challenges are 8.
  if (session.chapChallengeLength === MSCHAPV2_CHALLENGE_LENGTH) return 2;
  if (session.chapChallengeLength === 8) return 1;
  return undefined;
}

function chapLayer(p: ChapPacket, info: Uint8Array, session: PppSessionState, from: string): Layer {
  const cp = decodeCpPacket(info);
  const fields = headerFields(cp, CHAP_CODE_NAMES);
  const version = msChapVersion(session);
  const algo = session.chapAlgorithm;
  if (algo !== undefined) fields.push(kv('algorithm', algo, '', named(CHAP_ALGORITHM_NAMES, algo, 2)));
  else if (version)
    fields.push(
      kv(
        'algorithm',
        version === 2 ? 0x81 : 0x80,
        '',
        version === 2 ? 'MS-CHAPv2 (by challenge size)' : 'MS-CHAP (by challenge size)',
      ),
    );
  switch (p.kind) {
    case 'challenge':
      session.chapChallengeLength = p.value.length;
      session.challenge = { from, value: p.value.slice() };
      fields.push(kv('value', bytesHex(p.value, 64), 'challenge', bytesHex(p.value, 64)));
      if (p.name.length) fields.push(kv('name', printable(p.name), 'name', `"${printable(p.name)}"`));
      break;
    case 'response': {
      fields.push(kv('name', printable(p.name), 'name', `"${printable(p.name)}"`));
      if (version === 2 && p.value.length === 49) {
        const r = decodeMsChapV2Response(p.value);
        rememberResponse(session, 2, r.ntResponse, p.name, r.peerChallenge);
        fields.push(
          group('msChapV2Response', [
            kv('peerChallenge', bytesHex(r.peerChallenge), 'peer challenge'),
            kv('ntResponse', bytesHex(r.ntResponse), 'NT-Response'),
            kv('flags', r.flags, 'flags'),
          ]),
        );
      } else if (version === 1 && p.value.length === 49) {
        const r = decodeMsChapV1Response(p.value);
        rememberResponse(session, 1, r.ntResponse, p.name);
        fields.push(
          group('msChapV1Response', [
            kv('lmResponse', bytesHex(r.lmResponse), 'LM-Response'),
            kv('ntResponse', bytesHex(r.ntResponse), 'NT-Response'),
            kv('useNtResponse', r.useNtResponse, 'use NT'),
          ]),
        );
      } else {
        fields.push(kv('value', bytesHex(p.value, 64), 'response', bytesHex(p.value, 64)));
      }
      break;
    }
    case 'success':
      // RFC 2759 §5 / RFC 2433 §6: the keys of this exchange are the ones MPPE will use.
      if (session.pendingMsChap) {
        session.msChap = session.pendingMsChap;
        session.pendingMsChap = undefined;
        session.decryptor = undefined;
      }
      if (version === 2) {
        try {
          const s = parseMsChapV2Success(p.message);
          fields.push(
            kv(
              'authenticatorResponse',
              bytesHex(s.authenticatorResponse),
              'S',
              bytesHex(s.authenticatorResponse),
            ),
          );
          if (s.message !== undefined)
            fields.push(kv('message', printableString(s.message), 'M', `"${printableString(s.message)}"`));
          break;
        } catch (e) {
          return malformedLayer('CHAP', e, info, [
            ...fields,
            kv('message', printable(p.message), 'message', `"${printable(p.message)}"`),
          ]);
        }
      }
      if (p.message.length)
        fields.push(kv('message', printable(p.message), 'message', `"${printable(p.message)}"`));
      break;
    case 'failure':
      if (version) {
        try {
          const f = parseMsChapFailure(p.message);
          fields.push(
            kv('error', f.error, 'E', named(MSCHAP_ERROR_NAMES, f.error)),
            kv('retry', f.retry, 'R', f.retry ? '1' : '0'),
          );
          if (f.challenge) fields.push(kv('challenge', bytesHex(f.challenge), 'C'));
          if (f.version !== undefined) fields.push(kv('passwordChangeVersion', f.version, 'V'));
          if (f.message !== undefined)
            fields.push(kv('message', printableString(f.message), 'M', `"${printableString(f.message)}"`));
          break;
        } catch (e) {
          return malformedLayer('CHAP', e, info, [
            ...fields,
            kv('message', printable(p.message), 'message', `"${printable(p.message)}"`),
          ]);
        }
      }
      if (p.message.length)
        fields.push(kv('message', printable(p.message), 'message', `"${printable(p.message)}"`));
      break;
    case 'unknown':
      if (p.data.length) fields.push(kv('dataLength', p.data.length, 'data', `${p.data.length} bytes`));
      break;
  }
  return { protocol: 'CHAP', fields };
}

// ─── MPPE (RFC 3078 §3) ─────────────────────────────────────────────────────

function dissectMppe(
  info: Uint8Array,
  out: Layer[],
  session: PppSessionState,
  opts: PppDissectOptions,
): void {
  const v = MppeView.check(info);
  const bits = [
    v.flushed ? 'A' : '',
    v.atFront ? 'B' : '',
    v.compressed ? 'C' : '',
    v.encrypted ? 'D' : '',
  ].filter(Boolean);
  const fields: Field[] = [
    kv('coherencyCount', v.coherencyCount, 'coherency count'),
    shown('bits', bits.join(''), bits.length ? `[${bits.join(' ')}]` : '[no bits]'),
    flag('flushed', v.flushed, 'flushed'),
    hidden('encrypted', v.encrypted),
    hidden('compressed', v.compressed),
    hidden('atFront', v.atFront),
  ];
  if (session.mppe) {
    // What CCP agreed earlier in this capture (RFC 3078 §2.2.1), to read the bits by.
    const agreed = mppeBitsWords(session.mppe).words.join(', ');
    fields.push(shown('negotiated', agreed, `(negotiated: ${agreed})`));
  }
  const payload = v.payload;
  if (v.encrypted && opts.password !== undefined) {
    const why = decryptMppe(v.coherencyCount, v.flushed, payload, out, fields, session, opts);
    if (why === WRONG_PASSWORD.error) {
      // Said once for the capture (WRONG_PASSWORD_WARNING), not on every packet.
      out.push({
        protocol: 'MPPE',
        fields,
        note: `encrypted payload: ${payload.length} bytes (the inner protocol is encrypted too)`,
      });
    } else if (why)
      out.push({
        protocol: 'MPPE',
        fields,
        note: `encrypted payload: ${payload.length} bytes, not decrypted: ${why}`,
      });
    return;
  }
  if (v.encrypted) {
    out.push({
      protocol: 'MPPE',
      fields,
      note: `encrypted payload: ${payload.length} bytes (the inner protocol is encrypted too)`,
    });
    return;
  }
  if (v.compressed) {
    out.push({
      protocol: 'MPPE',
      fields,
      note: `MPPC-compressed payload: ${payload.length} bytes (not decompressed)`,
    });
    return;
  }
  // Neither encrypted nor compressed: the data is a PPP Protocol field and Information in the clear.
  out.push({ protocol: 'MPPE', fields, note: 'payload neither encrypted nor compressed' });
  dissectPpp(payload, out, session, opts);
}

/**
 * Decrypts an MPPE packet and dissects what it carried. Returns why it could
 * not (and pushes nothing then).
 */
function decryptMppe(
  cc: number,
  flushed: boolean,
  payload: Uint8Array,
  out: Layer[],
  fields: Field[],
  session: PppSessionState,
  opts: PppDissectOptions,
): string | undefined {
  if (!session.msChap) return 'no successful MS-CHAP exchange seen before it';
  if (!session.mppe) return 'no CCP agreement on MPPE seen before it';
  const bits = mppeBitsOf(session.mppe);
  if (!bits) return 'CCP agreed on no MPPE key strength';
  if (!session.decryptor) {
    session.decryptor = MppeSessionDecryptor.create(
      session.msChap,
      opts.password!,
      bits,
      session.mppe.stateless,
    );
    if ('wrongPassword' in session.decryptor) opts.warn?.(WRONG_PASSWORD_WARNING);
  }
  const d = session.decryptor;
  if (!(d instanceof MppeSessionDecryptor)) return d.error;
  const r = d.decrypt(opts.from ?? '', cc, flushed, payload);
  if (!r.ok) return r.reason;
  const changes = `${r.rekeys} key change${r.rekeys === 1 ? '' : 's'}`;
  out.push({
    protocol: 'MPPE',
    fields,
    note: `decrypted ${payload.length} bytes (MPPE-${bits}, ${changes})`,
  });
  // RFC 3078 §3.1: the plaintext starts with the PPP Protocol field.
  let v: PppFrameView;
  try {
    v = PppFrameView.check(r.plaintext);
  } catch (e) {
    out.push(malformedLayer('PPP', e, r.plaintext));
    return undefined;
  }
  out.push({
    protocol: 'PPP',
    fields: [
      kv('protocol', v.protocol, '', named(PPP_PROTOCOL_NAMES, v.protocol, 4)),
      shown('decrypted', true, '(decrypted)'),
    ],
  });
  dissectPppPayload(v.protocol, v.information, out, session, opts);
  return undefined;
}
