/**
 * tshark (Wireshark) as an independent decoder of the PPP control-protocol
 * and authentication fixtures: every packet of test/wire/ppp-fixtures.ts is
 * put in a PPP frame (DLT_PPP, ff 03 + protocol), written to a pcap, decoded
 * by `tshark -T json`, and tshark's fields are compared with what our
 * decoders say: Code/Identifier/Length, the option list (types and lengths
 * in order), and every typed value we decode (MRU, ACCM, magic numbers,
 * authentication protocol and algorithm, addresses, interface identifier,
 * MPPE bits, PAP and CHAP fields, echo/identification/time-remaining...).
 *
 * Needs tshark (`.ci/run` installs it). Without it this test fails rather
 * than pass without checking anything.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fromHex, ipv4ToString } from '../../src/wire/bytes.js';
import { decodeCcpOption, decodeCcpPacket, mppeOptionBits } from '../../src/wire/ccp.js';
import { decodeChapPacket } from '../../src/wire/chap.js';
import type { CpOption } from '../../src/wire/cp.js';
import { decodeIpcpOption, decodeIpcpPacket } from '../../src/wire/ipcp.js';
import { decodeIpv6cpOption, decodeIpv6cpPacket } from '../../src/wire/ipv6cp.js';
import { decodeLcpOption, decodeLcpPacket, lcpCode, lcpPacketLength } from '../../src/wire/lcp.js';
import { decodePapPacket } from '../../src/wire/pap.js';
import { PppProtocol } from '../../src/wire/ppp.js';
import { requireTools } from '../helpers/tools.js';
import {
  CCP_PACKET_CASES,
  CHAP_PACKET_CASES,
  IPCP_PACKET_CASES,
  IPV6CP_PACKET_CASES,
  LCP_PACKET_CASES,
  PAP_PACKET_CASES,
} from './ppp-fixtures.js';

/** One expectation: tshark field name → the value it must show. */
type Expect = [field: string, value: string];

interface Vector {
  name: string;
  protocol: number;
  dissector: string;
  bytes: Uint8Array;
  /** [code, identifier, length] as our decoder sees them. */
  header: [number, number, number];
  /** Options (type, Length) in order, for Configure-* packets. */
  options?: [number, number][];
  expect: Expect[];
}

const colonHex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
const hex32 = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
const hex16 = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;
const text = (b: Uint8Array) => new TextDecoder('latin1').decode(b);

const header = (b: Uint8Array): [number, number, number] => [b[0]!, b[1]!, (b[2]! << 8) | b[3]!];
const optionShape = (opts: readonly CpOption[]): [number, number][] =>
  opts.map((o) => [o.type, o.data.length + 2]);

function lcpVectors(): Vector[] {
  return LCP_PACKET_CASES.map((c) => {
    const bytes = fromHex(c.hex);
    const p = decodeLcpPacket(bytes);
    const expect: Expect[] = [];
    let options: [number, number][] | undefined;
    switch (p.kind) {
      case 'configure-request':
      case 'configure-ack':
      case 'configure-nak':
      case 'configure-reject':
        options = optionShape(p.options);
        for (const raw of p.options) {
          const o = decodeLcpOption(raw);
          if (o.kind === 'mru') expect.push(['lcp.opt.mru', String(o.mru)]);
          if (o.kind === 'accm') expect.push(['lcp.opt.asyncmap', hex32(o.accm)]);
          if (o.kind === 'magic-number') expect.push(['lcp.opt.magic_number', hex32(o.magicNumber)]);
          if (o.kind === 'authentication-protocol') {
            expect.push(['lcp.opt.auth_protocol', hex16(o.protocol)]);
            if (o.data.length === 1) expect.push(['lcp.opt.algorithm', String(o.data[0])]);
          }
        }
        break;
      case 'protocol-reject':
        expect.push(['lcp.rej_proto', hex16(p.rejectedProtocol)]);
        break;
      case 'echo-request':
      case 'echo-reply':
      case 'discard-request':
        expect.push(['lcp.magic_number', hex32(p.magicNumber)]);
        if (p.data.length) expect.push(['lcp.data', colonHex(p.data)]);
        break;
      case 'identification':
        expect.push(['lcp.magic_number', hex32(p.magicNumber)], ['lcp.message', text(p.message)]);
        break;
      case 'time-remaining':
        expect.push(
          ['lcp.magic_number', hex32(p.magicNumber)],
          ['lcp.secs_remaining', String(p.secondsRemaining)],
        );
        if (p.message.length) expect.push(['lcp.message', text(p.message)]);
        break;
      case 'terminate-request':
      case 'terminate-ack':
      case 'unknown':
        if (p.data.length) expect.push(['ppp.data', colonHex(p.data)]);
        break;
      case 'code-reject':
        expect.push(['ppp.data', colonHex(p.rejectedPacket)]);
        break;
    }
    assert.deepEqual([lcpCode(p), p.identifier, lcpPacketLength(p)], header(bytes));
    return {
      name: c.name,
      protocol: PppProtocol.Lcp,
      dissector: 'lcp',
      bytes,
      header: header(bytes),
      expect,
      ...(options ? { options } : {}),
    };
  });
}

