import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GRE_CHANNEL_HEADROOM, GreChannel } from '../../src/pptp/gre-channel.js';
import { GreDemux } from '../../src/pptp/gre-demux.js';
import { MAX_ACK_EVERY, SILENT_PEER_TIMEOUTS } from '../../src/pptp/gre-sequencer.js';
import { fromHex, toHex } from '../../src/wire/bytes.js';
import { IpProtocol, internetChecksum } from '../../src/wire/ipv4.js';
import { PppProtocol } from '../../src/wire/ppp.js';
import {
  CLIENT,
  deliver,
  expectDelivered,
  expectNothing,
  frameNumber,
  ipFrame,
  makeChannel,
  OUR_CALL_ID,
  PEER_CALL_ID,
  peerPacket,
  RecordingSink,
  SERVER,
} from './gre-helpers.js';

const LCP_CONF_REQ = {
  protocol: PppProtocol.Lcp,
  payload: fromHex('0101000a010405dc0000'),
};
const LCP_ECHO_REQ = { protocol: PppProtocol.Lcp, payload: fromHex('0907000812345678') };

describe('GRE channel: transmit (Linux pptp_xmit)', () => {
  it('first packet: seq 1, no ack, key = payload length + peer call ID, outer IPv4 DF/TTL/id/checksum', () => {
    const { ch, sink } = makeChannel();
    assert.equal(ch.send(ipFrame(1, 100), 0), 'sent');
    const [s] = sink.takeSent();
    assert.ok(s);
    assert.equal(s.gre.sequenceNumber, 1);
    assert.equal(s.gre.acknowledgmentNumber, undefined);
    assert.equal(s.gre.callId, PEER_CALL_ID);
    assert.equal(s.gre.payload.length, 104, 'Payload Length = addr/ctl + protocol + 100');
    assert.equal(toHex(s.pppBytes.subarray(0, 4)), 'ff030021');
    assert.equal(s.ip.sourceAddress, CLIENT);
    assert.equal(s.ip.destinationAddress, SERVER);
    assert.equal(s.ip.protocol, IpProtocol.Gre);
    assert.equal(s.ip.dontFragment, true);
    assert.equal(s.ip.timeToLive, 64);
    assert.equal(s.ip.identification, 0);
    assert.equal(frameNumber(s.frame!), 1);
  });
  it('seq = ++seq_sent on every data packet; IPv4 id increments', () => {
    const { ch, sink } = makeChannel({ initialSequenceNumber: 0xfffffffe, initialIdentification: 0xffff });
    for (let i = 0; i < 3; i++) ch.send(ipFrame(i), 0);
    const s = sink.takeSent();
    assert.deepEqual(
      s.map((x) => x.gre.sequenceNumber),
      [0xffffffff, 0, 1],
    );
    assert.deepEqual(
      s.map((x) => x.ip.identification),
      [0xffff, 0, 1],
    );
  });
  it('piggy-backs the ack only when ack_sent != seq_recv', () => {
    const { ch, sink, demux } = makeChannel();
    deliver(demux, { seq: 10, frame: ipFrame(10) }, 0);
    sink.takeDelivered();
    ch.send(ipFrame(1), 1);
    ch.send(ipFrame(2), 2);
    deliver(demux, { seq: 11, frame: ipFrame(11) }, 3);
    deliver(demux, { seq: 12, frame: ipFrame(12) }, 3);
    ch.send(ipFrame(3), 4);
    const s = sink.takeSent();
    assert.deepEqual(
      s.map((x) => x.gre.acknowledgmentNumber),
      [10, undefined, 12],
    );
    assert.equal(ch.counters.txPiggybackedAcks, 2);
  });
  it('ACFC/PFC as negotiated, never for LCP (RFC 1661 §6.6)', () => {
    const { ch, sink } = makeChannel();
    ch.setFraming({ acfc: true, pfc: true });
    ch.send(ipFrame(1), 0);
    ch.send(LCP_CONF_REQ, 0);
    ch.send(LCP_ECHO_REQ, 0);
    const s = sink.takeSent();
    assert.equal(toHex(s[0]!.pppBytes.subarray(0, 2)), '2145');
    assert.equal(toHex(s[1]!.pppBytes.subarray(0, 4)), 'ff03c021');
    assert.equal(toHex(s[2]!.pppBytes.subarray(0, 5)), 'ff03c02109', 'Echo keeps Address/Control too');
    assert.equal(s[0]!.gre.payload.length, 1 + 8);
  });
  it('mtu = path MTU − 40 and a full-size frame makes exactly a path-MTU packet', () => {
    const { ch, sink } = makeChannel({ pathMtu: 1400 });
    assert.equal(ch.mtu, 1360);
    assert.equal(ch.headroom, 40);
    ch.send(ipFrame(1, ch.mtu), 0);
    const [s] = sink.takeSent();
    // Largest header: GRE with an ack. Here there is no ack, so 4 bytes spare.
    assert.equal(s!.ip.payload.length + 20, 1400 - 4);
  });
  it('send() copies any frame an outer IPv4 datagram can carry; longer ones are dropped and counted', () => {
    const { ch, sink } = makeChannel();
    ch.send(ipFrame(1, 100), 0);
    ch.send(ipFrame(2, 3000), 0);
    ch.send(ipFrame(3, 65535 - 40), 0);
    assert.equal(ch.send(ipFrame(4, 65535 - 39), 0), 'dropped');
    const s = sink.takeSent();
    assert.deepEqual(
      s.map((x) => x.gre.payload.length),
      [104, 3004, 65535 - 36],
    );
    assert.deepEqual(
      s.map((x) => frameNumber(x.frame!)),
      [1, 2, 3],
    );
    assert.equal(ch.counters.txDroppedTooLong, 1);
  });
  it('sendInPlace writes the headers into the caller headroom without copying the payload', () => {
    const got: Uint8Array[] = [];
    const ch = new GreChannel(
      { localAddress: CLIENT, peerAddress: SERVER, callId: OUR_CALL_ID, peerCallId: PEER_CALL_ID },
      { transmit: (p) => got.push(p), deliver: () => {} },
    );
    const buf = new Uint8Array(GRE_CHANNEL_HEADROOM + 64).fill(0xa5);
    buf.set(ipFrame(5, 64).payload, GRE_CHANNEL_HEADROOM);
    assert.equal(ch.sendInPlace(buf, GRE_CHANNEL_HEADROOM, 64, 0x21, 0), 'sent');
    const p = got[0]!;
    assert.equal(p.buffer, buf.buffer, 'the packet is a view of the caller buffer');
    assert.equal(p.byteOffset + p.length, buf.byteOffset + buf.length);
    assert.equal(internetChecksum(p, 0, 20), 0);
    assert.throws(() => ch.sendInPlace(buf, 10, 64, 0x21, 0), RangeError);
  });
});

