/**
 * Fields of the PPP control packets (RFC 1661 §5): the Code, Identifier and
 * Length header, and the options of LCP (RFC 1661 §6, RFC 1994 §3), IPCP
 * (RFC 1332 §3, RFC 1877 §1), IPv6CP (RFC 5072 §4) and CCP's MPPE option
 * (RFC 3078 §2.2.1), each as the stack's own `wire/` codec reads it.
 */

import { ipv4ToString, u16 } from '../wire/bytes.js';
import { decodeCcpOption, type MppeOption, mppeOptionBits } from '../wire/ccp.js';
import type { CpOption, CpPacket } from '../wire/cp.js';
import { decodeIpcpOption } from '../wire/ipcp.js';
import { decodeIpv6cpOption } from '../wire/ipv6cp.js';
import { decodeLcpOption } from '../wire/lcp.js';
import { PppProtocol } from '../wire/ppp.js';
import {
  CCP_OPTION_NAMES,
  CHAP_ALGORITHM_NAMES,
  IPCP_OPTION_NAMES,
  IPV6CP_OPTION_NAMES,
  LCP_OPTION_NAMES,
  named,
  PPP_PROTOCOL_NAMES,
} from './names.js';
import { bytesHex, type Field, hex, hidden, kv, malformedOf } from './tree.js';

/** Code, Identifier and Length fields shared by LCP/IPCP/IPv6CP/CCP/PAP/CHAP. */
export function headerFields(p: CpPacket, codeNames: Readonly<Record<number, string>>): Field[] {
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

/** What an option shows: its value text, and the fields kept for JSON only. */
type OptionValue = readonly [text: string, json: Field[]];

/**
 * One protocol's option renderer, from its `wire/` option decoder: an option
 * that does not decode shows why, one of an unknown Type shows its bytes, and
 * `render` says what every known one shows.
 */
function optionRenderer<V extends { readonly kind: string }>(
  names: Readonly<Record<number, string>>,
  decode: (o: CpOption) => V,
  render: (v: Exclude<V, { readonly kind: 'unknown' }>) => OptionValue,
): (o: CpOption, i: number) => Field {
  return (o, i) => {
    let v: V;
    try {
      v = decode(o);
    } catch (e) {
      return badOptionField(o, names, e, i);
    }
    if (v.kind === 'unknown') return rawOptionField(i, o, names);
    const [value, json] = render(v as Exclude<V, { readonly kind: 'unknown' }>);
    return optionField(i, o.type, names, value, json);
  };
}

/** A protocol number with the data that follows it (Quality-, Compression-Protocol). */
function protocolWithData(protocol: number, data: Uint8Array, shownAs: string): OptionValue {
  return [shownAs, [hidden('protocol', protocol), hidden('data', bytesHex(data, 256))]];
}

export const lcpOptionField = optionRenderer(LCP_OPTION_NAMES, decodeLcpOption, (v): OptionValue => {
  switch (v.kind) {
    case 'mru':
      return [String(v.mru), [hidden('mru', v.mru)]];
    case 'accm':
      return [hex(v.accm, 8), [hidden('accm', v.accm)]];
    case 'magic-number':
      return [hex(v.magicNumber, 8), [hidden('magicNumber', v.magicNumber)]];
    case 'pfc':
    case 'acfc':
      return ['', []];
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
      return [value, json];
    }
    case 'quality-protocol':
      return protocolWithData(v.protocol, v.data, named(PPP_PROTOCOL_NAMES, v.protocol, 4));
  }
});

export const ipcpOptionField = optionRenderer(IPCP_OPTION_NAMES, decodeIpcpOption, (v): OptionValue => {
  switch (v.kind) {
    case 'ip-address':
    case 'primary-dns':
    case 'secondary-dns':
    case 'primary-nbns':
    case 'secondary-nbns': {
      const a = ipv4ToString(v.address);
      return [v.address === 0 ? `${a} (asks for one)` : a, [hidden('address', a)]];
    }
    case 'ip-addresses': {
      const source = ipv4ToString(v.sourceAddress);
      const destination = ipv4ToString(v.destinationAddress);
      return [
        `${source} → ${destination}`,
        [hidden('sourceAddress', source), hidden('destinationAddress', destination)],
      ];
    }
    case 'ip-compression-protocol': {
      const vj = v.protocol === 0x002d;
      const [value, json] = protocolWithData(
        v.protocol,
        v.data,
        vj ? 'Van Jacobson (0x002d)' : hex(v.protocol),
      );
      // RFC 1332 §4.1: Max-Slot-Id and Comp-Slot-Id follow the VJ protocol number.
      if (vj && v.data.length === 2)
        return [
          `${value} max slot ${v.data[0]} comp slot ${v.data[1]}`,
          [...json, hidden('maxSlotId', v.data[0]!), hidden('compSlotId', v.data[1]!)],
        ];
      return [v.data.length ? `${value} ${bytesHex(v.data)}` : value, json];
    }
  }
});

export const ipv6cpOptionField = optionRenderer(IPV6CP_OPTION_NAMES, decodeIpv6cpOption, (v): OptionValue => {
  switch (v.kind) {
    case 'interface-identifier': {
      const groups: string[] = [];
      for (let k = 0; k < 8; k += 2) groups.push(u16(v.interfaceIdentifier, k).toString(16).padStart(4, '0'));
      const id = groups.join(':');
      return [id, [hidden('interfaceIdentifier', id)]];
    }
    case 'ipv6-compression-protocol':
      return protocolWithData(v.protocol, v.data, hex(v.protocol));
  }
});

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

export const ccpOptionField = optionRenderer(
  CCP_OPTION_NAMES,
  decodeCcpOption,
  (v): OptionValue => [
    mppeBitsText(v),
    [
      hidden('supportedBits', mppeOptionBits(v)),
      hidden('stateless', v.stateless),
      hidden('key128', v.key128),
      hidden('key56', v.key56),
      hidden('key40', v.key40),
      hidden('mppc', v.mppc),
      hidden('obsoleteD', v.obsoleteD),
    ],
  ],
);
