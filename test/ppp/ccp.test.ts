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
import { prng } from '../fuzz/mutate.js';
import { CapturingLogger } from './auth/harness.js';
import { cp, expectActions, expectNothing, Harness, negotiatePair, notesOf, sentPackets } from './helpers.js';
import { PppdCcpModel, type PppdCcpOptions } from './pppd-ccp-model.js';

function ccp(config: Partial<CcpConfig> = {}) {
  const policy = new CcpPolicy(config);
  const log = new CapturingLogger('ppp.ccp');
  const fsm = new Fsm(policy, {}, log);
  const h = new Harness<FsmAction<CcpNote>>(fsm);
  h.run(fsm.open());
  h.run(fsm.lowerUp());
  const req = sentPackets(
    expectActions(h, ['starting', 'send Configure-Request', 'startTimer ccp.restart']),
  )[0]!;
  return { policy, fsm, h, req, log };
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
  it('a Code-Reject of Reset-Request is RXJ+; of a code CCP never sends (a damaged Reset-Request) it is discarded', () => {
    const { h, fsm } = opened();
    h.deliver(cp(7, 0x40, '8e 33 00 04'));
    expectNothing(h);
    assert.equal(fsm.state, 'Opened');
    h.deliver(cp(7, 0x41, '0e 33 00 04'));
    expectNothing(h);
    assert.equal(fsm.state, 'Opened');
    h.deliver(cp(7, 0x42, '01 02 00 04'));
    assert.notEqual(fsm.state, 'Opened', 'a Code-Reject of Configure-Request is catastrophic');
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

// Option 18 values used below: S|H (128-bit stateless) 120601000040, S (128-bit stateful) 120600000040,
// S|L|H (pppd's require-mppe offer) 120601000060.
describe('CCP: stateless or stateful, the H bit (RFC 3078 §2)', () => {
  /** Our request acked by the peer, so the automaton opens once the peer's side is acked too. */
  function ackOurs(r: ReturnType<typeof ccp>): void {
    r.h.deliver(cp(2, r.req.identifier, toHex(r.req.data)));
  }

  describe('preferring stateful (mppe-stateful)', () => {
    it('pppd’s stateless offer S|L|H is Nak’d to S with H clear; its stateful request is acked', () => {
      const { h } = ccp({ keyBits: [40, 128], stateful: true });
      h.deliver(cp(1, 1, '12 06 01 00 00 60'));
      expectActions(h, ['send Configure-Nak id=1 120600000040']);
      h.deliver(cp(1, 2, '12 06 00 00 00 40'));
      expectActions(h, ['send Configure-Ack id=2 120600000040']);
    });

    it('both directions stateful when the peer agrees, and the policy says so', () => {
      const r = ccp({ stateful: true });
      assert.equal(toHex(r.req.data), '120600000040');
      r.h.deliver(cp(1, 1, '12 06 01 00 00 40'));
      expectActions(r.h, ['send Configure-Nak id=1 120600000040']);
      r.h.deliver(cp(1, 2, '12 06 00 00 00 40'));
      expectActions(r.h, ['send Configure-Ack id=2 120600000040']);
      ackOurs(r);
      expectActions(r.h, ['up', 'stopTimer']);
      const stateful = { keyBits: 128, stateless: false };
      assert.deepEqual(r.policy.negotiated, { rx: stateful, tx: stateful });
    });

    it('a peer that insists on stateless after one Nak gets stateless for that direction (logged, no loop)', () => {
      const r = ccp({ stateful: true });
      r.h.deliver(cp(1, 1, '12 06 01 00 00 40'));
      expectActions(r.h, ['send Configure-Nak id=1 120600000040']);
      r.h.deliver(cp(1, 2, '12 06 01 00 00 40'));
      expectActions(r.h, ['send Configure-Ack id=2 120601000040']);
      assert.ok(
        r.log.lines.some((l) => /^info .*insists on stateless/.test(l)),
        r.log.lines.join('\n'),
      );
      ackOurs(r);
      expectActions(r.h, ['up', 'stopTimer']);
      // Our request (what we receive) stayed stateful; the peer's (what we send) is stateless.
      assert.deepEqual(r.policy.negotiated, {
        rx: { keyBits: 128, stateless: false },
        tx: { keyBits: 128, stateless: true },
      });
    });

    it('the insistence is remembered across a Nak for the key length only', () => {
      const { h } = ccp({ stateful: true });
      h.deliver(cp(1, 1, '12 06 01 00 00 60'));
      expectActions(h, ['send Configure-Nak id=1 120600000040']);
      // Stateless again, and now 40-bit only, which we do not allow: Nak the length, keep stateless.
      h.deliver(cp(1, 2, '12 06 01 00 00 20'));
      expectActions(h, ['send Configure-Nak id=2 120601000040']);
      h.deliver(cp(1, 3, '12 06 01 00 00 40'));
      expectActions(h, ['send Configure-Ack id=3 120601000040']);
    });

    it('a Nak of our stateful request to stateless is followed (the peer decides how it sends)', () => {
      const { h, req } = ccp({ stateful: true });
      h.deliver(cp(3, req.identifier, '12 06 01 00 00 40'));
      const out = expectActions(h, ['send Configure-Request', 'startTimer']);
      assert.equal(toHex(sentPackets(out)[0]!.data), '120601000040');
    });

    it('a renegotiation from Opened costs one mode Nak, not two (the reset does not forget it)', () => {
      const r = ccp({ stateful: true });
      r.h.deliver(cp(1, 1, '12 06 00 00 00 40'));
      ackOurs(r);
      r.h.drain();
      assert.equal(r.fsm.state, 'Opened');
      r.h.deliver(cp(1, 2, '12 06 01 00 00 40'));
      expectActions(r.h, [
        'down',
        'send Configure-Request',
        'startTimer',
        'send Configure-Nak id=2 120600000040',
      ]);
      r.h.deliver(cp(1, 3, '12 06 01 00 00 40'));
      expectActions(r.h, ['send Configure-Ack id=3 120601000040']);
    });

    it('a new negotiation (lower layer down, then up) starts without the old insistence', () => {
      const r = ccp({ stateful: true });
      r.h.deliver(cp(1, 1, '12 06 01 00 00 40'));
      expectActions(r.h, ['send Configure-Nak id=1 120600000040']);
      r.h.run(r.fsm.lowerDown());
      r.h.run(r.fsm.lowerUp());
      r.h.drain();
      r.h.deliver(cp(1, 2, '12 06 01 00 00 40'));
      expectActions(r.h, ['send Configure-Nak id=2 120600000040']);
    });
  });

  describe('preferring stateless (the default)', () => {
    it('a stateful request is Nak’d once to stateless; the peer that follows is acked', () => {
      const { h } = ccp();
      h.deliver(cp(1, 1, '12 06 00 00 00 40'));
      expectActions(h, ['send Configure-Nak id=1 120601000040']);
      h.deliver(cp(1, 2, '12 06 01 00 00 40'));
      expectActions(h, ['send Configure-Ack id=2 120601000040']);
    });

    it('a peer insisting on stateful: option 18 rejected after one Nak, and MPPE required reports why', () => {
      const { h } = ccp();
      h.deliver(cp(1, 1, '12 06 00 00 00 40'));
      expectActions(h, ['send Configure-Nak id=1 120601000040']);
      h.deliver(cp(1, 2, '12 06 00 00 00 40'));
      expectActions(h, [
        'note {"kind":"mppe-refused","reason":"the peer insists on stateful MPPE and mppe-stateful is off"}',
        'send Configure-Reject id=2 120600000040',
      ]);
    });

    it('the same without MPPE required: rejected and logged, no refusal', () => {
      const { h, log } = ccp({ required: false });
      h.deliver(cp(1, 1, '12 06 00 00 00 40'));
      expectActions(h, ['send Configure-Nak id=1 120601000040']);
      h.deliver(cp(1, 2, '12 06 00 00 00 40'));
      expectActions(h, ['send Configure-Reject id=2 120600000040']);
      assert.ok(
        log.lines.some((l) => /insists on stateful MPPE/.test(l)),
        log.lines.join('\n'),
      );
    });

    it('a Nak of our request to stateful: we ask for stateless again, until Max-Failure Naks end it', () => {
      const { h, req } = ccp();
      let id = req.identifier;
      for (let i = 1; i < 5; i++) {
        h.deliver(cp(3, id, '12 06 00 00 00 40'));
        const out = expectActions(h, ['send Configure-Request', 'startTimer']);
        const again = sentPackets(out)[0]!;
        assert.equal(toHex(again.data), '120601000040', `request after Nak ${i}`);
        id = again.identifier;
      }
      h.deliver(cp(3, id, '12 06 00 00 00 40'));
      assert.deepEqual(notesOf(h.drain()), [
        { kind: 'mppe-refused', reason: 'the peer keeps Nak-ing our MPPE request' },
      ]);
    });
  });

  describe('two pptp-ts ends', () => {
    it('stateful against stateless: both directions stateless, at most one mode Nak each way', () => {
      const a = new CcpPolicy({ stateful: true });
      const b = new CcpPolicy({});
      const { transcript, actionsA, actionsB } = negotiatePair(new Fsm(a), new Fsm(b));
      assert.deepEqual([...notesOf(actionsA), ...notesOf(actionsB)], []);
      const stateless = { keyBits: 128, stateless: true };
      assert.deepEqual(a.negotiated, { rx: stateless, tx: stateless });
      assert.deepEqual(b.negotiated, { rx: stateless, tx: stateless });
      const naks = (from: 'a' | 'b') => transcript.filter((t) => t.from === from && t.code === 3).length;
      assert.ok(naks('a') <= 1 && naks('b') <= 1, JSON.stringify(transcript));
    });
  });
});

describe('CCP against pppd 2.4.9’s rules (test/ppp/pppd-ccp-model.ts; the lab checks the real one)', () => {
  function run(ours: Partial<CcpConfig>, pppd: PppdCcpOptions) {
    const a = new CcpPolicy(ours);
    const b = new PppdCcpModel(pppd);
    const log = new CapturingLogger('ppp.ccp');
    const r = negotiatePair(new Fsm(a, {}, log), new Fsm(b));
    return { a, b, log, ...r, pppdLog: notesOf(r.actionsB) };
  }
  const stateful = { keyBits: 128, stateless: false };
  const stateless = { keyBits: 128, stateless: true };

  it('pptp-ts stateful ↔ pppd mppe-stateful: both directions stateful, as pppd logs it', () => {
    const r = run({ stateful: true }, { keyBits: [128], mppeStateful: true });
    assert.deepEqual(notesOf(r.actionsA), []);
    assert.deepEqual(r.pppdLog, ['MPPE 128-bit stateful compression enabled']);
    assert.deepEqual(r.a.negotiated, { rx: stateful, tx: stateful });
    assert.deepEqual(r.b.negotiated, { rx: stateful, tx: stateful });
    // pppd requested stateless, we Nak'd H away, pppd requested stateful.
    const fromB = r.transcript.filter((t) => t.from === 'b' && t.code === 1).map((t) => t.data);
    assert.deepEqual(fromB, ['120601000040', '120600000040']);
  });

  it('pptp-ts stateful (40/128) ↔ pppd require-mppe mppe-stateful: 128-bit stateful both ways', () => {
    const r = run({ keyBits: [40, 128], stateful: true }, { keyBits: [40, 128], mppeStateful: true });
    assert.deepEqual(notesOf(r.actionsA), []);
    assert.deepEqual(r.pppdLog, ['MPPE 128-bit stateful compression enabled']);
    assert.deepEqual(r.a.negotiated, { rx: stateful, tx: stateful });
  });

  it('pptp-ts stateless ↔ pppd mppe-stateful: stateless both ways, no Nak at all', () => {
    const r = run({}, { keyBits: [128], mppeStateful: true });
    assert.deepEqual(r.pppdLog, ['MPPE 128-bit stateless compression enabled']);
    assert.deepEqual(r.a.negotiated, { rx: stateless, tx: stateless });
    assert.deepEqual(
      r.transcript.filter((t) => t.code === 3),
      [],
    );
  });

  it('pptp-ts stateful ↔ pppd without mppe-stateful: pppd refuses and closes (its choice, documented)', () => {
    const r = run({ stateful: true }, { keyBits: [128], mppeStateful: false });
    assert.ok(r.pppdLog.includes('Refusing MPPE stateful mode offered by peer'), r.pppdLog.join('\n'));
    assert.ok(
      r.pppdLog.some((l) => l.startsWith('LCP close: MPPE required')),
      r.pppdLog.join('\n'),
    );
  });

  it('pptp-ts stateful ↔ a stateless-only peer that negotiates (Windows-like): stateless both ways, logged', () => {
    const r = run({ stateful: true }, { keyBits: [128], mppeStateful: false, insistStateless: true });
    assert.deepEqual(notesOf(r.actionsA), []);
    assert.deepEqual(r.a.negotiated, { rx: stateless, tx: stateless });
    assert.deepEqual(r.b.negotiated, { rx: stateless, tx: stateless });
    assert.equal(r.transcript.filter((t) => t.from === 'a' && t.code === 3).length, 1);
    assert.ok(
      r.log.lines.some((l) => /insists on stateless/.test(l)),
      r.log.lines.join('\n'),
    );
  });
});

describe('CCP: the mode is Nak’d at most once in a row, whatever the peer sends (seeded)', () => {
  it('300 random configurations × up to 8 random option-18 requests', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rnd = prng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      const keyBits = ([40, 56, 128] as const).filter(() => rnd() < 0.6);
      if (keyBits.length === 0) keyBits.push(128);
      const r = ccp({ keyBits, stateful: rnd() < 0.5, required: rnd() < 0.5 });
      let previous: { stateless: boolean; modeNak: boolean } | undefined;
      const n = 1 + Math.floor(rnd() * 8);
      for (let i = 0; i < n; i++) {
        // H with probability 1/2, each strength bit with 1/2, now and then C or D.
        const low =
          pick([0, 0x20, 0x40, 0x60, 0x80, 0xa0, 0xc0, 0xe0]) |
          (rnd() < 0.1 ? 0x01 : 0) |
          (rnd() < 0.1 ? 0x10 : 0);
        const stateless = rnd() < 0.5;
        const id = 10 + i;
        const option = `1206${stateless ? '01' : '00'}0000${low.toString(16).padStart(2, '0')}`;
        const out = r.h.deliver(cp(1, id, option));
        const reply = sentPackets(out).find((p) => p.identifier === id && p.code >= 2 && p.code <= 4);
        assert.ok(reply, `seed ${seed}: request ${i} answered`);
        let modeNak = false;
        if (reply.code === 3) {
          const h = toHex(reply.data);
          assert.match(h, /^1206/, `seed ${seed}: the Nak carries one option 18`);
          modeNak = (h.slice(4, 6) === '01') !== stateless;
        }
        if (previous?.modeNak && previous.stateless === stateless) {
          assert.ok(
            !modeNak,
            `seed ${seed}: request ${i} insisted on ${stateless ? 'stateless' : 'stateful'} and was Nak'd again`,
          );
        }
        previous = { stateless, modeNak };
        r.h.drain();
      }
    }
  });
});
