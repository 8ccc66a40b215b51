/**
 * DNS messages (RFC 1035 §4) for the decode output, through the maintained
 * `dns-packet` codec rather than one of our own (a well-kept decoder of a protocol we do not carry).
 *
 * `dns-packet` works on Node `Buffer`s, so the bytes are wrapped (no copy)
 * with the global `Buffer`: decode/ imports no Node module itself, but it
 * runs where dns-packet runs, which is Node. Any error dns-packet throws is
 * a malformed DNS message, shown as such.
 */

import dnsPacket from 'dns-packet';
import { WireError, WireErrorCode } from '../wire/errors.js';
import {
  bytesHex,
  type Field,
  flag,
  hex,
  hidden,
  kv,
  type Layer,
  list,
  malformedLayer,
  printableString,
  shown,
} from './tree.js';

/** The answer sections of a decoded message. */
type Record_ = dnsPacket.Answer;

/** The `Buffer` constructor, from the global scope (see the module comment). */
const NodeBuffer = (globalThis as unknown as { Buffer: typeof Buffer }).Buffer;

/** Text of a record's data, by type. Unknown shapes fall back to hex. */
function rdataText(r: Record_): string {
  const d = (r as { data?: unknown }).data;
  if (d === undefined || d === null) return '';
  if (typeof d === 'string') return printableString(d);
  if (NodeBuffer.isBuffer(d)) return bytesHex(d, 48);
  if (Array.isArray(d)) {
    // TXT: an array of character strings.
    return d
      .map((x) =>
        NodeBuffer.isBuffer(x) ? `"${printableString(x.toString('latin1'))}"` : printableString(String(x)),
      )
      .join(' ');
  }
  if (typeof d === 'object') {
    const o = d as Record<string, unknown>;
    switch (r.type) {
      case 'MX':
        return `${o.preference} ${printableString(String(o.exchange))}`;
      case 'SRV':
        return `${o.priority} ${o.weight} ${o.port} ${printableString(String(o.target))}`;
      case 'SOA':
        return `${printableString(String(o.mname))} ${printableString(String(o.rname))} serial ${o.serial}`;
      default:
        return printableString(
          JSON.stringify(o, (_k, v) =>
            v && typeof v === 'object' && v.type === 'Buffer' ? bytesHex(Uint8Array.from(v.data)) : v,
          ),
          120,
        );
    }
  }
  return printableString(String(d));
}

function questionField(q: dnsPacket.Question, i: number): Field {
  const name = printableString(q.name);
  const cls = q.class ?? 'IN';
  return {
    key: String(i),
    text: `question  ${name}  ${q.type}  ${cls}`,
    children: [hidden('name', q.name), hidden('type', q.type), hidden('class', cls)],
  };
}

function recordField(section: string, r: Record_, i: number): Field {
  if (r.type === 'OPT') {
    // RFC 6891 §6.1.2: the OPT pseudo-record's CLASS is the requester's UDP payload size.
    const o = r as {
      udpPayloadSize?: number;
      extendedRcode?: number;
      ednsVersion?: number;
      flag_do?: boolean;
    };
    return {
      key: String(i),
      text: `${section}  EDNS version ${o.ednsVersion ?? 0}  udp ${o.udpPayloadSize ?? 0}${o.flag_do ? '  DO' : ''}`,
      children: [
        hidden('type', 'OPT'),
        hidden('udpPayloadSize', o.udpPayloadSize ?? null),
        hidden('ednsVersion', o.ednsVersion ?? null),
      ],
    };
  }
  const name = printableString(r.name);
  const cls = (r as { class?: string }).class ?? 'IN';
  const ttl = (r as { ttl?: number }).ttl ?? 0;
  const data = rdataText(r);
  return {
    key: String(i),
    text: `${section.padEnd(9)} ${name}  ${r.type}  ${cls}  ttl ${ttl}  ${data}`.trimEnd(),
    children: [
      hidden('name', r.name),
      hidden('type', r.type),
      hidden('class', cls),
      hidden('ttl', ttl),
      hidden('data', data),
    ],
  };
}

/** The DNS layer of a UDP/TCP payload on port 53. */
export function dnsLayer(bytes: Uint8Array): Layer {
  let m: dnsPacket.Packet;
  try {
    m = dnsPacket.decode(NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    return malformedLayer(
      'DNS',
      new WireError(WireErrorCode.BadValue, `DNS: ${e instanceof Error ? e.message : String(e)}`),
      bytes,
    );
  }
  const flags = m as dnsPacket.Packet & Record<string, unknown>;
  const isResponse = m.type === 'response';
  const rcode = typeof flags.rcode === 'string' ? flags.rcode : 'NOERROR';
  const fields: Field[] = [
    shown('type', m.type ?? 'query', isResponse ? 'response' : 'query'),
    kv('id', m.id ?? 0, 'id', hex(m.id ?? 0)),
  ];
  const opcode = typeof flags.opcode === 'string' ? flags.opcode : 'QUERY';
  if (opcode !== 'QUERY') fields.push(kv('opcode', opcode));
  fields.push(
    flag('authoritative', flags.flag_aa === true, 'AA'),
    flag('truncated', flags.flag_tc === true, 'TC'),
    flag('recursionDesired', flags.flag_rd === true, 'RD'),
    flag('recursionAvailable', flags.flag_ra === true, 'RA'),
    flag('authenticData', flags.flag_ad === true, 'AD'),
    flag('checkingDisabled', flags.flag_cd === true, 'CD'),
  );
  if (isResponse) fields.push(kv('rcode', rcode));
  const questions = m.questions ?? [];
  const answers = m.answers ?? [];
  const authorities = m.authorities ?? [];
  const additionals = m.additionals ?? [];
  fields.push(
    list('questions', questions.map(questionField), ''),
    list(
      'answers',
      answers.map((r, i) => recordField('answer', r, i)),
      '',
    ),
    list(
      'authorities',
      authorities.map((r, i) => recordField('authority', r, i)),
      '',
    ),
    list(
      'additionals',
      additionals.map((r, i) => recordField('additional', r, i)),
      '',
    ),
  );
  if (isResponse && answers.length === 0)
    fields.splice(fields.length - 4, 0, shown('answerCount', 0, 'no answers'));
  return { protocol: 'DNS', fields };
}
