/**
 * Call ID allocation (RFC 2637 §3.2.2): random, never a live one, never a
 * recently released one, never 0, and bounded by the call cap.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PptpControlConfig } from '../../src/pptp/control-types.js';
import { type PptpMessage, PptpMessageType as T } from '../../src/wire/pptp/index.js';
import { Script, scriptedRandom, seededRandom, send } from './harness.js';

const SCCRQ: PptpMessage = {
  type: T.StartControlConnectionRequest,
  protocolVersion: 0x0100,
  framingCapabilities: 1,
  bearerCapabilities: 1,
  maximumChannels: 0,
  firmwareRevision: 1,
  hostName: '',
  vendorString: '',
};

function ocrq(callId: number): PptpMessage {
  return {
    type: T.OutgoingCallRequest,
    callId,
    callSerialNumber: callId,
    minimumBps: 300,
    maximumBps: 100_000_000,
    bearerType: 3,
    framingType: 3,
    packetRecvWindowSize: 64,
    packetProcessingDelay: 0,
    phoneNumberLength: 0,
    phoneNumber: '',
    subaddress: '',
  };
}

function pac(config: Partial<PptpControlConfig>): Script {
  const s = new Script({ role: 'pac', ...config }).open().deliver(SCCRQ);
  s.drain();
  return s;
}

/** Delivers an OCRQ and returns the Call ID the PAC gave the call (undefined if refused). */
function call(s: Script, peerCallId: number): number | undefined {
  s.deliver(ocrq(peerCallId));
  for (const a of s.drain()) if (a.kind === 'callUp') return a.call.callId;
  return undefined;
}

describe('Call IDs (RFC 2637 §3.2.2)', () => {
  it('2000 calls come and go: live IDs unique, never 0, never one of the last 64 released', () => {
    const s = pac({ randomInt: seededRandom(2024), limits: { maxCalls: 64 } });
    const rnd = seededRandom(7);
    const live = new Map<number, number>(); // peer Call ID → our Call ID
    const released: number[] = [];
    let nextPeer = 0;
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      if (live.size > 0 && (live.size >= 60 || rnd(2) === 0)) {
        const peers = [...live.keys()];
        const peer = peers[rnd(peers.length)]!;
        s.deliver({ type: T.CallClearRequest, callId: peer });
        released.push(live.get(peer)!);
        live.delete(peer);
        s.drain();
      } else {
        const id = call(s, nextPeer++ & 0xffff);
        assert.ok(id !== undefined, 'call refused');
        assert.ok(id >= 1 && id <= 0xffff, `Call ID ${id} out of 1..65535`);
        assert.ok(![...live.values()].includes(id), `Call ID ${id} is live`);
        assert.ok(!released.slice(-64).includes(id), `Call ID ${id} was released recently`);
        live.set((nextPeer - 1) & 0xffff, id);
        seen.add(id);
      }
      assert.equal(s.engine.callCount, live.size);
    }
    // Random, not sequential: ids are spread over the space.
    const sorted = [...seen].sort((a, b) => a - b);
    assert.ok(sorted[sorted.length - 1]! - sorted[0]! > 50_000, 'spread over the 16-bit space');
  });

  it('a draw that hits a live Call ID is drawn again; when the draws run out, a scan finds one', () => {
    // Draws: echo start, serial start, then always 5 → Call ID 6.
    const s = pac({ randomInt: scriptedRandom([1, 1], () => 5) });
    assert.equal(call(s, 100), 6);
    assert.equal(call(s, 101), 7, 'scan from the random start, skipping the live 6');
    assert.equal(call(s, 102), 8);
  });

  it('a released Call ID is held back for a while', () => {
    const s = pac({ randomInt: scriptedRandom([1, 1, 5, 5, 9]) });
    assert.equal(call(s, 100), 6);
    s.deliver({ type: T.CallClearRequest, callId: 100 });
    s.drain();
    assert.equal(call(s, 101), 10, '6 is quarantined although the draw gave it');
  });

  it('the isCallIdAvailable hook is obeyed (e.g. server-wide uniqueness)', () => {
    const s = pac({ randomInt: seededRandom(3), isCallIdAvailable: (id) => id % 2 === 1 });
    for (let i = 0; i < 40; i++) assert.equal(call(s, i)! % 2, 1);
  });

  it('no Call ID available: the OCRQ is refused with No-Resource', () => {
    const s = pac({ randomInt: seededRandom(3), isCallIdAvailable: () => false });
    s.deliver(ocrq(1));
    s.expectActions([send({ type: T.OutgoingCallReply, resultCode: 2, errorCode: 4 })]);
  });

  it('a PNS cannot exceed its own call cap', () => {
    const s = new Script({ role: 'pns', randomInt: seededRandom(1), limits: { maxCalls: 3 } }).open();
    s.deliver({
      type: T.StartControlConnectionReply,
      protocolVersion: 0x0100,
      resultCode: 1,
      errorCode: 0,
      framingCapabilities: 1,
      bearerCapabilities: 1,
      maximumChannels: 0,
      firmwareRevision: 1,
      hostName: '',
      vendorString: '',
    });
    const ids = [0, 1, 2].map(() => s.engine.placeCall().callId);
    assert.equal(new Set(ids).size, 3);
    assert.throws(() => s.engine.placeCall(), /call limit 3/);
  });
});
