/**
 * IPv6 anti-spoofing on per-session interfaces (src/server/server.ts
 * `ipv6SourceAllowed`): the source must carry the interface identifier the
 * peer negotiated with IPV6CP.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Ipv6cpNegotiated } from '../../src/ppp/ipv6cp.js';
import { ipv6SourceAllowed } from '../../src/server/server.js';

const PEER_ID = Uint8Array.from([0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55]);
const NEGOTIATED: Ipv6cpNegotiated = {
  localIdentifier: Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 1]),
  remoteIdentifier: PEER_ID,
  localLinkLocal: 'fe80::1',
  remoteLinkLocal: 'fe80::211:22ff:fe33:4455',
};

/** An IPv6 header (40 bytes) with `source` (16 bytes) and next header `nh`. */
function v6(source: number[], nh = 17): Uint8Array {
  const p = new Uint8Array(48);
  p[0] = 0x60;
  p[5] = 8;
  p[6] = nh;
  p[7] = 64;
  p.set(source, 8);
  p.set([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 24);
  return p;
}

const LINK_LOCAL = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, ...PEER_ID];

describe('IPv6 anti-spoofing (per-session interfaces)', () => {
  it('accepts the negotiated identifier under fe80::/64 and under an advertised global prefix', () => {
    assert.equal(ipv6SourceAllowed(v6(LINK_LOCAL), NEGOTIATED), true);
    assert.equal(ipv6SourceAllowed(v6([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, ...PEER_ID]), NEGOTIATED), true);
  });
  it('refuses any other identifier, one bit off included', () => {
    const p = v6(LINK_LOCAL);
    p[23]! ^= 1;
    assert.equal(ipv6SourceAllowed(p, NEGOTIATED), false);
    assert.equal(
      ipv6SourceAllowed(v6([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), NEGOTIATED),
      false,
    );
  });
  it('the unspecified source only for ICMPv6 (Duplicate Address Detection)', () => {
    assert.equal(ipv6SourceAllowed(v6(new Array(16).fill(0), 58), NEGOTIATED), true);
    assert.equal(ipv6SourceAllowed(v6(new Array(16).fill(0), 17), NEGOTIATED), false);
  });
  it('refuses a multicast source, a short packet, a non-IPv6 packet, and anything before IPV6CP is up', () => {
    assert.equal(ipv6SourceAllowed(v6([0xff, 0x02, 0, 0, 0, 0, 0, 0, ...PEER_ID]), NEGOTIATED), false);
    assert.equal(ipv6SourceAllowed(v6(LINK_LOCAL).subarray(0, 39), NEGOTIATED), false);
    const p4 = v6(LINK_LOCAL);
    p4[0] = 0x45;
    assert.equal(ipv6SourceAllowed(p4, NEGOTIATED), false);
    assert.equal(ipv6SourceAllowed(v6(LINK_LOCAL), undefined), false);
  });
});
