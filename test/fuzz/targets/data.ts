/** Fuzz targets for the data-path codecs: IPv4, enhanced GRE, PPP frame, MPPE header, and the three stacked. */
import { fromHex } from '../../../src/wire/bytes.js';
import { decodeGrePacket, GreView } from '../../../src/wire/gre.js';
import { decodeIpv4Packet, Ipv4View } from '../../../src/wire/ipv4.js';
import { decodeMppePacket } from '../../../src/wire/mppe.js';
import { decodePppFrame, PppFrameView } from '../../../src/wire/ppp.js';
import type { FuzzTarget } from '../mutate.js';

const IPV4 = [
  '450000201c464000402f322dc0000201c63364073081880b0000123400000005',
  '46b8001cbeef0000011151230a0000010a00000294040000deadbeef',
  '4500001c010120b9ff0137f9ac100504ac1005090800f7ff00000000',
];
const GRE = [
  '3081880b000c40000000000700000003ff03c0210901000812345678',
  '3001880b00040001fffffffe21450000',
  '2081880b0000abcd80000001',
];
const PPP = ['ff03c0210101000e010405dc050612345678', '2145000014', '002145000014', 'ff0380fd0e050004'];

// Outer IPv4 + GRE + PPP + MPPE, the way the receive path sees them.
const STACKED = [
  '3081880b000c40000000000700000003ff03c0210901000812345678',
  '3001880b000600010000000100fd90008d31',
  '2081880b0000abcd80000001',
].map((greHex) => {
  // Outer header with Total Length and checksum filled in, so the corpus starts valid.
  const b = fromHex(`45000000${'0000'}4000402f0000c0a80001c0a80002${greHex}`);
  b[2] = b.length >>> 8;
  b[3] = b.length & 0xff;
  let s = 0;
  for (let i = 0; i < 20; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  b[10] = (~s >>> 8) & 0xff;
  b[11] = ~s & 0xff;
  return b;
});

const ip = Ipv4View.check(fromHex(IPV4[0]!));
const gre = GreView.check(fromHex(GRE[0]!));
const ppp = PppFrameView.check(fromHex(PPP[0]!));

/** The receive path's chain with reused views: IPv4 → GRE → PPP → (MPPE). */
function decodeStack(b: Uint8Array): unknown {
  Ipv4View.check(b, ip);
  GreView.check(b, gre, ip.payloadStart, ip.payloadEnd);
  if (gre.payloadLength === 0) return gre.acknowledgmentNumber;
  PppFrameView.check(b, ppp, gre.payloadStart, gre.payloadEnd);
  return ppp.protocol === 0xfd ? decodeMppePacket(ppp.information) : ppp.toFrame();
}

export const targets: FuzzTarget[] = [
  { name: 'ipv4 packet', decode: decodeIpv4Packet, corpus: IPV4.map(fromHex) },
  { name: 'gre packet', decode: decodeGrePacket, corpus: GRE.map(fromHex) },
  { name: 'ppp frame', decode: decodePppFrame, corpus: PPP.map(fromHex) },
  { name: 'mppe packet', decode: decodeMppePacket, corpus: ['90008d3177', '1abc0102', 'ffff'].map(fromHex) },
  { name: 'ipv4+gre+ppp stack (reused views)', decode: decodeStack, corpus: STACKED },
];
