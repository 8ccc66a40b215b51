/**
 * io/capture.ts `pptpTrafficFilter`: keeps GRE and TCP port 1723 (either
 * direction, IPv4 and IPv6, behind VLAN tags, Ethernet or raw IP), drops
 * everything else and never throws on runts. Frames built by hand here.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LinkType } from '../../src/capture/link.js';
import { pptpTrafficFilter } from '../../src/io/capture.js';
import { patternBytes, tcpPacket, udpPacket, V4_FLOW, V6_FLOW } from '../helpers/inet-packets.js';

function ether(ip: Uint8Array, vlan = false): Uint8Array {
  const hdr = [
    ...new Array(12).fill(2),
    ...(vlan ? [0x81, 0x00, 0x00, 0x05] : []),
    ...(ip[0]! >> 4 === 6 ? [0x86, 0xdd] : [0x08, 0x00]),
  ];
  return Uint8Array.from([...hdr, ...ip]);
}

function gre(): Uint8Array {
  const p = udpPacket(V4_FLOW, patternBytes(20, 1));
  p[9] = 47;
  return p;
}

describe('pptpTrafficFilter', () => {
  const eth = pptpTrafficFilter(LinkType.Ethernet);
  const raw = pptpTrafficFilter(LinkType.Raw);
  const tcp = (f: typeof V4_FLOW, srcPort: number, dstPort: number) =>
    tcpPacket({ ...f, srcPort, dstPort }, { seq: 1, ack: 1, flags: 0x18, payload: patternBytes(16, 2) });

  it('keeps GRE and the control connection, either direction, IPv4 and IPv6, with or without a VLAN tag', () => {
    for (const ip of [gre(), tcp(V4_FLOW, 40000, 1723), tcp(V4_FLOW, 1723, 40000), tcp(V6_FLOW, 1723, 5)]) {
      assert.equal(eth(ether(ip)), true);
      assert.equal(eth(ether(ip, true)), true);
      assert.equal(raw(ip), true);
    }
  });

  it('drops other TCP, UDP (even to port 1723), ICMP, ARP and runts', () => {
    const icmp = udpPacket(V4_FLOW, patternBytes(8, 3));
    icmp[9] = 1;
    const arp = Uint8Array.from([...new Array(12).fill(2), 0x08, 0x06, ...new Array(28).fill(0)]);
    for (const f of [
      ether(tcp(V4_FLOW, 40000, 443)),
      ether(udpPacket({ ...V4_FLOW, dstPort: 1723 }, patternBytes(4, 1))),
      ether(icmp),
      arp,
      new Uint8Array(5),
      ether(gre()).subarray(0, 20),
    ]) {
      assert.equal(eth(f), false);
    }
  });
});
