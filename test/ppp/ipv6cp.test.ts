/**
 * The IPv6CP policy (RFC 5072 §4.1): the four cases of the
 * Interface-Identifier comparison, collisions, and link-local addresses.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Fsm, type FsmAction } from '../../src/ppp/fsm.js';
import { type Ipv6cpConfig, type Ipv6cpNote, Ipv6cpPolicy } from '../../src/ppp/ipv6cp.js';
import { fromHex, toHex } from '../../src/wire/bytes.js';
import { linkLocalAddress } from '../../src/wire/ipv6cp.js';
import { cp, expectActions, Harness, negotiatePair, notesOf, sentPackets } from './helpers.js';

/** Random source returning the given identifiers in turn. */
function ids(...hex: string[]): () => Uint8Array {
  let i = 0;
  return () => fromHex(hex[i++ % hex.length]!);
}

function v6(config: Partial<Ipv6cpConfig>) {
  const policy = new Ipv6cpPolicy(config);
  const fsm = new Fsm(policy);
  const h = new Harness<FsmAction<Ipv6cpNote>>(fsm);
  h.run(fsm.open());
  h.run(fsm.lowerUp());
  const req = sentPackets(
    expectActions(h, ['starting', 'send Configure-Request', 'startTimer ipv6cp.restart']),
  )[0]!;
  return { policy, fsm, h, req };
}

describe('IPv6CP: Interface-Identifier (RFC 5072 §4.1)', () => {
  it('requests our tentative identifier with the u bit cleared', () => {
    const { req } = v6({ random: ids('0302030405060708') });
    assert.equal(toHex(req.data), '010a0102030405060708');
  });

  it('different and non-zero: acknowledged', () => {
    const { h } = v6({ localIdentifier: fromHex('1111111111111111') });
    h.deliver(cp(1, 1, '01 0a 22 22 22 22 22 22 22 22'));
    expectActions(h, ['send Configure-Ack id=1 010a2222222222222222']);
  });

  it('zero from the peer: Nak with a non-zero suggestion different from ours', () => {
    const { h } = v6({
      localIdentifier: fromHex('1111111111111111'),
      random: ids('1111111111111111', '4444444444444444'),
    });
    h.deliver(cp(1, 1, '01 0a 00 00 00 00 00 00 00 00'));
    expectActions(h, ['send Configure-Nak id=1 010a4444444444444444']);
  });

  it('equal to ours: Nak with a different one (the configured remote identifier when set)', () => {
    const { h } = v6({
      localIdentifier: fromHex('1111111111111111'),
      remoteIdentifier: fromHex('0000000000000abc'),
    });
    h.deliver(cp(1, 1, '01 0a 11 11 11 11 11 11 11 11'));
    expectActions(h, ['send Configure-Nak id=1 010a0000000000000abc']);
  });

  it('both zero: Configure-Reject with the zero value', () => {
    const { h } = v6({ localIdentifier: new Uint8Array(8) });
    h.deliver(cp(1, 1, '01 0a 00 00 00 00 00 00 00 00'));
    expectActions(h, ['send Configure-Reject id=1 010a0000000000000000']);
  });

  it('no identifier in the request: appended to a Nak once, then acked', () => {
    const { h } = v6({ localIdentifier: fromHex('1111111111111111'), random: ids('5555555555555555') });
    h.deliver(cp(1, 1, ''));
    expectActions(h, ['send Configure-Nak id=1 010a5555555555555555']);
    h.deliver(cp(1, 2, ''));
    expectActions(h, ['send Configure-Ack id=2']);
  });

  it('rejects IPv6-Compression-Protocol and a second identifier', () => {
    const { h } = v6({ localIdentifier: fromHex('1111111111111111') });
    h.deliver(cp(1, 1, '01 0a 22 22 22 22 22 22 22 22 02 04 00 4f 01 0a 33 33 33 33 33 33 33 33'));
    expectActions(h, ['send Configure-Reject id=1 0204004f010a3333333333333333']);
  });

  it('a Nak echoing our own last suggestion makes us choose a new identifier', () => {
    const { h, fsm } = v6({
      localIdentifier: fromHex('1111111111111111'),
      random: ids('8888888888888888', '9999999999999999'),
    });
    const req = sentPackets(h.drain());
    void req;
    // The peer requests our identifier: we Nak with 8888...
    h.deliver(cp(1, 1, '01 0a 11 11 11 11 11 11 11 11'));
    h.drain();
    // ...and the peer Naks ours with that same 8888...: choose a fresh one (9999...).
    const reqId = sentPackets(fsm.timeout())[0]!.identifier;
    h.deliver(cp(3, reqId, '01 0a 88 88 88 88 88 88 88 88'));
    const out = expectActions(h, ['send Configure-Request', 'startTimer']);
    assert.equal(toHex(sentPackets(out)[0]!.data), '010a9999999999999999');
  });
});