describe('GRE channel: acknowledgments', () => {
  it('sends an ack-only packet (S=0, A=1) after the ack time-out', () => {
    const { ch, sink, demux } = makeChannel({ ackTimeoutMs: 100 });
    deliver(demux, { seq: 1, frame: ipFrame(1) }, 1000);
    deliver(demux, { seq: 2, frame: ipFrame(2) }, 1010);
    assert.equal(sink.sent.length, 0);
    assert.equal(ch.pollAt(), 1100, 'the first unacknowledged packet starts the clock');
    ch.poll(1099);
    assert.equal(sink.sent.length, 0);
    ch.poll(1100);
    const [a] = sink.takeSent();
    assert.equal(a!.gre.sequenceNumber, undefined);
    assert.equal(a!.gre.acknowledgmentNumber, 2);
    assert.equal(a!.gre.payload.length, 0);
    assert.equal(a!.ip.payload.length, 12);
    assert.equal(ch.pollAt(), undefined);
    assert.equal(ch.counters.txAckOnly, 1);
  });
  it('with ackTimeoutMs 0 no ack-only packet goes on a timer: the ack rides on the next data packet', () => {
    const { ch, sink, demux } = makeChannel({ ackTimeoutMs: 0, receiveWindow: 8 });
    deliver(demux, { seq: 1, frame: ipFrame(1) }, 1000);
    deliver(demux, { seq: 2, frame: ipFrame(2) }, 1010);
    assert.equal(ch.pollAt(), undefined, 'no acknowledgment deadline');
    ch.poll(60_000);
    assert.equal(sink.sent.length, 0);
    assert.equal(ch.counters.txAckOnly, 0);
    ch.send(ipFrame(9), 60_000);
    assert.equal(sink.takeSent()[0]!.gre.acknowledgmentNumber, 2);
    // Half the advertised window unacknowledged still gets an acknowledgment at once.
    for (let s = 3; s <= 6; s++) deliver(demux, { seq: s, frame: ipFrame(s) }, 60_001);
    const [a] = sink.takeSent();
    assert.equal(a!.gre.sequenceNumber, undefined);
    assert.equal(a!.gre.acknowledgmentNumber, 6);
  });
  it('data sent before the time-out carries the ack instead, and cancels the ack-only packet', () => {
    const { ch, sink, demux } = makeChannel();
    deliver(demux, { seq: 1, frame: ipFrame(1) }, 0);
    deliver(demux, { seq: 2, frame: ipFrame(2) }, 1);
    sink.takeSent();
    ch.send(ipFrame(9), 50);
    assert.equal(sink.takeSent()[0]!.gre.acknowledgmentNumber, 2);
    assert.equal(ch.pollAt(), undefined);
    ch.poll(500);
    assert.equal(sink.sent.length, 0, 'no ack-only packet after all');
  });
  it('acknowledges at once when half the advertised receive window is unacknowledged', () => {
    const { sink, demux } = makeChannel({ receiveWindow: 8 });
    for (let s = 1; s <= 3; s++) deliver(demux, { seq: s, frame: ipFrame(s) }, 0);
    assert.equal(sink.sent.length, 0);
    deliver(demux, { seq: 4, frame: ipFrame(4) }, 0);
    const [a] = sink.takeSent();
    assert.equal(a!.gre.acknowledgmentNumber, 4);
    for (let s = 5; s <= 7; s++) deliver(demux, { seq: s, frame: ipFrame(s) }, 0);
    assert.equal(sink.sent.length, 0);
    deliver(demux, { seq: 8, frame: ipFrame(8) }, 0);
    assert.equal(sink.takeSent()[0]!.gre.acknowledgmentNumber, 8);
  });
  it('with a large receive window, acknowledges at once after MAX_ACK_EVERY packets, not half the window', () => {
    const { sink, demux, ch } = makeChannel({ receiveWindow: 1024 });
    for (let s = 1; s < MAX_ACK_EVERY; s++) deliver(demux, { seq: s, frame: ipFrame(s) }, 0);
    assert.equal(sink.sent.length, 0);
    deliver(demux, { seq: MAX_ACK_EVERY, frame: ipFrame(MAX_ACK_EVERY) }, 0);
    const [a] = sink.takeSent();
    assert.equal(a!.gre.acknowledgmentNumber, MAX_ACK_EVERY);
    assert.equal(a!.gre.sequenceNumber, undefined, 'an acknowledgment-only packet');
    // A lone packet after that still gets its ack from the time-out.
    deliver(demux, { seq: MAX_ACK_EVERY + 1, frame: ipFrame(0) }, 10);
    assert.equal(sink.sent.length, 0);
    assert.equal(ch.pollAt(), 110);
    ch.poll(110);
    assert.equal(sink.takeSent()[0]!.gre.acknowledgmentNumber, MAX_ACK_EVERY + 1);
  });
  it('counts old acks and ignores acks for packets never sent', () => {
    const { ch, demux } = makeChannel();
    for (let i = 0; i < 3; i++) ch.send(ipFrame(i), 0);
    deliver(demux, { ack: 2 }, 1);
    deliver(demux, { ack: 1 }, 2);
    deliver(demux, { ack: 99 }, 3);
    assert.equal(ch.counters.rxAcks, 1);
    assert.equal(ch.counters.rxAcksOld, 1);
    assert.equal(ch.counters.rxAcksInvalid, 1);
    assert.equal(ch.counters.rxAckOnly, 3);
    assert.equal(ch.sequencer.ackRecv, 2);
  });
  it('an RTT sample from an ack adapts the time-out (RFC 2637 §4.4.1)', () => {
    const { ch, demux } = makeChannel({ minTimeoutMs: 1, maxTimeoutMs: 10_000 });
    ch.send(ipFrame(1), 1000);
    deliver(demux, { ack: 1 }, 1080);
    // RTT0 = PPD 0; DIFF = 80; DEV = 20; RTT = 10; ATO = 10 + 4·20 = 90.
    assert.equal(ch.sequencer.ato.roundTripMs, 10);
    assert.equal(ch.sequencer.ato.deviationMs, 20);
    assert.equal(ch.sequencer.ato.timeoutMs, 90);
  });
});