function ncpVectors(): Vector[] {
  const out: Vector[] = [];
  for (const c of IPCP_PACKET_CASES) {
    const bytes = fromHex(c.hex);
    const p = decodeIpcpPacket(bytes);
    const expect: Expect[] = [];
    let options: [number, number][] | undefined;
    if ('options' in p) {
      options = optionShape(p.options);
      for (const raw of p.options) {
        const o = decodeIpcpOption(raw);
        const addr: Record<string, string> = {
          'ip-address': 'ipcp.opt.ip_address',
          'primary-dns': 'ipcp.opt.pri_dns_address',
          'secondary-dns': 'ipcp.opt.sec_dns_address',
          'primary-nbns': 'ipcp.opt.pri_nbns_address',
          'secondary-nbns': 'ipcp.opt.sec_nbns_address',
        };
        if ('address' in o) expect.push([addr[o.kind]!, ipv4ToString(o.address)]);
        if (o.kind === 'ip-compression-protocol') {
          expect.push(['ipcp.opt.compress_proto', hex16(o.protocol)]);
          if (o.protocol === 0x2d && o.data.length === 2) {
            expect.push(
              ['ipcp.opt.max_slot_id', String(o.data[0])],
              ['ipcp.opt.comp_slot_id', String(o.data[1])],
            );
          }
        }
      }
    }
    out.push({
      name: c.name,
      protocol: PppProtocol.Ipcp,
      dissector: 'ipcp',
      bytes,
      header: header(bytes),
      expect,
      ...(options ? { options } : {}),
    });
  }
  for (const c of IPV6CP_PACKET_CASES) {
    const bytes = fromHex(c.hex);
    const p = decodeIpv6cpPacket(bytes);
    const expect: Expect[] = [];
    let options: [number, number][] | undefined;
    if ('options' in p) {
      options = optionShape(p.options);
      for (const raw of p.options) {
        const o = decodeIpv6cpOption(raw);
        if (o.kind === 'interface-identifier')
          expect.push(['ipv6cp.interface_identifier', colonHex(o.interfaceIdentifier)]);
      }
    }
    out.push({
      name: c.name,
      protocol: PppProtocol.Ipv6cp,
      dissector: 'ipv6cp',
      bytes,
      header: header(bytes),
      expect,
      ...(options ? { options } : {}),
    });
  }
  for (const c of CCP_PACKET_CASES) {
    const bytes = fromHex(c.hex);
    const p = decodeCcpPacket(bytes);
    const expect: Expect[] = [];
    let options: [number, number][] | undefined;
    if ('options' in p) {
      options = optionShape(p.options);
      for (const raw of p.options) {
        const o = decodeCcpOption(raw);
        if (o.kind !== 'mppe') continue;
        expect.push(
          ['ccp.opt.supported_bits', hex32(mppeOptionBits(o))],
          ['ccp.opt.supported_bits.h', o.stateless ? '1' : '0'],
          ['ccp.opt.supported_bits.m', o.key56 ? '1' : '0'],
          ['ccp.opt.supported_bits.s', o.key128 ? '1' : '0'],
          ['ccp.opt.supported_bits.l', o.key40 ? '1' : '0'],
          ['ccp.opt.supported_bits.d', o.obsoleteD ? '1' : '0'],
          ['ccp.opt.supported_bits.c', o.mppc ? '1' : '0'],
        );
      }
    } else if (p.kind === 'reset-ack' || p.kind === 'reset-request') {
      if (p.data.length) expect.push(['ppp.data', colonHex(p.data)]);
    }
    out.push({
      name: c.name,
      protocol: PppProtocol.Ccp,
      dissector: 'ccp',
      bytes,
      header: header(bytes),
      expect,
      ...(options ? { options } : {}),
    });
  }
  return out;
}

