/**
 * Scripted exchanges with the RFC 1661 automaton (docs/style.md §5.5): identifier
 * matching, the triple length check, Max-Configure / Max-Terminate /
 * Max-Failure, Code-Reject, and two automatons negotiating with each other.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Fsm, type FsmAction, type FsmConfig } from '../../src/ppp/fsm.js';
import type { CpPolicy, ExtraCodeVerdict } from '../../src/ppp/fsm-policy.js';
import { fromHex, toHex } from '../../src/wire/bytes.js';
import { type CpOption, decodeCpPacket } from '../../src/wire/cp.js';
import { cp, expectActions, expectNothing, Harness, sentPackets } from './helpers.js';

interface Notes {
  naks: CpOption[][];
  rejects: CpOption[][];
  acks: number;
  resets: number;
  judged: { options: CpOption[]; rejectIfDisagree: boolean }[];
}

/**
 * Test policy: requests MRU (option 1) = `mru`; accepts options 1 and 5;
 * Naks option 2 with value 00 00; Rejects anything else. A Nak of option 1
 * makes it request the Nak'd value next time; a Reject of option 1 drops it.
 */
function testPolicy(notes: Notes, mru = 1500): CpPolicy<string> {
  let want: number | undefined = mru;
  return {
    name: 'test',
    protocol: 0xc021,
    reset() {
      notes.resets++;
      want = mru;
    },
    buildRequest: () =>
      want === undefined ? [] : [{ type: 1, data: new Uint8Array([want >> 8, want & 0xff]) }],
    onAck() {
      notes.acks++;
    },
    onNak(options, treatAsReject) {
      notes.naks.push([...options]);
      for (const o of options) {
        if (o.type !== 1 || o.data.length !== 2) return false;
        want = treatAsReject ? undefined : (o.data[0]! << 8) | o.data[1]!;
      }
      return true;
    },
    onReject(options) {
      notes.rejects.push([...options]);
      if (options.some((o) => o.type === 1)) want = undefined;
      return true;
    },
    judgeRequest(options, rejectIfDisagree) {
      notes.judged.push({ options: [...options], rejectIfDisagree });
      return {
        nak: options.filter((o) => o.type === 2).map(() => ({ type: 2, data: new Uint8Array(2) })),
        reject: options.filter((o) => o.type !== 1 && o.type !== 2 && o.type !== 5),
      };
    },
    extraCode(packet, ctx): ExtraCodeVerdict {
      if (packet.code === 9)
        return { event: 'RXR', reply: { code: 10, identifier: packet.identifier, data: packet.data } };
      if (packet.code === 11) {
        ctx.note('discard');
        return { event: 'RXR' };
      }
      return { event: 'RUC' };
    },
    // The test policy sends Echo-Requests (9), so losing them is acceptable; it sends no other extra code.
    onCodeReject: (code) => (code === 9 ? 'acceptable' : 'never-sent'),
  };
}

function setup(config: Partial<FsmConfig> = {}, mru = 1500) {
  const notes: Notes = { naks: [], rejects: [], acks: 0, resets: 0, judged: [] };
  const fsm = new Fsm(testPolicy(notes, mru), config);
  const h = new Harness<FsmAction<string>>(fsm);
  return { fsm, h, notes };
}

/** Opens and brings the lower layer up; returns the Identifier of the first Configure-Request. */
function start(fsm: Fsm<string>, h: Harness<FsmAction<string>>): number {
  h.run(fsm.open());
  h.run(fsm.lowerUp());
  const out = expectActions(h, ['starting', 'send Configure-Request', 'startTimer test.restart 3000']);
  return sentPackets(out)[0]!.identifier;
}