describe('GRE channel: receive sequencing', () => {
  it('accepts any initial sequence number and wraps at 2^32', () => {
    const { ch, sink, demux } = makeChannel();
    const seqs = [0xfffffffd, 0xfffffffe, 0xffffffff, 0, 1, 2];
    for (const [i, s] of seqs.entries()) deliver(demux, { seq: s, frame: ipFrame(i) }, i);
    expectDelivered(sink, [0, 1, 2, 3, 4, 5]);
    assert.equal(ch.counters.rxLost, 0);
    assert.equal(ch.sequencer.seqRecv, 2);
  });
  it('drops and counts duplicates, also across the wrap', () => {
    const { ch, sink, demux } = makeChannel();
    for (const s of [0xffffffff, 0, 0, 0xffffffff, 1])
      deliver(demux, { seq: s, frame: ipFrame(s & 0xff) }, 0);
    expectDelivered(sink, [0xff, 0, 1]);
    assert.equal(ch.counters.rxDuplicate, 2);
  });
  it('drops a duplicate of a packet held in the reorder buffer', () => {
    const { ch, sink, demux } = makeChannel();
    for (const s of [1, 3, 3, 2]) deliver(demux, { seq: s, frame: ipFrame(s) }, 0);
    expectDelivered(sink, [1, 2, 3]);
    assert.equal(ch.counters.rxDuplicate, 1);
  });
  it('reorders within the window and releases in order when the gap fills', () => {
    const { ch, sink, demux } = makeChannel();
    for (const s of [1, 4, 3, 5]) deliver(demux, { seq: s, frame: ipFrame(s) }, 0);
    expectDelivered(sink, [1]);
    deliver(demux, { seq: 2, frame: ipFrame(2) }, 1);
    expectDelivered(sink, [2, 3, 4, 5]);
    assert.equal(ch.counters.rxReordered, 3);
    assert.equal(ch.counters.rxLost, 0);
    assert.equal(ch.pollAt(), 100, 'no reorder deadline left, only the delayed ack');
  });
  it('acknowledges the highest sequence number received, held packets included (RFC 2637 §4.3)', () => {
    const { ch, sink, demux } = makeChannel();
    deliver(demux, { seq: 1, frame: ipFrame(1) }, 0);
    deliver(demux, { seq: 3, frame: ipFrame(3) }, 0);
    sink.takeSent();
    ch.send(ipFrame(100), 1);
    assert.equal(sink.takeSent()[0]!.gre.acknowledgmentNumber, 3);
  });
  it('releases held packets past a gap when the reorder time-out expires; a late packet is then stale', () => {
    const { ch, sink, demux } = makeChannel({ reorderTimeoutMs: 300 });
    deliver(demux, { seq: 1, frame: ipFrame(1) }, 0);
    deliver(demux, { seq: 3, frame: ipFrame(3) }, 10);
    deliver(demux, { seq: 5, frame: ipFrame(5) }, 100);
    expectDelivered(sink, [1]);
    assert.equal(ch.pollAt(), 100, 'the delayed ack comes first');
    ch.poll(100);
    sink.takeSent();
    assert.equal(ch.pollAt(), 310);
    ch.poll(309);
    expectDelivered(sink, []);
    ch.poll(310);
    expectDelivered(sink, [3]);
    assert.equal(ch.counters.rxLost, 1);
    assert.equal(ch.pollAt(), 400);
    deliver(demux, { seq: 4, frame: ipFrame(4) }, 350);
    expectDelivered(sink, [4, 5]);
    deliver(demux, { seq: 2, frame: ipFrame(2) }, 360);
    expectDelivered(sink, []);
    assert.equal(ch.counters.rxStale, 1);
    assert.equal(ch.counters.rxReorderTimeouts, 1);
  });
  it('delivers a stale LCP Echo-Request anyway (Linux deviation) without moving the cursor', () => {
    const { ch, sink, demux } = makeChannel({ reorderTimeoutMs: 0 });
    deliver(demux, { seq: 1, frame: ipFrame(1) }, 0);
    deliver(demux, { seq: 3, frame: ipFrame(3) }, 0);
    deliver(demux, { seq: 2, frame: LCP_ECHO_REQ }, 0);
    deliver(demux, { seq: 2, frame: LCP_CONF_REQ }, 0);
    const d = sink.takeDelivered();
    assert.deepEqual(
      d.map((f) => f.protocol),
      [0x21, 0x21, PppProtocol.Lcp],
    );
    assert.equal(toHex(d[2]!.payload), toHex(LCP_ECHO_REQ.payload));
    assert.equal(ch.counters.rxStaleLcpEchoDelivered, 1);
    assert.equal(ch.counters.rxStale, 2);
    deliver(demux, { seq: 4, frame: ipFrame(4) }, 0);
    expectDelivered(sink, [4]);
  });
  it('without reordering (timeout 0) behaves like the kernel: newer packets pass, older ones are dropped', () => {
    const { ch, sink, demux } = makeChannel({ reorderTimeoutMs: 0 });
    for (const s of [1, 3, 2, 4]) deliver(demux, { seq: s, frame: ipFrame(s) }, 0);
    expectDelivered(sink, [1, 3, 4]);
    assert.equal(ch.counters.rxLost, 1);
    assert.equal(ch.counters.rxStale, 1);
  });
  it('a jump beyond the reorder capacity slides the window: the oldest gaps are given up', () => {
    const { ch, sink, demux } = makeChannel({ reorderBufferPackets: 4, reorderTimeoutMs: 300 });
    for (const s of [1, 3, 4, 100]) deliver(demux, { seq: s, frame: ipFrame(s) }, 0);
    // 2 and 5..96 are given up so that 100 fits in the 4-slot window; 100
    // itself waits for 97..99.
    expectDelivered(sink, [1, 3, 4]);
    assert.equal(ch.counters.rxLost, 1 + 92);
    deliver(demux, { seq: 98, frame: ipFrame(98) }, 10);
    expectDelivered(sink, []);
    ch.poll(299);
    expectDelivered(sink, []);
    ch.poll(300); // 100 arrived at 0: its hold ends, and 98 goes before it
    expectDelivered(sink, [98, 100]);
    assert.equal(ch.counters.rxLost, 1 + 92 + 2);
    deliver(demux, { seq: 101, frame: ipFrame(101) }, 320);
    expectDelivered(sink, [101]);
  });
  it('a huge jump is out of window: dropped and counted; the peer resynchronises after a run of consecutive packets', () => {
    const { ch, sink, demux } = makeChannel({ reorderTimeoutMs: 300, resyncPackets: 4 });
    deliver(demux, { seq: 5, frame: ipFrame(5) }, 0);
    for (let i = 0; i < 3; i++) deliver(demux, { seq: 0x70000000 + i, frame: ipFrame(100 + i) }, 0);
    expectDelivered(sink, [5]);
    ch.poll(1000);
    expectDelivered(sink, []);
    assert.equal(ch.counters.rxOutOfWindow, 3);
    deliver(demux, { seq: 0x70000003, frame: ipFrame(103) }, 1000);
    expectDelivered(sink, [103]);
    assert.equal(ch.counters.rxResyncs, 1);
    deliver(demux, { seq: 0x70000004, frame: ipFrame(104) }, 1001);
    expectDelivered(sink, [104]);
  });
  it('receives compressed frames whatever our own framing', () => {
    const { sink, demux } = makeChannel();
    deliver(demux, { seq: 1, frame: ipFrame(1), flags: { acfc: true, pfc: true } }, 0);
    expectDelivered(sink, [1]);
  });
  it('counts a payload that is not a PPP frame, and still sequences it', () => {
    const { ch, sink, demux } = makeChannel();
    deliver(demux, { seq: 1, frame: ipFrame(1) }, 0);
    // A Protocol field with an even low octet.
    const bad = peerPacket({ seq: 2, frame: ipFrame(2) });
    bad[bad.length - 8 - 1] = 0x20; // ff 03 00 [21→20]
    demux.receive(bad, 0);
    deliver(demux, { seq: 3, frame: ipFrame(3) }, 0);
    expectDelivered(sink, [1, 3]);
    assert.equal(ch.counters.rxBadFrame, 1);
  });
});

