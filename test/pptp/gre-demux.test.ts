/**
 * GreDemux: GRE goes to the call with that Call ID *from that peer*
 * (Linux `lookup_chan`), whether the table is a small Map or, past
 * GRE_DEMUX_DENSE_AT calls, an array indexed by Call ID; a second peer's
 * call with the same Call ID is kept apart. Checked against a reference
 * Map keyed by (Call ID, address) under seeded random operations, and by
 * real packets through `receive`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GreChannel } from '../../src/pptp/gre-channel.js';
import { GRE_DEMUX_DENSE_AT, GreDemux } from '../../src/pptp/gre-demux.js';
import { CLIENT, ipFrame, PEER_CALL_ID, peerPacket, RecordingSink, SERVER } from './gre-helpers.js';
import { seededRandom } from './harness.js';

const PEERS = [SERVER, SERVER + 1, 0xc6120002, 0x0a000001];

function channel(callId: number, peerAddress: number): { ch: GreChannel; sink: RecordingSink } {
  const sink = new RecordingSink();
  const ch = new GreChannel({ localAddress: CLIENT, peerAddress, callId, peerCallId: PEER_CALL_ID }, sink);
  return { ch, sink };
}

interface Rec {
  readonly ch: GreChannel;
  readonly sink: RecordingSink;
}

describe('GreDemux', () => {
  it('matches a (Call ID, address) map under random add and remove, across the switch to the dense table and back down', () => {
    for (const span of [3, 40, 0x10000]) {
      const random = seededRandom(span + 7);
      const demux = new GreDemux<Rec>((r) => r.ch);
      const ref = new Map<string, Rec>();
      const key = (id: number, a: number): string => `${id}/${a}`;
      let peak = 0;
      // Grow past the dense threshold, then shrink: adds win for the first half.
      for (let step = 0; step < 6000; step++) {
        const id = random(span);
        const a = PEERS[random(PEERS.length)]!;
        const adding = random(100) < (step < 3000 ? 75 : 25);
        const k = key(id, a);
        const have = ref.get(k);
        if (adding) {
          if (have) {
            assert.throws(() => demux.add(channel(id, a).ch), /already registered/);
          } else {
            const r = channel(id, a);
            demux.add(r.ch, r);
            ref.set(k, r);
          }
        } else if (have) {
          assert.equal(demux.remove(have.ch), true, `remove ${k}`);
          assert.equal(demux.remove(have.ch), false, `remove ${k} twice`);
          ref.delete(k);
        } else {
          assert.equal(demux.remove(channel(id, a).ch), false, `remove unregistered ${k}`);
        }
        peak = Math.max(peak, ref.size);
        assert.equal(demux.size, ref.size, `size at step ${step}`);
        for (const p of PEERS) assert.equal(demux.get(id, p), ref.get(key(id, p)), `get ${id} from ${p}`);
      }
      for (const [k, r] of ref) assert.equal(demux.get(r.ch.callId, r.ch.peerAddress), r, `end: ${k}`);
      if (span === 0x10000)
        assert.ok(peak >= GRE_DEMUX_DENSE_AT, `the run reached the dense table (${peak})`);
    }
  });

  it('delivers to the call of that Call ID from that peer, also when two peers use the same Call ID', () => {
    for (const calls of [2, GRE_DEMUX_DENSE_AT + 10]) {
      const demux = new GreDemux<Rec>((r) => r.ch);
      const recs: Rec[] = [];
      // Call IDs 1..calls-1 from SERVER, and Call ID 1 again from a second peer.
      for (let id = 1; id < calls; id++) recs.push(channel(id, SERVER));
      const twin = channel(1, SERVER + 1);
      recs.push(twin);
      for (const r of recs) demux.add(r.ch, r);
      assert.equal(demux.receive(peerPacket({ callId: 1, seq: 1, frame: ipFrame(1) }), 0), recs[0]);
      assert.equal(
        demux.receive(peerPacket({ callId: 1, seq: 1, frame: ipFrame(2), from: SERVER + 1 }), 0),
        twin,
      );
      assert.equal(recs[0]!.sink.takeDelivered().length, 1);
      assert.equal(twin.sink.takeDelivered().length, 1);
      // A Call ID in use, but not from this address: dropped and counted.
      assert.equal(
        demux.receive(peerPacket({ callId: 1, seq: 2, frame: ipFrame(3), from: SERVER + 2 }), 0),
        undefined,
      );
      assert.equal(demux.counters.rxNoCall, 1);
      // The first call with Call ID 1 goes: its twin from the other peer still gets its packets, the first no longer.
      assert.equal(demux.remove(recs[0]!.ch), true);
      assert.equal(
        demux.receive(peerPacket({ callId: 1, seq: 2, frame: ipFrame(4), from: SERVER + 1 }), 0),
        twin,
      );
      assert.equal(demux.receive(peerPacket({ callId: 1, seq: 2, frame: ipFrame(5) }), 0), undefined);
      assert.equal(demux.counters.rxNoCall, 2);
      assert.equal(demux.size, recs.length - 1);
    }
  });
});
