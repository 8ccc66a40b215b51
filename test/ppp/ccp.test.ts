/**
 * The CCP policy for MPPE (RFC 1962, RFC 3078 §2) on the RFC 1661
 * automaton: strength selection, stateless/stateful, other compressors
 * rejected, option 18 with every bit off tolerated, "MPPE required" failing
 * clearly, Reset-Request/Reset-Ack.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CcpConfig, type CcpNote, CcpPolicy } from '../../src/ppp/ccp.js';
import { Fsm, type FsmAction } from '../../src/ppp/fsm.js';
import { toHex } from '../../src/wire/bytes.js';
import { cp, expectActions, expectNothing, Harness, negotiatePair, notesOf, sentPackets } from './helpers.js';

function ccp(config: Partial<CcpConfig> = {}) {
  const policy = new CcpPolicy(config);
  const fsm = new Fsm(policy);
  const h = new Harness<FsmAction<CcpNote>>(fsm);
  h.run(fsm.open());
  h.run(fsm.lowerUp());
  const req = sentPackets(
    expectActions(h, ['starting', 'send Configure-Request', 'startTimer ccp.restart']),
  )[0]!;
  return { policy, fsm, h, req };
}

// Option 18 bit values (RFC 3078 §2): H 0x01000000, M 0x80, S 0x40, L 0x20, D 0x10, C 0x01.
describe('CCP: our request (what we will decrypt)', () => {
  it('default: MPPE-128 stateless (require-mppe-128)', () => {
    assert.equal(toHex(ccp().req.data), '120601000040');
  });
  it('every strength we allow, stateless unless mppe-stateful', () => {
    assert.equal(toHex(ccp({ keyBits: [40, 56, 128] }).req.data), '1206010000e0');
    assert.equal(toHex(ccp({ keyBits: [40, 128], stateful: true }).req.data), '120600000060');
  });
});

describe('CCP: judging the peer’s request (how we will encrypt)', () => {
  it('pppd’s offer S|L|H is Nak’d down to the strongest single option, S|H, then acked (RFC 3078 §2.1)', () => {
    const { h } = ccp({ keyBits: [40, 128] });
    h.deliver(cp(1, 1, '12 06 01 00 00 60'));
    expectActions(h, ['send Configure-Nak id=1 120601000040']);
    h.deliver(cp(1, 2, '12 06 01 00 00 40'));
    expectActions(h, ['send Configure-Ack id=2 120601000040']);
  });

  it('option 18 with every bit off is tolerated: Nak with what we can do', () => {
    const { h } = ccp();
    h.deliver(cp(1, 1, '12 06 00 00 00 00'));
    expectActions(h, ['send Configure-Nak id=1 120601000040']);
  });

  it('a stateful request without mppe-stateful is Nak’d to stateless', () => {
    const { h } = ccp();
    h.deliver(cp(1, 1, '12 06 00 00 00 40'));
    expectActions(h, ['send Configure-Nak id=1 120601000040']);
  });

  it('with mppe-stateful a stateful request is acked', () => {
    const { h } = ccp({ stateful: true });
    h.deliver(cp(1, 1, '12 06 00 00 00 40'));
    expectActions(h, ['send Configure-Ack id=1 120600000040']);
  });

  it('MPPC (C), the obsolete D bit and reserved bits are Nak’d away', () => {
    const { h } = ccp();
    h.deliver(cp(1, 1, '12 06 01 00 00 41'));
    expectActions(h, ['send Configure-Nak id=1 120601000040']);
    h.deliver(cp(1, 2, '12 06 01 00 00 50'));
    expectActions(h, ['send Configure-Nak id=2 120601000040']);
    h.deliver(cp(1, 3, '12 06 01 80 00 40'));
    expectActions(h, ['send Configure-Nak id=3 120601000040']);
  });

  it('a strength we do not allow is Nak’d with ours', () => {
    const { h } = ccp();
    h.deliver(cp(1, 1, '12 06 01 00 00 20'));
    expectActions(h, ['send Configure-Nak id=1 120601000040']);
  });

  it('Deflate, BSD-Compress and Predictor are rejected (RFC 1962 §4)', () => {
    const { h } = ccp();
    h.deliver(cp(1, 1, '1a 04 78 00 15 03 2f 01 02 12 06 01 00 00 40'));
    expectActions(h, ['send Configure-Reject id=1 1a047800' + '15032f' + '0102']);
  });

  it('a malformed option 18 is rejected', () => {
    const { h } = ccp();
    h.deliver(cp(1, 1, '12 05 01 00 00'));
    expectActions(h, ['send Configure-Reject id=1 1205010000']);
  });

  it('required, and the peer asks for no MPPE: one Nak to prompt it, then the refusal is reported', () => {
    const { h } = ccp();
    h.deliver(cp(1, 1, ''));
    expectActions(h, ['send Configure-Nak id=1 120601000040']);
    h.deliver(cp(1, 2, ''));
    expectActions(h, [
      'note {"kind":"mppe-refused","reason":"the peer does not ask for MPPE on its receive side"}',
      'send Configure-Ack id=2',
    ]);
  });
});

describe('CCP: replies to our request', () => {
  it('a Nak choosing one of our strengths is followed (RFC 3078 §2.1)', () => {
    const { h, req } = ccp({ keyBits: [40, 128] });
    h.deliver(cp(3, req.identifier, '12 06 01 00 00 20'));
    const out = expectActions(h, ['send Configure-Request', 'startTimer']);
    assert.equal(toHex(sentPackets(out)[0]!.data), '120601000020');
  });

  it('MPPE required but refused: a Reject of option 18 is reported with the reason', () => {
    const { h, req } = ccp();
    h.deliver(cp(4, req.identifier, toHex(req.data)));
    const out = expectActions(h, ['note', 'send Configure-Request', 'startTimer']);
    assert.deepEqual(notesOf(out), [{ kind: 'mppe-refused', reason: 'the peer rejected MPPE' }]);
  });

  it('MPPE required but the peer offers only 40-bit when we allow 128: reported', () => {
    const { h, req } = ccp();
    h.deliver(cp(3, req.identifier, '12 06 01 00 00 20'));
    const notes = notesOf(h.drain());
    assert.deepEqual(notes, [
      { kind: 'mppe-refused', reason: 'the peer offers MPPE-40 stateless, we allow MPPE-128' },
    ]);
  });

  it('a peer Nak with every bit off means no encryption: reported when required', () => {
    const { h, req } = ccp();
    h.deliver(cp(3, req.identifier, '12 06 00 00 00 00'));
    assert.equal(notesOf(h.drain())[0]?.kind, 'mppe-refused');
  });

  it('not required: a Reject just turns MPPE off for our receive side', () => {
    const { h, req } = ccp({ required: false });
    h.deliver(cp(4, req.identifier, toHex(req.data)));
    const out = expectActions(h, ['send Configure-Request', 'startTimer']);
    assert.equal(sentPackets(out)[0]!.data.length, 0);
  });
});

describe('CCP: two ends', () => {
  const cases: {
    name: string;
    a: Partial<CcpConfig>;
    b: Partial<CcpConfig>;
    keyBits: number;
    stateless: boolean;
  }[] = [
    { name: 'defaults: 128-bit stateless', a: {}, b: {}, keyBits: 128, stateless: true },
    {
      name: 'pppd-like offers 40/128 meet 40 only',
      a: { keyBits: [40, 128] },
      b: { keyBits: [40] },
      keyBits: 40,
      stateless: true,
    },
    { name: '56-bit', a: { keyBits: [56] }, b: { keyBits: [40, 56, 128] }, keyBits: 56, stateless: true },
    {
      name: 'stateful both ways',
      a: { stateful: true },
      b: { stateful: true },
      keyBits: 128,
      stateless: false,
    },
    {
      name: 'one side stateful: stateless wins',
      a: { stateful: true },
      b: {},
      keyBits: 128,
      stateless: true,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const a = new CcpPolicy(c.a);
      const b = new CcpPolicy(c.b);
      const { actionsA, actionsB } = negotiatePair(new Fsm(a), new Fsm(b));
      assert.deepEqual([...notesOf(actionsA), ...notesOf(actionsB)], []);
      const want = { keyBits: c.keyBits, stateless: c.stateless };
      assert.deepEqual(a.negotiated, { rx: want, tx: want });
      assert.deepEqual(b.negotiated, { rx: want, tx: want });
    });
  }

  it('a renegotiation started by the peer keeps the transmit side it judged (reset() leaves the peer side alone)', () => {
    const a = new CcpPolicy({});
    const fa = new Fsm(a);
    const h = new Harness<FsmAction<CcpNote>>(fa);
    h.run(fa.open());
    h.run(fa.lowerUp());
    const req = sentPackets(h.drain())[0]!;
    h.deliver(cp(1, 1, '12 06 01 00 00 40'));
    h.deliver(cp(2, req.identifier, toHex(req.data)));
    h.drain();
    assert.equal(fa.state, 'Opened');
    // The peer renegotiates (new Identifier): tld, scr (our side reset), sca.
    h.deliver(cp(1, 2, '12 06 01 00 00 40'));
    const out = expectActions(h, ['down', 'send Configure-Request', 'startTimer', 'send Configure-Ack id=2']);
    const again = sentPackets(out)[0]!;
    h.deliver(cp(2, again.identifier, toHex(again.data)));
    assert.deepEqual(notesOf(h.drain()), []);
    assert.deepEqual(a.negotiated?.tx, { keyBits: 128, stateless: true });
  });

  it('required on one side, the other has MPPE off: the required side reports the refusal', () => {
    const a = new CcpPolicy({});
    const b = new CcpPolicy({ keyBits: [], required: false });
    const { actionsA } = negotiatePair(new Fsm(a), new Fsm(b));
    const notes = notesOf(actionsA);
    assert.ok(notes.length > 0);
    assert.ok(notes.every((n) => n.kind === 'mppe-refused'));
  });

  it('neither side wants MPPE: CCP opens with nothing, no complaint', () => {
    const a = new CcpPolicy({ keyBits: [], required: false });
    const b = new CcpPolicy({ keyBits: [], required: false });
    const { actionsA, actionsB } = negotiatePair(new Fsm(a), new Fsm(b));
    assert.deepEqual([...notesOf(actionsA), ...notesOf(actionsB)], []);
    assert.deepEqual(a.negotiated, { rx: undefined, tx: undefined });
  });
});

describe('CCP: Reset-Request / Reset-Ack (RFC 1962 §3.1)', () => {
  function opened() {
    const r = ccp();
    r.h.deliver(cp(2, r.req.identifier, toHex(r.req.data)));
    r.h.deliver(cp(1, 9, '12 06 01 00 00 40'));
    r.h.drain();
    assert.equal(r.fsm.state, 'Opened');
    return r;
  }
  it('a Reset-Request is reported and answered with a Reset-Ack of the same Identifier', () => {
    const { h } = opened();
    h.deliver(cp(14, 0x33, ''));
    expectActions(h, ['note {"kind":"reset-request","identifier":51}', 'send Reset-Ack id=51']);
  });
  it('a Reset-Ack is reported', () => {
    const { h } = opened();
    h.deliver(cp(15, 0x34, ''));
    expectActions(h, ['note {"kind":"reset-ack","identifier":52}']);
  });
  it('both are ignored before Opened', () => {
    const { h } = ccp();
    h.deliver(cp(14, 1, ''));
    h.deliver(cp(15, 1, ''));
    expectNothing(h);
  });
  it('builds a Reset-Request without data (RFC 3078 §8.2)', () => {
    const p = new CcpPolicy().resetRequest(5);
    assert.deepEqual([p.code, p.identifier, p.data.length], [14, 5, 0]);
  });
});