describe('GRE channel: sliding window (RFC 2637 §4.2)', () => {
  it('starts at half the peer window, queues when full, sends queued frames as acks arrive', () => {
    const { ch, sink, demux } = makeChannel({ peerReceiveWindow: 4 });
    assert.equal(ch.sequencer.window, 2);
    assert.deepEqual(
      [1, 2, 3, 4].map((n) => ch.send(ipFrame(n), 0)),
      ['sent', 'sent', 'queued', 'queued'],
    );
    assert.equal(ch.writable, false);
    assert.deepEqual(
      sink.takeSent().map((s) => s.gre.sequenceNumber),
      [1, 2],
    );
    deliver(demux, { ack: 1 }, 10);
    assert.deepEqual(
      sink.takeSent().map((s) => frameNumber(s.frame!)),
      [3],
    );
    deliver(demux, { ack: 3 }, 20);
    // 2 acknowledged with window 2 → the window opens to 3 (§4.2.3).
    assert.equal(ch.sequencer.window, 3);
    assert.deepEqual(
      sink.takeSent().map((s) => frameNumber(s.frame!)),
      [4],
    );
    assert.equal(sink.wakes, 1);
    assert.equal(ch.writable, true);
  });
  it('drops and counts frames when the transmit queue is full', () => {
    const { ch } = makeChannel({ peerReceiveWindow: 2, transmitQueuePackets: 2 });
    const r = [1, 2, 3, 4].map((n) => ch.send(ipFrame(n), 0));
    assert.deepEqual(r, ['sent', 'queued', 'queued', 'dropped']);
    assert.equal(ch.counters.txDroppedQueueFull, 1);
    assert.equal(ch.counters.txQueued, 2);
  });
  it('an ack time-out halves the window (rounding up), backs off, and lets the queue go', () => {
    const { ch, sink } = makeChannel({ peerReceiveWindow: 10, minTimeoutMs: 100 });
    assert.equal(ch.sequencer.window, 5);
    for (let n = 0; n < 8; n++) ch.send(ipFrame(n), 0);
    assert.equal(sink.takeSent().length, 5);
    assert.equal(ch.pollAt(), 100);
    ch.poll(100);
    assert.equal(ch.counters.txAckTimeouts, 1);
    assert.equal(ch.sequencer.window, 3);
    assert.equal(sink.takeSent().length, 3);
    assert.equal(ch.sequencer.ato.timeoutMs, 200, 'RTT doubled from MinTimeOut');
  });
  it('a peer that never sends acknowledgment-only packets (the Linux kernel) loses its window after SILENT_PEER_TIMEOUTS time-outs', () => {
    // One-way traffic towards a peer that acknowledges only on its own data: here it sends one
    // data packet carrying an acknowledgment, then nothing. The window holds us back, times out
    // and halves; after the third time-out without an ack-only packet it is given up.
    const { ch, sink, demux } = makeChannel({ peerReceiveWindow: 8, minTimeoutMs: 100, maxTimeoutMs: 400 });
    for (let n = 0; n < 60; n++) ch.send(ipFrame(n), 0);
    assert.equal(sink.takeSent().length, 4);
    deliver(demux, { seq: 1, ack: 2, frame: ipFrame(100) }, 10);
    sink.takeSent();
    sink.takeDelivered();
    let now = 10;
    for (let i = 0; i < SILENT_PEER_TIMEOUTS; i++) {
      assert.equal(ch.sequencer.windowAbandoned, false);
      const at = ch.pollAt();
      assert.ok(at !== undefined && at > now, 'a transmit time-out is due');
      now = at;
      ch.poll(now);
    }
    assert.equal(ch.counters.txAckTimeouts, SILENT_PEER_TIMEOUTS);
    assert.equal(ch.sequencer.windowAbandoned, true);
    assert.equal(ch.counters.txWindowAbandoned, 1);
    // Everything queued has gone out, and nothing is held any more.
    assert.equal(ch.counters.txPackets, 60);
    for (let n = 0; n < 50; n++) assert.equal(ch.send(ipFrame(n), now), 'sent');
  });
  it('a peer that has sent one acknowledgment-only packet keeps its window through any number of time-outs', () => {
    const { ch, sink, demux } = makeChannel({ peerReceiveWindow: 8, minTimeoutMs: 100, maxTimeoutMs: 400 });
    for (let n = 0; n < 200; n++) ch.send(ipFrame(n), 0);
    deliver(demux, { ack: 1 }, 5);
    sink.takeSent();
    let now = 5;
    for (let i = 0; i < 4 * SILENT_PEER_TIMEOUTS; i++) {
      const at = ch.pollAt();
      assert.ok(at !== undefined, 'the window still holds frames back');
      now = at;
      ch.poll(now);
    }
    assert.equal(ch.sequencer.windowAbandoned, false);
    assert.equal(ch.counters.txWindowAbandoned, 0);
    assert.ok(ch.counters.txPackets < 200, `still held back (${ch.counters.txPackets} of 200 sent)`);
  });
  it('ignorePeerWindow never queues', () => {
    const { ch, sink } = makeChannel({ peerReceiveWindow: 1, ignorePeerWindow: true });
    for (let n = 0; n < 50; n++) assert.equal(ch.send(ipFrame(n), 0), 'sent');
    assert.equal(sink.takeSent().length, 50);
    assert.equal(ch.pollAt(), undefined);
  });
});