describe('IPv6CP: two ends', () => {
  it('distinct random identifiers: both acked, link-local addresses from them', () => {
    const a = new Ipv6cpPolicy({ random: ids('0200000000000001') });
    const b = new Ipv6cpPolicy({ random: ids('0000000000000002') });
    negotiatePair(new Fsm(a), new Fsm(b));
    assert.equal(a.negotiated?.localLinkLocal, 'fe80::1', 'the u bit (0x02) was cleared');
    assert.equal(a.negotiated?.remoteLinkLocal, 'fe80::2');
    assert.equal(b.negotiated?.remoteLinkLocal, 'fe80::1');
  });

  it('a collision is resolved: the peer takes our suggestion', () => {
    const a = new Ipv6cpPolicy({
      localIdentifier: fromHex('abcdabcdabcdabcd'),
      remoteIdentifier: fromHex('0000000000001234'),
    });
    const b = new Ipv6cpPolicy({
      localIdentifier: fromHex('abcdabcdabcdabcd'),
      remoteIdentifier: fromHex('0000000000005678'),
    });
    const { actionsA, actionsB } = negotiatePair(new Fsm(a), new Fsm(b));
    const la = toHex(a.negotiated!.localIdentifier);
    const lb = toHex(b.negotiated!.localIdentifier);
    assert.notEqual(la, lb);
    assert.equal(toHex(a.negotiated!.remoteIdentifier), lb);
    assert.equal(toHex(b.negotiated!.remoteIdentifier), la);
    assert.deepEqual([...notesOf(actionsA), ...notesOf(actionsB)], []);
  });

  it('a peer with a zero identifier gets a unique one from us', () => {
    const a = new Ipv6cpPolicy({
      localIdentifier: fromHex('0000000000000001'),
      random: ids('0000000000000abc'),
    });
    const b = new Ipv6cpPolicy({ localIdentifier: new Uint8Array(8) });
    const { actionsA, actionsB } = negotiatePair(new Fsm(a), new Fsm(b));
    assert.equal(toHex(b.negotiated!.localIdentifier), '0000000000000abc');
    assert.equal(toHex(a.negotiated!.remoteIdentifier), '0000000000000abc');
    assert.deepEqual([...notesOf(actionsA), ...notesOf(actionsB)], []);
  });

  it('a peer that rejects the option and sends none: no unique pair, reported at up', () => {
    const { h, req } = v6({ localIdentifier: fromHex('0000000000000001') });
    h.deliver(cp(4, req.identifier, toHex(req.data)));
    const again = sentPackets(expectActions(h, ['send Configure-Request', 'startTimer']))[0]!;
    assert.equal(again.data.length, 0, 'RFC 5072: the option is not requested again after a Reject');
    h.deliver(cp(2, again.identifier, ''));
    h.deliver(cp(1, 7, ''));
    expectActions(h, ['send Configure-Nak id=7 010a']); // our hint, once
    h.deliver(cp(1, 8, ''));
    expectActions(h, [
      'send Configure-Ack id=8',
      'note {"kind":"failed","reason":"no unique IPv6 interface identifiers were negotiated"}',
      'up',
      'stopTimer',
    ]);
  });
});

describe('link-local addresses (RFC 5072 §5)', () => {
  it('fe80::/64 + identifier, compressed', () => {
    assert.equal(linkLocalAddress(fromHex('0000000000000001')), 'fe80::1');
    assert.equal(linkLocalAddress(fromHex('021122fffe334455')), 'fe80::211:22ff:fe33:4455');
    assert.equal(linkLocalAddress(fromHex('1000000000000000')), 'fe80::1000:0:0:0');
  });
});
