/**
 * The addon's busy-poll (native/pptp_io.cc `setBusyPoll`, src/io/busy-poll.ts)
 * on a real kernel. Our TUN plays the remote host: it writes ICMP echo
 * requests to the namespace's stack, and each echo reply the stack sends
 * back is answered, from inside the callback that delivers it, with the
 * next request. The kernel queues the reply as soon as the request is
 * written, so with the busy-poll on, replies are found by the spin that
 * follows each callback and delivered from it (its counters say so); with
 * it off, each one takes the way through libuv and the counters stay still.
 * No timing is asserted: the spin window (10 ms) is two orders of magnitude
 * longer than the kernel needs for an echo, and only "at least one" is
 * required of it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BUSY_POLL_OFF, busyPollSettings, busyPollStats, setBusyPoll } from '../../src/io/busy-poll.js';
import { addPointToPointAddress, setLinkUp, setMtu } from '../../src/io/ip.js';
import { loadAddon } from '../../src/io/native.js';
import { Tun } from '../../src/io/tun.js';
import { createLab } from '../helpers/netns.js';
import { requireRoot } from '../helpers/tools.js';

const LOCAL = '10.78.0.1';
const PEER = '10.78.0.2';

function checksum(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i + 1 < b.length; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (b.length % 2) s += b[b.length - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

const addr = (a: string) => a.split('.').map(Number);

/** An ICMP echo request PEER -> LOCAL (RFC 792) with sequence number `seq`. */
function echoRequest(seq: number): Uint8Array {
  const p = new Uint8Array(20 + 8 + 16);
  p[0] = 0x45;
  p[2] = p.length >> 8;
  p[3] = p.length & 0xff;
  p[8] = 64;
  p[9] = 1;
  p.set(addr(PEER), 12);
  p.set(addr(LOCAL), 16);
  const c = checksum(p.subarray(0, 20));
  p[10] = c >> 8;
  p[11] = c & 0xff;
  p[20] = 8;
  p[24] = 0x12;
  p[25] = 0x34;
  p[26] = seq >> 8;
  p[27] = seq & 0xff;
  const ic = checksum(p.subarray(20));
  p[22] = ic >> 8;
  p[23] = ic & 0xff;
  return p;
}

/** The sequence number of an echo reply LOCAL -> PEER, else undefined. */
function replySeq(p: Uint8Array): number | undefined {
  if (p.length < 28 || p[9] !== 1 || p[20] !== 0 || p[24] !== 0x12 || p[25] !== 0x34) return undefined;
  return (p[26]! << 8) | p[27]!;
}

/**
 * Sends request 0, answers reply k with request k+1 from inside the
 * callback, until `count` replies came back; resolves with their order.
 * `onReply` may do more in the callback (close the TUN, say).
 */
function pingPong(tun: Tun, count: number, onReply?: (seq: number) => void): Promise<number[]> {
  const got: number[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${count} replies`)), 10_000);
    tun.start({
      onPacket(p) {
        const seq = replySeq(p);
        if (seq === undefined) return;
        got.push(seq);
        onReply?.(seq);
        if (got.length === count || tun.fd < 0) {
          clearTimeout(timer);
          resolve(got);
        } else {
          tun.write(echoRequest(seq + 1));
        }
      },
      onBatchEnd: () => tun.flush(),
      onError: reject,
    });
    tun.write(echoRequest(0));
    tun.flush();
  });
}

describe('busy-poll on a real kernel', () => {
  before(() => requireRoot('ip'));
  after(() => setBusyPoll(BUSY_POLL_OFF));
  const lab = createLab('iobusy');
  let ns = '';

  async function openTun(): Promise<Tun> {
    ns ||= await lab.addNamespace('a');
    const tun = Tun.open({ name: 'bp%d', netns: ns });
    await setMtu(tun.name, 1400, { netns: ns });
    await addPointToPointAddress(tun.name, LOCAL, PEER, { netns: ns });
    await setLinkUp(tun.name, { netns: ns });
    return tun;
  }

  it('the addon refuses settings out of range with a TypeError', () => {
    const { setBusyPoll: raw } = loadAddon();
    for (const [spin, max] of [
      [-1, 0],
      [10_001, 20_000],
      [100, 99],
      [100, 100_001],
      [1.5, 10],
    ]) {
      assert.throws(() => raw(spin!, max!), TypeError, `${spin}/${max}`);
    }
    assert.throws(() => (raw as unknown as (a: string) => void)('100'), TypeError);
  });

  it('off: every reply comes through libuv, the counters do not move', async () => {
    setBusyPoll(BUSY_POLL_OFF);
    const tun = await openTun();
    try {
      const before = busyPollStats();
      assert.deepEqual(await pingPong(tun, 20), [...Array(20).keys()]);
      assert.deepEqual(busyPollStats(), before);
    } finally {
      tun.close();
    }
  });

  it('on: replies that arrive while it spins are delivered from the spin, in order, and counted', async () => {
    setBusyPoll(busyPollSettings(10_000, 50_000));
    const tun = await openTun();
    try {
      const before = busyPollStats();
      assert.deepEqual(await pingPong(tun, 20), [...Array(20).keys()]);
      // The promise resolved from a callback inside the spin; a timer runs once it has ended.
      await new Promise((r) => setTimeout(r, 0));
      const s = busyPollStats();
      assert.ok(s.spins > before.spins, `spins ${before.spins} -> ${s.spins}`);
      assert.ok(s.hits > before.hits, `hits ${before.hits} -> ${s.hits}`);
      assert.ok(s.batches > before.batches, `batches ${before.batches} -> ${s.batches}`);
      assert.ok(s.polls > before.polls);
      assert.ok(s.spinMicros > before.spinMicros);
      // A batch from the spin is one of the TUN's receive batches (the TUN is the only port here).
      assert.ok(s.batches - before.batches <= tun.stats.rxBatches);
      assert.ok(tun.stats.rxPackets >= 20); // the 20 replies, and whatever the stack sends a new link
    } finally {
      tun.close();
      setBusyPoll(BUSY_POLL_OFF);
    }
  });

  it('a TUN closed by its own callback during a spin leaves the spin at once, and the loop goes on', async () => {
    setBusyPoll(busyPollSettings(10_000, 50_000));
    const tun = await openTun();
    try {
      const got = await pingPong(tun, 20, (seq) => {
        if (seq === 3) tun.close();
      });
      assert.deepEqual(got, [0, 1, 2, 3]);
      assert.equal(tun.fd, -1);
      // The loop still runs timers after it.
      await new Promise((r) => setTimeout(r, 10));
    } finally {
      tun.close();
      setBusyPoll(BUSY_POLL_OFF);
    }
  });
});