describe('GRE demux: strict acceptance by (call ID, source address)', () => {
  it('drops and counts everything that is not a live call from its peer', () => {
    const { ch, sink, demux } = makeChannel();
    demux.receive(peerPacket({ seq: 1, frame: ipFrame(1), from: SERVER + 1 }), 0);
    demux.receive(peerPacket({ seq: 1, frame: ipFrame(1), callId: OUR_CALL_ID + 1 }), 0);
    const notGre = peerPacket({ seq: 1, frame: ipFrame(1) });
    notGre[9] = 17;
    notGre[10] = 0;
    notGre[11] = 0;
    const ck = internetChecksum(notGre, 0, 20);
    notGre[10] = ck >>> 8;
    notGre[11] = ck & 0xff;
    demux.receive(notGre, 0);
    const badGre = peerPacket({ seq: 1, frame: ipFrame(1) });
    badGre[21] = 0x80; // version 0
    demux.receive(badGre, 0);
    const badIp = peerPacket({ seq: 1, frame: ipFrame(1) });
    badIp[8] = 1; // TTL changed, checksum not
    demux.receive(badIp, 0);
    demux.receive(new Uint8Array(3), 0);
    expectNothing(sink);
    assert.deepEqual(demux.counters, {
      rxPackets: 6,
      rxBadIpv4: 2,
      rxNotGre: 1,
      rxFragment: 0,
      rxBadGre: 1,
      rxNoCall: 2,
    });
    assert.equal(ch.counters.rxPackets, 0);
    assert.equal(demux.receive(peerPacket({ seq: 1, frame: ipFrame(1) }), 0), ch);
  });
  it('separates calls with the same call ID from different peers; refuses a duplicate registration', () => {
    const demux = new GreDemux();
    const a = new RecordingSink();
    const b = new RecordingSink();
    const mk = (peer: number, sink: RecordingSink) =>
      new GreChannel({ localAddress: CLIENT, peerAddress: peer, callId: 5, peerCallId: 6 }, sink);
    const ca = mk(SERVER, a);
    demux.add(ca);
    demux.add(mk(SERVER + 1, b));
    assert.throws(() => demux.add(mk(SERVER, a)));
    demux.receive(peerPacket({ seq: 1, frame: ipFrame(1), callId: 5, from: SERVER + 1 }), 0);
    assert.equal(a.delivered.length, 0);
    assert.equal(b.delivered.length, 1);
    demux.remove(ca);
    assert.equal(demux.get(5, SERVER), undefined);
    assert.equal(demux.size, 1);
  });
});

