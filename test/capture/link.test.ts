import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeLinkFrame, LinkType } from '../../src/capture/link.js';
import { fromHex, toHex } from '../../src/wire/bytes.js';
import { assertWireError } from '../helpers/codec.js';

const IP = '45 00 00 14 00 00 40 00 40 2f 00 00 0a 00 00 01 0a 00 00 02';
const IP6 = `60 00 00 00 00 00 3b 40 ${'00'.repeat(15)} 01 ${'00'.repeat(15)} 02`;

describe('link layers', () => {
  it('Ethernet II carrying IPv4', () => {
    const f = decodeLinkFrame(LinkType.Ethernet, fromHex(`00 11 22 33 44 55 66 77 88 99 aa bb 08 00 ${IP}`));
    assert.deepEqual(f.header, {
      kind: 'ethernet',
      destination: '00:11:22:33:44:55',
      source: '66:77:88:99:aa:bb',
      vlans: [],
      etherType: 0x0800,
    });
    assert.equal(f.network, 'ipv4');
    assert.equal(f.headerLength, 14);
    assert.equal(
      toHex(f.payload),
      fromHex(IP).reduce((s, b) => s + b.toString(16).padStart(2, '0'), ''),
    );
  });

  it('Ethernet with 802.1ad + 802.1Q tags carrying IPv6', () => {
    const f = decodeLinkFrame(
      LinkType.Ethernet,
      fromHex(`ffffffffffff 020000000001 88a8 a064 8100 300a 86dd ${IP6}`),
    );
    assert.equal(f.header.kind, 'ethernet');
    if (f.header.kind !== 'ethernet') return;
    assert.deepEqual(f.header.vlans, [
      { tpid: 0x88a8, priority: 5, dropEligible: false, id: 100 },
      { tpid: 0x8100, priority: 1, dropEligible: true, id: 10 },
    ]);
    assert.equal(f.network, 'ipv6');
    assert.equal(f.headerLength, 22);
  });

  it('802.3 length field (LLC) and ARP are not IP', () => {
    assert.equal(decodeLinkFrame(1, fromHex('ffffffffffff 020000000001 0026 aaaa03')).network, undefined);
    assert.equal(decodeLinkFrame(1, fromHex('ffffffffffff 020000000001 0806 0001')).network, undefined);
  });

  it('strips a trailing FCS when the capture says there is one', () => {
    const f = decodeLinkFrame(1, fromHex(`00 11 22 33 44 55 66 77 88 99 aa bb 08 00 ${IP} de ad be ef`), 4);
    assert.equal(f.payload.length, 20);
  });

  it('Linux cooked v1 (SLL)', () => {
    const f = decodeLinkFrame(LinkType.LinuxSll, fromHex(`0004 0001 0006 525400123456 0000 0800 ${IP}`));
    assert.deepEqual(f.header, {
      kind: 'sll',
      packetType: 4,
      arphrdType: 1,
      address: '52:54:00:12:34:56',
      protocol: 0x0800,
    });
    assert.equal(f.network, 'ipv4');
    assert.equal(f.payload.length, 20);
  });

  it('Linux cooked v2 (SLL2)', () => {
    const f = decodeLinkFrame(
      LinkType.LinuxSll2,
      fromHex(`86dd 0000 00000003 0001 00 06 525400123456 0000 ${IP6}`),
    );
    assert.deepEqual(f.header, {
      kind: 'sll2',
      protocol: 0x86dd,
      interfaceIndex: 3,
      arphrdType: 1,
      packetType: 0,
      address: '52:54:00:12:34:56',
    });
    assert.equal(f.network, 'ipv6');
    assert.equal(f.payload.length, 40);
  });

  it('raw IP link types pick the family by the version nibble, or by the link type', () => {
    for (const lt of [LinkType.Raw, LinkType.RawBsd12, LinkType.RawBsd14]) {
      assert.equal(decodeLinkFrame(lt, fromHex(IP)).network, 'ipv4');
      assert.equal(decodeLinkFrame(lt, fromHex(IP6)).network, 'ipv6');
      assert.equal(decodeLinkFrame(lt, fromHex('00')).network, undefined);
      assert.equal(decodeLinkFrame(lt, new Uint8Array(0)).network, undefined);
    }
    assert.equal(decodeLinkFrame(LinkType.Ipv4, fromHex(IP)).network, 'ipv4');
    assert.equal(decodeLinkFrame(LinkType.Ipv6, fromHex(IP6)).network, 'ipv6');
  });

  it('BSD loopback in either byte order, and OpenBSD loop in network order', () => {
    assert.equal(decodeLinkFrame(LinkType.Null, fromHex(`02000000 ${IP}`)).network, 'ipv4');
    assert.equal(decodeLinkFrame(LinkType.Null, fromHex(`00000002 ${IP}`)).network, 'ipv4');
    assert.equal(decodeLinkFrame(LinkType.Null, fromHex(`1e000000 ${IP6}`)).network, 'ipv6');
    assert.equal(decodeLinkFrame(LinkType.Loop, fromHex(`00000018 ${IP6}`)).network, 'ipv6');
  });

  it('short frames and unknown link types fail with WireError', () => {
    for (const [lt, n] of [
      [LinkType.Ethernet, 14],
      [LinkType.LinuxSll, 16],
      [LinkType.LinuxSll2, 20],
      [LinkType.Null, 4],
    ] as const) {
      for (let i = 0; i < n; i++) assertWireError(() => decodeLinkFrame(lt, new Uint8Array(i)));
    }
    assertWireError(() => decodeLinkFrame(1, fromHex('ffffffffffff 020000000001 8100 0001')));
    assertWireError(() => decodeLinkFrame(147, fromHex(IP)));
  });
});
