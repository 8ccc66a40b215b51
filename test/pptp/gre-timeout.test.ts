import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AckResult, GreSequencer, WINDOW_CAP } from '../../src/pptp/gre-sequencer.js';
import { AdaptiveTimeout } from '../../src/pptp/gre-timeout.js';

/** RFC 2637 §4.4.1 written out with the fractions, as an independent reference. */
function reference(samples: number[], rtt0: number, min: number, max: number): number[] {
  let rtt = rtt0;
  let dev = 0;
  const out: number[] = [];
  for (const s of samples) {
    const diff = s - rtt;
    dev = dev + (1 / 4) * (Math.abs(diff) - dev);
    rtt = rtt + (1 / 8) * diff;
    out.push(Math.max(min, Math.min(rtt + 4 * dev, max)));
  }
  return out;
}

describe('adaptive time-out (RFC 2637 §4.4)', () => {
  it('follows the §4.4.1 equations sample by sample', () => {
    const samples = [80, 120, 40, 400, 90, 90, 90, 3000, 10, 0];
    const ato = new AdaptiveTimeout({ minTimeoutMs: 50, maxTimeoutMs: 2000, initialRttMs: 500 });
    const ref = reference(samples, 500, 50, 2000);
    samples.forEach((s, i) => {
      ato.sample(s);
      assert.ok(Math.abs(ato.timeoutMs - ref[i]!) < 1e-9, `sample ${i}: ${ato.timeoutMs} vs ${ref[i]}`);
    });
  });
  it('starts from the peer PPD and stays within MinTimeOut..MaxTimeOut', () => {
    assert.equal(
      new AdaptiveTimeout({ minTimeoutMs: 100, maxTimeoutMs: 5000, initialRttMs: 6400 }).timeoutMs,
      5000,
    );
    assert.equal(
      new AdaptiveTimeout({ minTimeoutMs: 100, maxTimeoutMs: 5000, initialRttMs: 0 }).timeoutMs,
      100,
    );
  });
  it('backs off by delta = 2 on a time-out (§4.4.2), bounded by MaxTimeOut', () => {
    const ato = new AdaptiveTimeout({ minTimeoutMs: 100, maxTimeoutMs: 1000, initialRttMs: 300 });
    ato.backOff();
    assert.equal(ato.roundTripMs, 600);
    assert.equal(ato.timeoutMs, 600);
    ato.backOff();
    assert.equal(ato.timeoutMs, 1000);
    for (let i = 0; i < 2000; i++) ato.backOff();
    assert.equal(ato.timeoutMs, 1000);
    assert.ok(Number.isFinite(ato.roundTripMs));
  });
  it('refuses a nonsensical configuration', () => {
    assert.throws(
      () => new AdaptiveTimeout({ minTimeoutMs: 0, maxTimeoutMs: 10, initialRttMs: 0 }),
      RangeError,
    );
    assert.throws(
      () => new AdaptiveTimeout({ minTimeoutMs: 20, maxTimeoutMs: 10, initialRttMs: 0 }),
      RangeError,
    );
  });
});

const base = {
  initialSequenceNumber: 0,
  peerReceiveWindow: 8,
  ignorePeerWindow: false,
  receiveWindow: 64,
  ackTimeoutMs: 100,
  minTimeoutMs: 100,
  maxTimeoutMs: 5000,
  peerPacketProcessingDelay: 0,
};

describe('GreSequencer window arithmetic', () => {
  it('window grows by one per window acknowledged, up to the peer maximum (§4.2.3)', () => {
    const s = new GreSequencer(base);
    assert.equal(s.window, 4);
    const seen: number[] = [];
    for (let i = 0; i < 40; i++) {
      const seq = s.nextSequence(i);
      assert.equal(s.onAck(seq, i), AckResult.New);
      seen.push(s.window);
    }
    assert.equal(Math.max(...seen), 8);
    // 4 acks at window 4, then 5 at window 5, then 6 at window 6...
    assert.deepEqual(seen.slice(0, 15), [4, 4, 4, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 7]);
  });
  it('caps a huge advertised window and treats 0 as no window', () => {
    assert.equal(new GreSequencer({ ...base, peerReceiveWindow: 65535 }).maxWindow, WINDOW_CAP);
    assert.equal(new GreSequencer({ ...base, peerReceiveWindow: 0 }).canSend(), true);
    assert.equal(new GreSequencer({ ...base, peerReceiveWindow: 0 }).window, Number.POSITIVE_INFINITY);
  });
  it('counts outstanding packets across the 2^32 wrap', () => {
    const s = new GreSequencer({ ...base, initialSequenceNumber: 0xfffffffe });
    for (let i = 0; i < 4; i++) s.nextSequence(0);
    assert.equal(s.seqSent, 2);
    assert.equal(s.outstanding, 4);
    assert.equal(s.canSend(), false);
    assert.equal(s.onAck(0xffffffff, 1), AckResult.New);
    assert.equal(s.outstanding, 3);
    assert.equal(s.onAck(0xfffffffe, 1), AckResult.Old);
    assert.equal(s.onAck(3, 1), AckResult.Invalid);
  });
  it('keeps every outstanding send time while its ring grows (RTT sample and time-out from the right packet)', () => {
    // Window 1024: the ring starts at 8 slots and must grow past 512 outstanding packets without
    // losing the oldest one's send time, across the 2^32 wrap.
    const s = new GreSequencer({ ...base, peerReceiveWindow: 1024, initialSequenceNumber: 0xffffff00 });
    for (let i = 0; i < 512; i++) s.nextSequence(1000 + i);
    assert.equal(s.outstanding, 512);
    // The oldest outstanding packet (sent at 1000) decides the deadline: 1000 + the initial ATO (100).
    assert.equal(s.transmitDeadline, 1000 + s.ato.timeoutMs);
    // Acknowledging the 300th packet (sent at 1299) at 1399 samples an RTT of 100: the §4.4.1 update
    // from the initial RTT of 0 moves it to alpha * 100 = 12.5.
    assert.equal(s.onAck((0xffffff00 + 300) >>> 0, 1399), AckResult.New);
    assert.equal(s.ato.roundTripMs, 12.5);
    assert.equal(s.transmitDeadline, 1300 + s.ato.timeoutMs);
  });
});