describe('GRE channel: accept window and resynchronisation (forged Sequence Numbers)', () => {
  it('one forged packet 2^30 ahead is dropped; the real stream flows on untouched', () => {
    const { ch, sink, demux } = makeChannel();
    for (let s = 1; s <= 3; s++) deliver(demux, { seq: s, frame: ipFrame(s) }, 0);
    deliver(demux, { seq: 3 + 2 ** 30, frame: ipFrame(999) }, 1);
    for (let s = 4; s <= 6; s++) deliver(demux, { seq: s, frame: ipFrame(s) }, 2);
    expectDelivered(sink, [1, 2, 3, 4, 5, 6]);
    assert.equal(ch.counters.rxOutOfWindow, 1);
    assert.equal(ch.counters.rxResyncs, 0);
  });
  it('a forged LCP Echo far behind is not delivered (the stale-echo exception stays inside the window)', () => {
    const { ch, sink, demux } = makeChannel();
    deliver(demux, { seq: 100000, frame: ipFrame(1) }, 0);
    deliver(demux, { seq: 1, frame: LCP_ECHO_REQ }, 0);
    assert.equal(sink.takeDelivered().length, 1);
    assert.equal(ch.counters.rxStaleLcpEchoDelivered, 0);
    assert.equal(ch.counters.rxOutOfWindow, 1);
  });
  it('accepts jumps up to the accept window, not one more', () => {
    const { ch, sink, demux } = makeChannel({ reorderTimeoutMs: 0, acceptWindowPackets: 100 });
    deliver(demux, { seq: 1, frame: ipFrame(1) }, 0);
    deliver(demux, { seq: 102, frame: ipFrame(102) }, 0);
    deliver(demux, { seq: 101, frame: ipFrame(101) }, 0);
    expectDelivered(sink, [1, 101]);
    assert.equal(ch.counters.rxOutOfWindow, 1);
  });
  it('a blind sweep (every Call ID x 2 Sequence Numbers) never disturbs the live call', () => {
    const { ch, sink, demux } = makeChannel();
    let seq = 1000;
    deliver(demux, { seq: seq++, frame: ipFrame(0) }, 0);
    let sent = 1;
    for (let id = 0; id < 65536; id++) {
      for (const forged of [0x12345678, 0x92345678])
        deliver(demux, { seq: forged, callId: id, frame: ipFrame(7) }, 1);
      if (id % 4096 === 0) {
        deliver(demux, { seq: seq++, frame: ipFrame(sent) }, 1);
        sent++;
      }
    }
    const got = sink.takeDelivered().map(frameNumber);
    assert.deepEqual(
      got,
      Array.from({ length: sent }, (_, i) => i),
    );
    assert.equal(ch.counters.rxOutOfWindow, 2);
    assert.equal(ch.counters.rxResyncs, 0);
  });
  it('forged packets interleaved with the real stream never complete a run', () => {
    const { ch, sink, demux } = makeChannel({ resyncPackets: 4 });
    deliver(demux, { seq: 1, frame: ipFrame(1) }, 0);
    for (let i = 0; i < 20; i++) {
      deliver(demux, { seq: 0x40000000 + i, frame: ipFrame(900) }, 1);
      if (i % 3 === 2)
        deliver(demux, { seq: 2 + Math.floor(i / 3), frame: ipFrame(2 + Math.floor(i / 3)) }, 1);
    }
    expectDelivered(sink, [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(ch.counters.rxResyncs, 0);
  });
  it('non-consecutive out-of-window packets never resynchronise', () => {
    const { ch, demux } = makeChannel({ resyncPackets: 3 });
    deliver(demux, { seq: 1, frame: ipFrame(1) }, 0);
    for (let i = 0; i < 50; i++) deliver(demux, { seq: 0x40000000 + i * 10, frame: ipFrame(2) }, 1);
    assert.equal(ch.counters.rxResyncs, 0);
    assert.equal(ch.counters.rxOutOfWindow, 50);
  });
  it('a forged first packet costs the real peer one resynchronisation run, and acknowledgments follow it back', () => {
    const { ch, sink, demux } = makeChannel({ resyncPackets: 4, ackTimeoutMs: 10 });
    deliver(demux, { seq: 0x50000000, frame: ipFrame(900) }, 0);
    sink.takeDelivered();
    for (let s = 1; s <= 6; s++) deliver(demux, { seq: s, frame: ipFrame(s) }, 1);
    expectDelivered(sink, [4, 5, 6]);
    assert.equal(ch.counters.rxResyncs, 1);
    sink.takeSent();
    ch.poll(100);
    const acks = sink.takeSent().map((x) => x.gre.acknowledgmentNumber);
    assert.deepEqual(acks, [6], 'acknowledges the real numbering, not the forged one');
  });
  it('the sink can veto implausible frames: a forged run of garbage never resynchronises', () => {
    const sinkVeto = (frame: { protocol: number }) => frame.protocol === 0x00fd;
    const { ch, sink, demux } = makeChannel({ resyncPackets: 2 });
    sink.plausible = sinkVeto;
    deliver(demux, { seq: 1, frame: ipFrame(1) }, 0);
    for (let i = 0; i < 10; i++) deliver(demux, { seq: 0x40000000 + i, frame: ipFrame(2) }, 1);
    assert.equal(ch.counters.rxResyncs, 0);
    for (let i = 0; i < 2; i++)
      deliver(
        demux,
        { seq: 0x60000000 + i, frame: { protocol: 0x00fd, payload: new Uint8Array([0x90, 0, 1, 2]) } },
        1,
      );
    assert.equal(ch.counters.rxResyncs, 1);
  });
});