describe('automaton: scripted exchanges', () => {
  it('opens: our request acked, theirs acked', () => {
    const { fsm, h, notes } = setup();
    const id = start(fsm, h);
    h.deliver(cp(1, 0x77, '01 04 05 78'));
    expectActions(h, ['send Configure-Ack id=119 01040578']);
    assert.equal(fsm.state, 'AckSent');
    h.deliver(cp(2, id, '01 04 05 dc'));
    expectActions(h, ['up', 'stopTimer test.restart']);
    assert.equal(fsm.state, 'Opened');
    assert.equal(notes.acks, 1);
  });

  it('tosses an Ack with the wrong Identifier, and a duplicate Ack once Opened (pppd seen_ack)', () => {
    const { fsm, h } = setup();
    const id = start(fsm, h);
    h.deliver(cp(2, (id + 1) & 0xff, '01 04 05 dc'));
    expectNothing(h);
    assert.equal(fsm.state, 'ReqSent');
    h.deliver(cp(2, id, '01 04 05 dc'));
    expectNothing(h);
    assert.equal(fsm.state, 'AckRcvd');
    h.deliver(cp(1, 5, '01 04 05 dc'));
    expectActions(h, ['send Configure-Ack', 'up', 'stopTimer']);
    h.deliver(cp(2, id, '01 04 05 dc')); // duplicated by the network
    expectNothing(h);
    assert.equal(fsm.state, 'Opened');
  });

  it('discards an Ack whose options differ from our request (RFC 1661 §5.2)', () => {
    const { fsm, h } = setup();
    const id = start(fsm, h);
    h.deliver(cp(2, id, '01 04 05 dd'));
    expectNothing(h);
    assert.equal(fsm.state, 'ReqSent');
    h.deliver(cp(2, id, ''));
    expectNothing(h);
    assert.equal(fsm.state, 'ReqSent');
  });

  it('discards a Reject that is not a subset of our request (RFC 1661 §5.4)', () => {
    const { fsm, h, notes } = setup();
    const id = start(fsm, h);
    h.deliver(cp(4, id, '05 06 00 00 00 01'));
    expectNothing(h);
    h.deliver(cp(4, id, '01 04 05 dd'));
    expectNothing(h);
    assert.equal(notes.rejects.length, 0);
    h.deliver(cp(4, id, '01 04 05 dc'));
    const out = expectActions(h, ['send Configure-Request', 'startTimer']);
    const next = sentPackets(out)[0]!;
    assert.notEqual(next.identifier, id, 'a new request takes a new Identifier');
    assert.equal(next.data.length, 0, 'the rejected option is gone');
  });

  it('a Nak changes our next request', () => {
    const { fsm, h, notes } = setup();
    const id = start(fsm, h);
    h.deliver(cp(3, id, '01 04 04 00'));
    const out = expectActions(h, ['send Configure-Request', 'startTimer']);
    assert.equal(toHex(sentPackets(out)[0]!.data), '01040400');
    assert.equal(notes.naks.length, 1);
  });

  it('retransmits the same packet on TO+, then gives up after Max-Configure (TO-, tlf)', () => {
    const { fsm, h } = setup({ maxConfigure: 3 });
    const id = start(fsm, h);
    for (let i = 0; i < 2; i++) {
      h.run(fsm.timeout());
      const out = expectActions(h, [`send Configure-Request id=${id} 010405dc`, 'startTimer']);
      assert.equal(sentPackets(out).length, 1);
    }
    assert.equal(fsm.restartCount, 0);
    h.run(fsm.timeout());
    // The timer has just fired: nothing to stop.
    expectActions(h, ['finished peer did not answer 3 Configure-Requests']);
    assert.equal(fsm.state, 'Stopped');
  });

  it('passive mode waits in Stopped without tlf ([p])', () => {
    const { fsm, h } = setup({ maxConfigure: 1, passive: true });
    start(fsm, h);
    h.run(fsm.timeout());
    expectNothing(h);
    assert.equal(fsm.state, 'Stopped');
    assert.deepEqual(fsm.lastStep?.actions, []);
  });

  it('ignores a timeout when the timer is not running (late driver callback)', () => {
    const { fsm, h } = setup();
    h.run(fsm.timeout());
    expectNothing(h);
    start(fsm, h);
    h.run(fsm.close());
    expectActions(h, ['send Terminate-Request', 'startTimer']);
    h.deliver(cp(6, 9));
    expectActions(h, ['finished', 'stopTimer']);
    h.run(fsm.timeout());
    expectNothing(h);
  });

  it('Terminate-Request: retransmitted Max-Terminate times with the same Identifier and our reason', () => {
    const { fsm, h } = setup({ maxTerminate: 2 });
    start(fsm, h);
    h.run(fsm.close('User request'));
    const first = sentPackets(expectActions(h, ['send Terminate-Request', 'startTimer']))[0]!;
    assert.equal(new TextDecoder().decode(first.data), 'User request');
    h.run(fsm.timeout());
    const second = sentPackets(expectActions(h, ['send Terminate-Request', 'startTimer']))[0]!;
    assert.equal(second.identifier, first.identifier);
    h.run(fsm.timeout());
    expectActions(h, ['finished User request']); // the reason we closed, even without a Terminate-Ack
    assert.equal(fsm.state, 'Closed');
  });

  it('records the peer’s Terminate-Request text and acks with its Identifier', () => {
    const { fsm, h } = setup();
    const id = start(fsm, h);
    h.deliver(cp(1, 1, ''));
    h.deliver(cp(2, id, '01 04 05 dc'));
    h.drain();
    assert.equal(fsm.state, 'Opened');
    h.deliver(cp(5, 0x42, '41 75 74 68 20 66 61 69 6c 65 64 0a'));
    expectActions(h, ['down', 'startTimer', 'send Terminate-Ack id=66']); // tld, zrc, sta
    assert.equal(fsm.peerTerminateReason, 'Auth failed.');
    assert.equal(fsm.state, 'Stopping');
    h.run(fsm.timeout());
    expectActions(h, ['finished terminated by peer: Auth failed.']);
  });

  it('Max-Failure: after five Naks the sixth becomes a Reject (RFC 1661 §4.6)', () => {
    const { fsm, h, notes } = setup({ maxFailure: 5 });
    start(fsm, h);
    for (let i = 0; i < 5; i++) {
      h.deliver(cp(1, 10 + i, '01 04 05 dc 02 04 12 34'));
      expectActions(h, [`send Configure-Nak id=${10 + i} 02040000`]);
    }
    h.deliver(cp(1, 20, '01 04 05 dc 02 04 12 34'));
    expectActions(h, ['send Configure-Reject id=20 02041234']);
    assert.equal(notes.judged.at(-1)!.rejectIfDisagree, true);
    assert.equal(notes.judged.at(-2)!.rejectIfDisagree, false);
    // An Ack resets the count.
    h.deliver(cp(1, 21, '01 04 05 dc'));
    expectActions(h, ['send Configure-Ack']);
    h.deliver(cp(1, 22, '02 04 12 34'));
    expectActions(h, ['send Configure-Nak']);
  });

  it('a peer that Naks every Configure-Request gets Max-Failure + Max-Configure of them, then tlf with a reason', () => {
    const { fsm, h } = setup({ maxFailure: 5, maxConfigure: 10 });
    let id = start(fsm, h);
    let requests = 1;
    let finished: FsmAction<string> | undefined;
    for (let i = 0; i < 1000 && !finished; i++) {
      // The Nak always asks for MRU 1400; once it is treated as a Reject we ask for nothing, and the peer
      // Naks the empty request with the same option (asking us to add it).
      const out = h.deliver(cp(3, id, '01 04 05 78'));
      h.drain();
      finished = out.find((a) => a.kind === 'finished');
      const reqs = sentPackets(out).filter((p) => p.code === 1);
      if (reqs.length > 0) {
        requests += reqs.length;
        id = reqs[0]!.identifier;
      }
    }
    assert.ok(finished && finished.kind === 'finished');
    assert.match(finished.reason, /not converging: peer Nak'd or Rejected 15 Configure-Requests in a row/);
    assert.equal(requests, 16);
    assert.equal(fsm.state, 'Stopped');
    assert.equal(fsm.timerActive, false);
  });

  it('a peer whose Configure-Requests we refuse forever gets Max-Failure + Max-Configure refusals, then tlf', () => {
    const { fsm, h } = setup({ maxFailure: 5, maxConfigure: 10 });
    start(fsm, h);
    let refusals = 0;
    let finished: FsmAction<string> | undefined;
    for (let i = 0; i < 1000 && !finished; i++) {
      const out = h.deliver(cp(1, i & 0xff, '07 02'));
      h.drain();
      refusals += sentPackets(out).filter((p) => p.code === 4).length;
      finished = out.find((a) => a.kind === 'finished');
    }
    assert.ok(finished && finished.kind === 'finished');
    assert.match(finished.reason, /not converging: 15 of the peer's Configure-Requests/);
    assert.equal(refusals, 15);
    assert.equal(fsm.state, 'Stopped');
  });

  it('Nak rounds below the limit, then an Ack: Opened, and the count starts again', () => {
    const { fsm, h } = setup({ maxFailure: 2, maxConfigure: 1 });
    let id = start(fsm, h);
    // Three Naks (the limit is 2 + 1): the third one is still followed by a request.
    for (let i = 0; i < 3; i++) {
      const out = h.deliver(cp(3, id, '01 04 05 78'));
      h.drain();
      assert.ok(!out.some((a) => a.kind === 'finished'), `Nak ${i}`);
      id = sentPackets(out).find((p) => p.code === 1)!.identifier;
    }
    const last = sentPackets(h.deliver(cp(3, id, '01 04 05 78')));
    h.drain();
    assert.equal(last.length, 0, 'the fourth Nak ends it');
    assert.equal(fsm.state, 'Stopped');
    // A new negotiation starts from zero: three Naks, then an Ack opens the layer.
    h.run(fsm.open());
    h.run(fsm.lowerDown());
    h.run(fsm.lowerUp());
    id = sentPackets(h.drain()).find((p) => p.code === 1)!.identifier;
    let data: Uint8Array = new Uint8Array(0);
    for (let i = 0; i < 3; i++) {
      const req = sentPackets(h.deliver(cp(3, id, '01 04 05 78'))).find((p) => p.code === 1)!;
      h.drain();
      id = req.identifier;
      data = req.data;
    }
    h.deliver(cp(1, 0x40, '01 04 05 dc'));
    h.deliver(cp(2, id, toHex(data)));
    h.drain();
    assert.equal(fsm.state, 'Opened');
  });

  it('a Reject takes precedence over a Nak in the same request', () => {
    const { fsm, h } = setup();
    start(fsm, h);
    h.deliver(cp(1, 3, '02 04 12 34 07 02'));
    expectActions(h, ['send Configure-Reject id=3 0702']);
  });

  it('triple length check: short header, Length < 4, Length > bytes present are all discarded', () => {
    const { fsm, h } = setup();
    start(fsm, h);
    for (const hex of ['01 01 00', '01 01 00 03', '01 01 00 09 01 04 05 dc']) {
      h.deliver(fromHex(hex));
      expectNothing(h);
    }
    assert.equal(fsm.state, 'ReqSent');
  });

  it('a Configure-Request with a bad option length is discarded whole (RFC 1661 §6)', () => {
    const { fsm, h } = setup();
    start(fsm, h);
    h.deliver(cp(1, 3, '01 04 05 dc 05 09 00 00'));
    expectNothing(h);
    h.deliver(cp(1, 3, '01 00'));
    expectNothing(h);
  });

  it('padding beyond Length is ignored', () => {
    const { fsm, h } = setup();
    start(fsm, h);
    const padded = new Uint8Array([...cp(1, 3, '01 04 05 dc'), 0xee, 0xee]);
    h.deliver(padded);
    expectActions(h, ['send Configure-Ack id=3 010405dc']);
  });

  it('Code-Rejects an unknown code, truncated to the peer’s MRU, with a fresh Identifier each time', () => {
    const { fsm, h } = setup();
    start(fsm, h);
    const big = cp(0x33, 7, 'aa'.repeat(100));
    fsm.peerMru = 64;
    h.deliver(big);
    const rej = sentPackets(expectActions(h, ['send Code-Reject']))[0]!;
    assert.equal(rej.data.length, 60);
    assert.equal(toHex(rej.data.subarray(0, 8)), toHex(big.subarray(0, 8)));
    h.deliver(cp(0x33, 7, ''));
    const rej2 = sentPackets(expectActions(h, ['send Code-Reject']))[0]!;
    assert.notEqual(rej2.identifier, rej.identifier);
    assert.equal(toHex(rej2.data), '33070004');
  });

  it('a Code-Reject of an extended code is RXJ+, of Configure-Request RXJ- (tlf)', () => {
    const { fsm, h } = setup();
    const id = start(fsm, h);
    h.deliver(cp(2, id, '01 04 05 dc'));
    assert.equal(fsm.state, 'AckRcvd');
    // RXJ+ in Ack-Rcvd goes back to Req-Sent (RFC 1661 §4.1's table: "6").
    h.deliver(cp(7, 1, '09 01 00 08 00 00 00 00'));
    expectNothing(h);
    assert.equal(fsm.state, 'ReqSent');
    h.deliver(cp(7, 2, '01 01 00 04'));
    expectActions(h, ['finished peer rejected Configure-Request', 'stopTimer']);
    assert.equal(fsm.state, 'Stopped');
  });

  it('a Code-Reject of a code we never send (one of ours damaged on the way) is discarded, in any state', () => {
    const { fsm, h } = setup();
    const id = start(fsm, h);
    h.deliver(cp(2, id, '01 04 05 dc'));
    // 0x8e: a Reset-Request (14) with its top bit flipped. Neither RXJ+ (back to Req-Sent) nor RXJ-.
    h.deliver(cp(7, 1, '8e 05 00 04'));
    h.deliver(cp(7, 2, '00 05 00 04'));
    expectNothing(h);
    assert.equal(fsm.state, 'AckRcvd');
    h.deliver(cp(1, 5, '01 04 05 dc'));
    h.drain();
    assert.equal(fsm.state, 'Opened');
    h.deliver(cp(7, 3, '8e 05 00 04'));
    expectNothing(h);
    assert.equal(fsm.state, 'Opened');
  });

  it('Echo-Request is answered only in Opened; Discard-Request reaches the policy', () => {
    const { fsm, h } = setup();
    const id = start(fsm, h);
    h.deliver(cp(9, 4, '00 00 00 00'));
    expectNothing(h);
    h.deliver(cp(1, 1, ''));
    h.deliver(cp(2, id, '01 04 05 dc'));
    h.drain();
    h.deliver(cp(9, 4, '00 00 00 00 68 69'));
    expectActions(h, ['send Echo-Reply id=4 000000006869']);
    h.deliver(cp(11, 5, '00 00 00 00'));
    expectActions(h, ['note "discard"']);
  });

  it('packets before the lower layer is up are discarded', () => {
    const { fsm, h } = setup();
    h.run(fsm.open());
    h.drain();
    h.deliver(cp(1, 1, ''));
    h.deliver(cp(0x33, 1, ''));
    expectNothing(h);
    assert.equal(fsm.state, 'Starting');
  });

  it('renegotiation in Opened resets our side before building the new request', () => {
    const { fsm, h, notes } = setup();
    const id = start(fsm, h);
    h.deliver(cp(3, id, '01 04 04 00')); // Nak: we now want 1024
    h.drain();
    assert.equal(fsm.state, 'ReqSent');
    h.deliver(cp(1, 1, ''));
    const [, req] = sentPackets(h.drain());
    void req;
    const reqId = sentPackets(fsm.timeout())[0]!.identifier;
    h.deliver(cp(2, reqId, '01 04 04 00'));
    h.drain();
    assert.equal(fsm.state, 'Opened');
    const resetsBefore = notes.resets;
    h.deliver(cp(1, 2, ''));
    const out = expectActions(h, ['down', 'send Configure-Request', 'startTimer', 'send Configure-Ack']);
    assert.equal(notes.resets, resetsBefore + 1);
    assert.equal(toHex(sentPackets(out)[0]!.data), '010405dc', 'back to our configured MRU');
  });

  it('in Opened, a duplicate of the request we acked is acked again without renegotiating (RFC 1661 §5.1)', () => {
    const { fsm, h } = setup();
    const id = start(fsm, h);
    h.deliver(cp(1, 9, '01 04 05 dc'));
    h.deliver(cp(2, id, '01 04 05 dc'));
    h.drain();
    assert.equal(fsm.state, 'Opened');
    h.deliver(cp(1, 9, '01 04 05 dc')); // late duplicate
    expectActions(h, ['send Configure-Ack id=9 010405dc']);
    assert.equal(fsm.state, 'Opened');
    h.deliver(cp(1, 10, '01 04 05 dc')); // a new request: renegotiate, as the table says
    expectActions(h, ['down', 'send Configure-Request', 'startTimer', 'send Configure-Ack id=10']);
    assert.equal(fsm.state, 'AckSent');
  });

  it('restartOnOpen renegotiates an Opened link ([r])', () => {
    const { fsm, h } = setup({ restartOnOpen: true });
    const id = start(fsm, h);
    h.deliver(cp(1, 1, ''));
    h.deliver(cp(2, id, '01 04 05 dc'));
    h.drain();
    h.run(fsm.open());
    expectActions(h, ['down', 'send Configure-Request', 'startTimer']); // Down: tld/1, then Up: irc,scr/6
    assert.equal(fsm.state, 'ReqSent');
  });

  it('protocolRejected() in Opened: tld, irc, str → Stopping', () => {
    const { fsm, h } = setup();
    const id = start(fsm, h);
    h.deliver(cp(1, 1, ''));
    h.deliver(cp(2, id, '01 04 05 dc'));
    h.drain();
    h.run(fsm.protocolRejected());
    const out = expectActions(h, ['down', 'send Terminate-Request', 'startTimer']);
    assert.equal(new TextDecoder().decode(sentPackets(out)[0]!.data), 'protocol rejected by peer');
    assert.equal(fsm.state, 'Stopping');
  });
});

describe('automaton: two peers in memory', () => {
  /** Delivers every `send` of one side to the other until both are quiet. */
  function pump(
    a: Fsm<string>,
    b: Fsm<string>,
    first: FsmAction<string>[],
    second: FsmAction<string>[],
  ): number {
    let qa = first; // produced by a, to deliver to b
    let qb = second;
    let rounds = 0;
    while ((qa.length || qb.length) && rounds < 100) {
      rounds++;
      const toB = qa.filter((x) => x.kind === 'send');
      const toA = qb.filter((x) => x.kind === 'send');
      qa = [];
      qb = [];
      for (const s of toB) if (s.kind === 'send') qb.push(...b.receive(s.frame.payload));
      for (const s of toA) if (s.kind === 'send') qa.push(...a.receive(s.frame.payload));
    }
    return rounds;
  }

  it('negotiate to Opened, with a Nak round for MRU, and close cleanly', () => {
    const na: Notes = { naks: [], rejects: [], acks: 0, resets: 0, judged: [] };
    const nb: Notes = { naks: [], rejects: [], acks: 0, resets: 0, judged: [] };
    const a = new Fsm(testPolicy(na, 1500));
    const pb = testPolicy(nb, 1400);
    // b Naks any MRU other than 1400.
    const judge = pb.judgeRequest;
    pb.judgeRequest = (options, rid, ctx) => {
      const v = judge(options, rid, ctx);
      const mru = options.find((o) => o.type === 1);
      if (mru && toHex(mru.data) !== '0578') return { ...v, nak: [{ type: 1, data: fromHex('0578') }] };
      return v;
    };
    const b = new Fsm(pb);
    a.open();
    b.open();
    const rounds = pump(a, b, a.lowerUp(), b.lowerUp());
    assert.ok(rounds < 10);
    assert.equal(a.state, 'Opened');
    assert.equal(b.state, 'Opened');
    assert.equal(na.naks.length, 1);
    pump(a, b, a.close('bye'), []);
    assert.equal(a.state, 'Closed');
    assert.equal(b.state, 'Stopping');
    assert.equal(b.peerTerminateReason, 'bye');
    const fin = b.timeout();
    assert.ok(fin.some((x) => x.kind === 'finished'));
    assert.equal(b.state, 'Stopped');
  });

  it('the Restart-timer period is configurable', () => {
    const { fsm } = setup({ restartMs: 1000 });
    fsm.open();
    const out = fsm.lowerUp();
    assert.deepEqual(
      out.filter((x) => x.kind === 'startTimer'),
      [{ kind: 'startTimer', id: 'test.restart', ms: 1000 }],
    );
    assert.equal(
      decodeCpPacket((out.find((x) => x.kind === 'send') as { frame: { payload: Uint8Array } }).frame.payload)
        .code,
      1,
    );
  });
});