function authVectors(): Vector[] {
  const out: Vector[] = [];
  for (const c of PAP_PACKET_CASES) {
    const bytes = fromHex(c.hex);
    const p = decodePapPacket(bytes);
    const expect: Expect[] = [];
    if (p.kind === 'authenticate-request') {
      expect.push(
        ['pap.peer_id.length', String(p.peerId.length)],
        ['pap.peer_id', text(p.peerId)],
        ['pap.password.length', String(p.password.length)],
        ['pap.password', text(p.password)],
      );
    } else if (p.kind !== 'unknown') {
      expect.push(['pap.message.length', String(p.message.length)], ['pap.message', text(p.message)]);
    }
    out.push({
      name: c.name,
      protocol: PppProtocol.Pap,
      dissector: 'pap',
      bytes,
      header: header(bytes),
      expect,
    });
  }
  for (const c of CHAP_PACKET_CASES) {
    const bytes = fromHex(c.hex);
    const p = decodeChapPacket(bytes);
    const expect: Expect[] = [];
    if (p.kind === 'challenge' || p.kind === 'response') {
      expect.push(['chap.value_size', String(p.value.length)], ['chap.value', colonHex(p.value)]);
      if (p.name.length) expect.push(['chap.name', text(p.name)]);
    } else if ((p.kind === 'success' || p.kind === 'failure') && p.message.length) {
      expect.push(['chap.message', text(p.message)]);
    }
    out.push({
      name: c.name,
      protocol: PppProtocol.Chap,
      dissector: 'chap',
      bytes,
      header: header(bytes),
      expect,
    });
  }
  return out;
}

/** A classic pcap (DLT_PPP = 9) with one frame per vector: ff 03, protocol, packet. */
function pcap(vectors: readonly Vector[]): Buffer {
  const parts: Buffer[] = [];
  const gh = Buffer.alloc(24);
  gh.writeUInt32LE(0xa1b2c3d4, 0);
  gh.writeUInt16LE(2, 4);
  gh.writeUInt16LE(4, 6);
  gh.writeUInt32LE(65535, 16);
  gh.writeUInt32LE(9, 20);
  parts.push(gh);
  vectors.forEach((v, i) => {
    const frame = Buffer.concat([Buffer.from([0xff, 0x03, v.protocol >> 8, v.protocol & 0xff]), v.bytes]);
    const rh = Buffer.alloc(16);
    rh.writeUInt32LE(i, 0);
    rh.writeUInt32LE(frame.length, 8);
    rh.writeUInt32LE(frame.length, 12);
    parts.push(rh, frame);
  });
  return Buffer.concat(parts);
}

type Json = string | Json[] | { [k: string]: Json };

