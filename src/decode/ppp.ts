/**
 * Layers for what a PPTP call carries: the PPP frame (RFC 1661 §2, RFC 1662
 * §3.1 address/control), then by Protocol: LCP, IPCP, IPv6CP, CCP (the RFC
 * 1661 packet format and their options), PAP, CHAP with the MS-CHAP v1/v2
 * Response and Success/Failure formats, the MPPE header, or an inner IPv4/
 * IPv6 packet. Every codec used here is the stack's own (`wire/`): what this
 * shows as malformed is exactly what the stack would refuse. The option
 * fields are in ppp-fields.ts, the PAP/CHAP layers in ppp-auth.ts.
 */

import { u16 } from '../wire/bytes.js';
import { type CcpPacket, type CcpResetPacket, ccpPacketFromCp, decodeCcpOption } from '../wire/ccp.js';
import { type CpOption, type CpPacket, decodeCpPacket } from '../wire/cp.js';
import { decodeNcpCommon, type LcpPacket, lcpPacketFromCp, type NcpPacket } from '../wire/lcp.js';
import { MppeView } from '../wire/mppe.js';
import { PppFrameView, PppProtocol } from '../wire/ppp.js';
import { dataLayer, dissectIp } from './inet.js';
import { MppeSessionDecryptor, mppeBitsOf, WRONG_PASSWORD } from './mppe-decrypt.js';
import { CHAP_CODE_NAMES, CP_CODE_NAMES, named, PAP_CODE_NAMES, PPP_PROTOCOL_NAMES } from './names.js';
import { chapLayer, papLayer } from './ppp-auth.js';
import {
  ccpOptionField,
  headerFields,
  ipcpOptionField,
  ipv6cpOptionField,
  lcpOptionField,
  mppeBitsWords,
} from './ppp-fields.js';
import { type PppDissectOptions, type PppSessionState, WRONG_PASSWORD_WARNING } from './ppp-state.js';
import {
  byteCount,
  type Field,
  flag,
  hex,
  hidden,
  kv,
  type Layer,
  list,
  malformedLayer,
  quoted,
  shown,
} from './tree.js';

export { mppeBitsText, mppeBitsWords } from './ppp-fields.js';
export { type PppDissectOptions, type PppSessionState, WRONG_PASSWORD_WARNING } from './ppp-state.js';

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
        out.push(papLayer(info, opts));
        return;
      case PppProtocol.Chap:
        out.push(chapLayer(info, session, opts.from ?? ''));
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
    kv('length', u16(info, 2), 'len'),
  ];
}

// ─── Control protocols (RFC 1661 §5) ────────────────────────────────────────

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
      return p.data.length ? [quoted('data', p.data, 'data', 64)] : [];
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

/**
 * A control-protocol layer: the Code, Identifier and Length header, then the
 * packet as `decode` reads it, shown by `show`. A packet `decode` refuses is
 * malformed, shown with its header.
 */
function cpLayer<P>(
  protocol: string,
  info: Uint8Array,
  decode: (cp: CpPacket) => P,
  show: (p: P, fields: Field[]) => void,
): Layer {
  const cp = decodeCpPacket(info);
  const fields = headerFields(cp, CP_CODE_NAMES);
  let p: P;
  try {
    p = decode(cp);
  } catch (e) {
    return malformedLayer(protocol, e, info, fields);
  }
  show(p, fields);
  return { protocol, fields };
}

/** IPCP or IPv6CP (codes 1–7 only). */
function ncpLayer(
  protocol: string,
  info: Uint8Array,
  optionFieldOf: (o: CpOption, i: number) => Field,
): Layer {
  return cpLayer(
    protocol,
    info,
    (cp): NcpPacket =>
      decodeNcpCommon(cp) ?? { kind: 'unknown', code: cp.code, identifier: cp.identifier, data: cp.data },
    (p, fields) => fields.push(...ncpFields(p, optionFieldOf)),
  );
}

function lcpLayer(info: Uint8Array, session: PppSessionState): Layer {
  return cpLayer('LCP', info, lcpPacketFromCp, (p, fields) => lcpFields(p, fields, session));
}

function lcpFields(p: LcpPacket, fields: Field[], session: PppSessionState): void {
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
      fields.push(...byteCount('dataLength', p.data, 'data'));
      break;
    case 'identification':
      fields.push(
        kv('magicNumber', p.magicNumber, 'magic', hex(p.magicNumber, 8)),
        quoted('message', p.message),
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
      if (p.message.length) fields.push(quoted('message', p.message));
      break;
    default:
      fields.push(...ncpFields(p, lcpOptionField));
      if (p.kind === 'configure-ack') rememberAuth(p.options, session);
  }
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
  return cpLayer('CCP', info, ccpPacketFromCp, (p, fields) => {
    if (isCcpReset(p)) {
      fields.push(...byteCount('dataLength', p.data, 'data'));
      return;
    }
    if (p.kind === 'configure-ack') rememberMppe(p.options, session);
    fields.push(...ncpFields(p, ccpOptionField));
  });
}

/** An acknowledged MPPE option fixes how MPPE packets read (and, with a password, decrypt). */
function rememberMppe(options: readonly CpOption[], session: PppSessionState): void {
  for (const o of options) {
    try {
      const v = decodeCcpOption(o);
      if (v.kind === 'mppe') {
        session.mppe = v;
        session.decryptor = undefined; // a (re)negotiation starts the keys afresh
      }
    } catch {
      // shown as a malformed option
    }
  }
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
