/**
 * The LCP policy on the RFC 1661 automaton: option judging, Naks and
 * Rejects, authentication-method choice, Magic-Number loopback detection,
 * the extra codes, and the echo keep-alive.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Fsm, type FsmAction } from '../../src/ppp/fsm.js';
import { authListsFrom, type LcpConfig, LcpKeepalive, type LcpNote, LcpPolicy } from '../../src/ppp/lcp.js';
import { toHex } from '../../src/wire/bytes.js';
import { cp, expectActions, expectNothing, Harness, negotiatePair, notesOf, sentPackets } from './helpers.js';

/** A deterministic 32-bit random source. */
function seq(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

function lcp(config: Partial<LcpConfig> = {}) {
  const policy = new LcpPolicy({ random: seq(0x11111111, 0x22222222, 0x33333333, 0x44444444), ...config });
  const fsm = new Fsm(policy);
  return { policy, fsm, h: new Harness<FsmAction<LcpNote>>(fsm) };
}

/** Opens `fsm` and returns the first Configure-Request. */
function start(fsm: Fsm<LcpNote>, h: Harness<FsmAction<LcpNote>>) {
  h.run(fsm.open());
  h.run(fsm.lowerUp());
  const out = expectActions(h, ['starting', 'send Configure-Request', 'startTimer lcp.restart']);
  return sentPackets(out)[0]!;
}

/** Drives `fsm` to Opened: acks our request and sends an empty one. */
function open(fsm: Fsm<LcpNote>, h: Harness<FsmAction<LcpNote>>, peerRequest = '') {
  const req = start(fsm, h);
  h.deliver(cp(2, req.identifier, toHex(req.data)));
  h.deliver(cp(1, 0x50, peerRequest));
  h.drain();
  assert.equal(fsm.state, 'Opened');
  return req;
}

describe('LCP: our Configure-Request', () => {
  it('defaults: Magic-Number, PFC, ACFC; no MRU (1500 is the default), no auth for a client', () => {
    const { fsm, h } = lcp();
    const req = start(fsm, h);
    assert.equal(toHex(req.data), '0506111111110702' + '0802');
  });

  it('a server asks for MS-CHAP-v2 and a non-default MRU', () => {
    const { fsm, h } = lcp({ authenticate: ['mschap-v2'], mru: 1400 });
    assert.equal(toHex(start(fsm, h).data), '01040578' + '0305c22381' + '050611111111' + '0702' + '0802');
  });

  it('nopcomp/noaccomp/nomagic leave those options out', () => {
    const { fsm, h } = lcp({ pfc: false, acfc: false, magic: false });
    assert.equal(start(fsm, h).data.length, 0);
  });
});

describe('LCP: judging the peer’s Configure-Request', () => {
  it('a Windows-style request: MRU, Magic, PFC, ACFC acked; Callback rejected verbatim', () => {
    const { fsm, h } = lcp();
    start(fsm, h);
    // Hand-built in the shape Windows PPTP clients use (MRU 1400, Magic, PFC, ACFC, Callback operation 6);
    // not a capture (see test/vectors/README.md, PPP engine section).
    h.deliver(cp(1, 0, '01 04 05 78 05 06 5c 2a 11 0d 07 02 08 02 0d 03 06'));
    expectActions(h, ['send Configure-Reject id=0 0d0306']);
    h.deliver(cp(1, 1, '01 04 05 78 05 06 5c 2a 11 0d 07 02 08 02'));
    expectActions(h, ['send Configure-Ack id=1 0104057805065c2a110d07020802']);
  });

  it('ACCM is acknowledged and ignored (RFC 1662 §7.1 does not apply to PPTP)', () => {
    const { fsm, h } = lcp();
    start(fsm, h);
    h.deliver(cp(1, 2, '02 06 00 00 00 00 05 06 01 02 03 04'));
    expectActions(h, ['send Configure-Ack id=2 020600000000050601020304']);
  });

  it('rejects an option with a bad length, a duplicate, Quality-Protocol and unknown types', () => {
    const { fsm, h } = lcp();
    start(fsm, h);
    h.deliver(cp(1, 3, '01 03 05 01 04 05 dc 01 04 05 78 04 08 c0 25 00 00 00 64 11 04 05 dc'));
    // The malformed MRU counts as the MRU, so both well-formed MRUs after it are duplicates.
    expectActions(h, ['send Configure-Reject id=3 010305010405dc010405780408c02500000064110405dc']);
  });

  it('an MRU below 128 is Nak’d with 128', () => {
    const { fsm, h } = lcp();
    start(fsm, h);
    h.deliver(cp(1, 4, '01 04 00 40'));
    expectActions(h, ['send Configure-Nak id=4 01040080']);
  });

  it('a zero Magic-Number is Nak’d with a non-zero one (RFC 1661 §6.4)', () => {
    const { fsm, h } = lcp();
    start(fsm, h);
    h.deliver(cp(1, 5, '05 06 00 00 00 00'));
    const nak = sentPackets(expectActions(h, ['send Configure-Nak id=5 0506']))[0]!;
    assert.notEqual(toHex(nak.data.subarray(2)), '00000000');
  });

  it('our own Magic-Number from the peer is Nak’d with a different one', () => {
    const { fsm, h } = lcp();
    start(fsm, h);
    h.deliver(cp(1, 6, '05 06 11 11 11 11'));
    const nak = sentPackets(expectActions(h, ['send Configure-Nak id=6 0506']))[0]!;
    assert.notEqual(toHex(nak.data.subarray(2)), '11111111');
  });

  it('refuse-pap: the peer’s PAP is Nak’d with our preference, and we note the refusal', () => {
    const { fsm, h } = lcp({ allowAuth: ['mschap-v2', 'chap-md5'] });
    start(fsm, h);
    h.deliver(cp(1, 7, '03 04 c0 23'));
    const out = expectActions(h, [
      'note {"kind":"auth-refused","method":"PAP"}',
      'send Configure-Nak id=7 0305c22381',
    ]);
    assert.equal(out.length, 2);
    h.deliver(cp(1, 8, '03 05 c2 23 05'));
    expectActions(h, ['send Configure-Ack id=8 0305c22305']);
  });

  it('an unknown CHAP algorithm is Nak’d; with no method allowed the option is rejected', () => {
    const a = lcp();
    start(a.fsm, a.h);
    a.h.deliver(cp(1, 9, '03 05 c2 23 06'));
    expectActions(a.h, ['note', 'send Configure-Nak id=9 0305c22381']);
    const b = lcp({ allowAuth: [] });
    start(b.fsm, b.h);
    b.h.deliver(cp(1, 9, '03 05 c2 23 81'));
    expectActions(b.h, ['note', 'send Configure-Reject id=9 0305c22381']);
  });

  it('nopcomp rejects the peer’s PFC', () => {
    const { fsm, h } = lcp({ pfc: false });
    start(fsm, h);
    h.deliver(cp(1, 10, '07 02 08 02'));
    expectActions(h, ['send Configure-Reject id=10 0702']);
  });
});

describe('LCP: two ends negotiating', () => {
  it('client and server agree on MS-CHAP-v2, Magic-Numbers, PFC and ACFC', () => {
    const server = new LcpPolicy({ authenticate: ['mschap-v2'], random: seq(0xaaaa0001) });
    const client = new LcpPolicy({ allowAuth: ['mschap-v2'], random: seq(0xbbbb0002) });
    const s = new Fsm(server);
    const c = new Fsm(client);
    negotiatePair(s, c);
    assert.equal(s.state, 'Opened');
    assert.equal(c.state, 'Opened');
    assert.equal(server.negotiated?.authPeerWith, 'mschap-v2');
    assert.equal(server.negotiated?.authSelfWith, undefined);
    assert.equal(client.negotiated?.authSelfWith, 'mschap-v2');
    assert.equal(server.negotiated?.ourMagic, 0xaaaa0001);
    assert.equal(server.negotiated?.peerMagic, 0xbbbb0002);
    assert.equal(client.negotiated?.peerMagic, 0xaaaa0001);
    assert.ok(server.negotiated?.txPfc && server.negotiated.txAcfc && server.negotiated.rxPfc);
    assert.equal(server.negotiated?.mtu, 1500);
  });

  it('the server falls back along its list when the client Naks (RFC 1661 §6.2)', () => {
    const server = new LcpPolicy({ authenticate: ['mschap-v2', 'mschap', 'chap-md5'], random: seq(7) });
    const client = new LcpPolicy({ allowAuth: ['chap-md5'], random: seq(9) });
    const s = new Fsm(server);
    const c = new Fsm(client);
    const { transcript } = negotiatePair(s, c);
    assert.equal(s.state, 'Opened');
    assert.equal(server.negotiated?.authPeerWith, 'chap-md5');
    assert.equal(client.negotiated?.authSelfWith, 'chap-md5');
    // The client suggested CHAP-MD5, so the server jumped straight to it.
    const serverRequests = transcript.filter((t) => t.from === 'a' && t.code === 1);
    assert.deepEqual(
      serverRequests.map((t) => t.data.slice(0, 10)),
      ['0305c22381', '0305c22305'],
    );
  });

  it('auth method refused: the server runs out of methods and opens without authentication', () => {
    const server = new LcpPolicy({ authenticate: ['pap'], random: seq(7) });
    const client = new LcpPolicy({ allowAuth: ['mschap-v2'], random: seq(9) });
    const s = new Fsm(server);
    const c = new Fsm(client);
    const { actionsB } = negotiatePair(s, c);
    assert.equal(s.state, 'Opened');
    assert.equal(server.negotiated?.authPeerWith, undefined, 'the unit must now end the link');
    assert.deepEqual(notesOf(actionsB), [{ kind: 'auth-refused', method: 'PAP' }]);
  });

  it('MRU: the smaller of the peer’s MRU and our mtu bounds what we send', () => {
    const a = new LcpPolicy({ mtu: 1400, random: seq(1) });
    const b = new LcpPolicy({ mru: 1450, random: seq(2) });
    negotiatePair(new Fsm(a), new Fsm(b));
    assert.equal(a.negotiated?.mtu, 1400);
    assert.equal(b.negotiated?.mtu, 1500);
    assert.equal(b.negotiated?.mru, 1450);
  });

  it('a looped-back link is detected from our own Naks coming back (RFC 1661 §6.4)', () => {
    let r = 0x1000;
    const policy = new LcpPolicy({ random: () => r++, maxLoopback: 5 });
    const fsm = new Fsm(policy);
    let q = [...fsm.open(), ...fsm.lowerUp()];
    const notes: LcpNote[] = [];
    for (let i = 0; i < 100 && q.length; i++) {
      const next: FsmAction<LcpNote>[] = [];
      for (const a of q) {
        if (a.kind === 'send') next.push(...fsm.receive(a.frame.payload));
        else if (a.kind === 'note') notes.push(a.note);
      }
      q = next;
      if (notes.length) break;
    }
    assert.equal(notes[0]?.kind, 'loopback');
    assert.notEqual(fsm.state, 'Opened');
  });
});

describe('LCP: extra codes', () => {
  it('Echo-Request is answered with our Magic-Number and the same data and Identifier', () => {
    const { fsm, h } = lcp();
    open(fsm, h, '05 06 0a 0b 0c 0d');
    h.deliver(cp(9, 0x21, '0a 0b 0c 0d 70 69 6e 67'));
    expectActions(h, ['send Echo-Reply id=33 1111111170696e67']);
  });

  it('Echo-Reply feeds the keep-alive; one carrying our own magic is ignored', () => {
    const { fsm, h } = lcp();
    open(fsm, h, '05 06 0a 0b 0c 0d');
    h.deliver(cp(10, 1, '0a 0b 0c 0d'));
    expectActions(h, ['note {"kind":"echo-reply"}']);
    h.deliver(cp(10, 2, '11 11 11 11'));
    expectNothing(h);
  });

  it('an Echo-Request carrying our own magic means loopback', () => {
    const { fsm, h } = lcp();
    open(fsm, h, '05 06 0a 0b 0c 0d');
    h.deliver(cp(9, 3, '11 11 11 11'));
    expectActions(h, ['note {"kind":"loopback"']);
  });

  it('echo packets before Opened are silently discarded (RFC 1661 §5.8)', () => {
    const { fsm, h } = lcp();
    start(fsm, h);
    h.deliver(cp(9, 1, '00 00 00 00'));
    h.deliver(cp(10, 1, '00 00 00 00'));
    expectNothing(h);
  });

  it('Protocol-Reject of an NCP is reported; of LCP it is catastrophic (RXJ-)', () => {
    const { fsm, h } = lcp();
    open(fsm, h);
    h.deliver(cp(8, 1, '80 57 01 01 00 04'));
    expectActions(h, ['note {"kind":"protocol-reject","protocol":32855}']);
    assert.equal(fsm.state, 'Opened');
    h.deliver(cp(8, 2, 'c0 21 01 01 00 04'));
    expectActions(h, ['down', 'send Terminate-Request', 'startTimer']);
    assert.equal(fsm.state, 'Stopping');
  });

  it('Protocol-Reject before Opened is discarded, and a truncated one too', () => {
    const { fsm, h } = lcp();
    start(fsm, h);
    h.deliver(cp(8, 1, '80 21'));
    expectNothing(h);
    const o = lcp();
    open(o.fsm, o.h);
    o.h.deliver(cp(8, 1, '80'));
    expectNothing(o.h);
  });

  it('Discard-Request, Identification and Time-Remaining are accepted, never Code-Rejected', () => {
    const { fsm, h } = lcp();
    open(fsm, h);
    h.deliver(cp(11, 1, '00 00 00 00 ff'));
    expectNothing(h);
    h.deliver(cp(12, 2, '00 00 00 00 4d 53 52 41 53 2d 31'));
    expectActions(h, ['note {"kind":"identification","message":"MSRAS-1"}']);
    h.deliver(cp(13, 3, '00 00 00 00 00 00 0e 10 62 79 65'));
    expectActions(h, ['note {"kind":"time-remaining","seconds":3600,"message":"bye"}']);
  });

  it('an unknown code is Code-Rejected', () => {
    const { fsm, h } = lcp();
    open(fsm, h);
    h.deliver(cp(0x20, 9, 'aa'));
    expectActions(h, ['send Code-Reject']);
  });

  it('a Code-Reject of Echo-Request stops the keep-alive but keeps the link', () => {
    const { fsm, h } = lcp();
    open(fsm, h);
    h.deliver(cp(7, 4, '09 01 00 08 11 11 11 11'));
    expectActions(h, ['note {"kind":"echo-rejected"}']);
    assert.equal(fsm.state, 'Opened');
  });

  it('a Code-Reject of a code LCP never sends (0x89: a damaged Echo-Request) keeps the link', () => {
    const { fsm, h } = lcp();
    open(fsm, h);
    h.deliver(cp(7, 4, '89 01 00 08 11 11 11 11'));
    expectNothing(h);
    assert.equal(fsm.state, 'Opened');
  });

  it('builds Echo-Requests and Protocol-Rejects truncated to the peer’s MRU', () => {
    const { fsm, h, policy } = lcp();
    open(fsm, h, '01 04 00 80');
    const e1 = policy.echoRequest();
    const e2 = policy.echoRequest();
    assert.equal(toHex(e1.data), '11111111');
    assert.notEqual(e1.identifier, e2.identifier);
    const pr = policy.protocolReject(0x0057, new Uint8Array(500), 1);
    assert.equal(pr.data.length + 4, 128, 'Protocol-Reject fits an MRU of 128');
    assert.equal(toHex(pr.data.subarray(0, 2)), '0057');
  });
});

describe('LCP keep-alive (pppd lcp-echo-interval / lcp-echo-failure / adaptive)', () => {
  it('declares the peer dead after `failures` unanswered requests', () => {
    const k = new LcpKeepalive(30_000, 3, false);
    assert.deepEqual(
      [k.tick(false), k.tick(false), k.tick(false), k.tick(false)],
      ['send', 'send', 'send', 'dead'],
    );
  });
  it('an Echo-Reply clears the count', () => {
    const k = new LcpKeepalive(30_000, 2, false);
    k.tick(false);
    k.tick(false);
    k.replied();
    assert.deepEqual([k.tick(false), k.tick(false), k.tick(false)], ['send', 'send', 'dead']);
  });
  it('adaptive: no Echo-Request while traffic arrives', () => {
    const k = new LcpKeepalive(30_000, 2, true);
    assert.deepEqual([k.tick(true), k.tick(true), k.tick(false)], ['skip', 'skip', 'send']);
    assert.equal(k.outstanding, 1);
    k.tick(true);
    assert.equal(k.outstanding, 0, 'traffic proves the peer alive');
  });
  it('interval 0 disables it; failures 0 never declares death', () => {
    assert.equal(new LcpKeepalive(0, 4, false).enabled, false);
    const k = new LcpKeepalive(1000, 0, false);
    for (let i = 0; i < 10; i++) assert.equal(k.tick(false), 'send');
  });
});

describe('pppd require-*/refuse-* options', () => {
  it('maps to preference lists, strongest first', () => {
    assert.deepEqual(
      authListsFrom({ requirePap: true, requireMschapV2: true, refusePap: true, refuseChap: true }),
      {
        authenticate: ['mschap-v2', 'pap'],
        allowAuth: ['mschap-v2', 'mschap'],
      },
    );
  });
});