/** Every leaf of a tshark layer (without nested protocol layers), field → values. */
function leaves(
  node: Json,
  nested: ReadonlySet<string>,
  out = new Map<string, string[]>(),
): Map<string, string[]> {
  if (typeof node === 'string') return out;
  if (Array.isArray(node)) {
    for (const n of node) leaves(n, nested, out);
    return out;
  }
  for (const [k, v] of Object.entries(node)) {
    if (nested.has(k)) continue;
    const vals = Array.isArray(v) ? v : [v];
    for (const x of vals) {
      if (typeof x === 'string') out.set(k, [...(out.get(k) ?? []), x]);
      else leaves(x, nested, out);
    }
  }
  return out;
}

/** Option (type, Length) pairs in order, from the "Options: ..." subtree; unknown options appear as "Unknown (0xNN) (N bytes)". */
function tsharkOptions(layer: { [k: string]: Json }, dissector: string): [number, number][] {
  const key = Object.keys(layer).find((k) => k.startsWith('Options:'));
  if (!key) return [];
  const out: [number, number][] = [];
  const tree = layer[key] as { [k: string]: Json };
  for (const [k, v] of Object.entries(tree)) {
    const unknown = /^Unknown \(0x([0-9a-f]+)\) \((\d+) bytes\)/.exec(k);
    if (unknown) {
      out.push([Number.parseInt(unknown[1]!, 16), Number(unknown[2])]);
      continue;
    }
    if (!k.endsWith('_tree')) continue;
    const items = Array.isArray(v) ? v : [v];
    for (const item of items) {
      const t = item as { [k: string]: Json };
      out.push([Number(t[`${dissector}.opt.type`]), Number(t[`${dissector}.opt.length`])]);
    }
  }
  return out;
}

const vectors = [...lcpVectors(), ...ncpVectors(), ...authVectors()];

describe('tshark decodes our PPP control and auth fixtures as we do', () => {
  let packets: { _source: { layers: { [k: string]: Json } } }[] = [];
  before(() => {
    requireTools('tshark');
    const dir = mkdtempSync(join(tmpdir(), `ppp-tshark-${process.pid}-`));
    try {
      const file = join(dir, 'ppp.pcap');
      writeFileSync(file, pcap(vectors));
      const r = spawnSync('tshark', ['-r', file, '-T', 'json', '--no-duplicate-keys'], {
        encoding: 'utf8',
        maxBuffer: 64 << 20,
        timeout: 60_000,
      });
      assert.equal(r.status, 0, r.stderr);
      packets = JSON.parse(r.stdout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tshark decoded every frame', () => {
    assert.equal(packets.length, vectors.length);
  });

  vectors.forEach((v, i) => {
    it(`${v.dissector}: ${v.name}`, () => {
      const layers = packets[i]?._source.layers;
      assert.ok(layers, 'tshark output for this frame');
      const raw = JSON.stringify(layers);
      assert.ok(
        !raw.includes('_ws.malformed') && !raw.includes('_ws.expert'),
        `tshark flags the frame: ${raw}`,
      );
      const protocols = (layers.frame as { [k: string]: string })['frame.protocols']!;
      assert.ok(protocols.startsWith(`ppp:${v.dissector}`), protocols);
      const layer = layers[v.dissector] as { [k: string]: Json };
      const prefix = v.dissector === 'pap' || v.dissector === 'chap' ? v.dissector : 'ppp';
      const f = leaves(layer, new Set(['ipv6cp', 'ipcp', 'ccp', 'lcp']));
      assert.deepEqual(
        [
          f.get(`${prefix}.code`)?.[0],
          f.get(`${prefix}.identifier`)?.[0],
          f.get(`${prefix}.length`)?.[0],
        ].map(Number),
        v.header,
        'Code, Identifier, Length',
      );
      if (v.options) assert.deepEqual(tsharkOptions(layer, v.dissector), v.options, 'options in order');
      for (const [field, value] of v.expect) {
        assert.ok(
          f.get(field)?.includes(value),
          `${field}: tshark says ${JSON.stringify(f.get(field))}, we say ${value}`,
        );
      }
    });
  });
});
