/**
 * A PNS engine and a PAC engine talking to each other in memory: every
 * message goes through encodePptpMessage, is cut into random TCP reads, and
 * comes back through the PptpFramer; timers run on one fake clock. Nothing
 * here is scripted message by message: the two engines must agree.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PptpControlConnection } from '../../src/pptp/control.js';
import { pptpCollisionWinner } from '../../src/pptp/control-start.js';
import type {
  PptpCallParameters,
  PptpCloseReason,
  PptpControlAction,
  PptpControlConfig,
  PptpTimerId,
} from '../../src/pptp/control-types.js';
import { parseIpv4 } from '../../src/wire/bytes.js';
import { encodePptpMessage } from '../../src/wire/pptp/index.js';
import { seededRandom } from './harness.js';

class Side {
  readonly engine: PptpControlConnection;
  readonly timers = new Map<PptpTimerId, number>();
  readonly inbox: (Uint8Array | 'fin')[] = [];
  readonly up = new Map<number, PptpCallParameters>();
  readonly events: PptpControlAction[] = [];
  closed: PptpCloseReason | undefined;
  peer!: Side;
  /** Drop everything this side sends (a peer that vanished without a FIN). */
  blackhole = false;
  sentMessages = 0;

  constructor(
    readonly name: string,
    config: PptpControlConfig,
  ) {
    this.engine = new PptpControlConnection(config);
  }
}

class World {
  now = 0;
  private readonly chunk = seededRandom(99);

  constructor(
    readonly a: Side,
    readonly b: Side,
  ) {
    a.peer = b;
    b.peer = a;
  }

  perform(side: Side, actions: readonly PptpControlAction[]): void {
    for (const act of actions) {
      switch (act.kind) {
        case 'send': {
          assert.ok(!side.closed, `${side.name} sends after close`);
          side.sentMessages++;
          if (side.blackhole) break;
          const bytes = encodePptpMessage(act.message);
          for (let off = 0; off < bytes.length; ) {
            const n = 1 + this.chunk(80);
            side.peer.inbox.push(bytes.subarray(off, off + n));
            off += n;
          }
          break;
        }
        case 'startTimer':
          side.timers.set(act.id, this.now + act.ms);
          break;
        case 'stopTimer':
          assert.ok(side.timers.delete(act.id), `${side.name} stops ${act.id}, which is not running`);
          break;
        case 'close':
          assert.ok(!side.closed, `${side.name} closes twice`);
          side.closed = act.reason;
          if (!side.blackhole) side.peer.inbox.push('fin');
          break;
        case 'callUp':
          side.up.set(act.call.callId, act.call);
          side.events.push(act);
          break;
        case 'callDown':
          side.up.delete(act.callId);
          side.events.push(act);
          break;
        default:
          side.events.push(act);
      }
    }
  }

  /** Delivers queued bytes (and FINs) until both directions are quiet. */
  pump(): void {
    for (let guard = 0; guard < 100_000; guard++) {
      const side = this.a.inbox.length ? this.a : this.b.inbox.length ? this.b : undefined;
      if (!side) return;
      const item = side.inbox.shift()!;
      if (side.closed) continue;
      this.perform(
        side,
        item === 'fin' ? side.engine.transportClosed() : side.engine.receiveData(item, this.now),
      );
    }
    assert.fail('pump did not settle');
  }

  /** Advances the clock, firing timers of both sides in deadline order, pumping after each. */
  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      let next: [Side, PptpTimerId, number] | undefined;
      for (const side of [this.a, this.b]) {
        for (const [id, at] of side.timers)
          if (at <= target && (!next || at < next[2])) next = [side, id, at];
      }
      if (!next) break;
      const [side, id, at] = next;
      this.now = at;
      side.timers.delete(id);
      this.perform(side, side.engine.timeout(id, this.now));
      this.pump();
    }
    this.now = target;
  }

  open(): void {
    this.perform(this.a, this.a.engine.open(this.now));
    this.perform(this.b, this.b.engine.open(this.now));
    this.pump();
  }
}

function pair(pnsExtra: Partial<PptpControlConfig> = {}, pacExtra: Partial<PptpControlConfig> = {}): World {
  const pns = new Side('pns', { role: 'pns', hostName: 'client', randomInt: seededRandom(1), ...pnsExtra });
  const pac = new Side('pac', {
    role: 'pac',
    hostName: 'server',
    randomInt: seededRandom(2),
    packetRecvWindowSize: 128,
    packetProcessingDelay: 5,
    ...pacExtra,
  });
  const w = new World(pns, pac);
  w.open();
  return w;
}

describe('PNS ↔ PAC in memory', () => {
  it('handshake: both established, each knows the other', () => {
    const w = pair();
    assert.equal(w.a.engine.state, 'established');
    assert.equal(w.b.engine.state, 'established');
    assert.equal(w.a.engine.peer?.hostName, 'server');
    assert.equal(w.b.engine.peer?.hostName, 'client');
    assert.equal(w.a.timers.has('handshake') || w.b.timers.has('handshake'), false);
  });

  it('20 outgoing calls: each side sees every call up, with mirrored Call IDs and windows', () => {
    const w = pair();
    const placed: number[] = [];
    for (let i = 0; i < 20; i++) {
      const { callId, actions } = w.a.engine.placeCall();
      placed.push(callId);
      w.perform(w.a, actions);
    }
    w.pump();
    assert.equal(w.a.up.size, 20);
    assert.equal(w.b.up.size, 20);
    for (const id of placed) {
      const mine = w.a.up.get(id)!;
      const theirs = w.b.up.get(mine.peerCallId)!;
      assert.equal(theirs.peerCallId, id);
      assert.equal(mine.peerPacketRecvWindowSize, 128, 'the PAC’s window, from the OCRP');
      assert.equal(mine.peerPacketProcessingDelayMs, 500);
      assert.equal(theirs.peerPacketRecvWindowSize, 64, 'the PNS’s window, from the OCRQ');
      assert.equal(theirs.callSerialNumber, mine.callSerialNumber);
    }
    assert.equal(new Set(placed).size, 20);
    // A third of the calls cleared by the PNS (CCRQ → CDN), a third by the PAC (CDN).
    for (const id of placed.slice(0, 7)) w.perform(w.a, w.a.engine.clearCall(id));
    for (const id of placed.slice(7, 14)) w.perform(w.b, w.b.engine.clearCall(w.a.up.get(id)!.peerCallId));
    w.pump();
    assert.equal(w.a.up.size, 6);
    assert.equal(w.b.up.size, 6);
    assert.equal(w.a.engine.callCount, 6);
    assert.equal(w.b.engine.callCount, 6);
    const downs = w.a.events.filter((e) => e.kind === 'callDown');
    assert.equal(downs.filter((e) => e.kind === 'callDown' && e.reason.kind === 'local-clear').length, 7);
    assert.equal(downs.filter((e) => e.kind === 'callDown' && e.reason.kind === 'peer-disconnect').length, 7);
    // No call timer is left running on either side.
    for (const s of [w.a, w.b])
      assert.deepEqual(
        [...s.timers.keys()].filter((t) => t.startsWith('call-')),
        [],
      );
  });

  it('an incoming call, when the PNS takes them', () => {
    const w = pair({ admitIncomingCall: () => ({ accept: true }) });
    const { callId, actions } = w.b.engine.ringIncomingCall();
    w.perform(w.b, actions);
    w.pump();
    const atPac = w.b.up.get(callId)!;
    const atPns = w.a.up.get(atPac.peerCallId)!;
    assert.equal(atPns.direction, 'incoming');
    assert.equal(atPns.peerCallId, callId);
    assert.equal(atPns.peerPacketRecvWindowSize, 128);
  });

  it('keep-alive over an idle hour: echoes flow, nothing closes', () => {
    const w = pair();
    w.perform(w.a, w.a.engine.placeCall().actions);
    w.pump();
    const sent0 = w.a.sentMessages + w.b.sentMessages;
    w.advance(3_600_000);
    assert.equal(w.a.closed, undefined);
    assert.equal(w.b.closed, undefined);
    const echoes = w.a.sentMessages + w.b.sentMessages - sent0;
    // Each side's echo timer fires every 60 s at most; replies count as traffic for the other.
    assert.ok(echoes >= 60 && echoes <= 240, `${echoes} echo messages in an hour`);
    assert.equal(w.a.up.size, 1);
  });

  it('the PAC vanishes (no FIN, nothing answered): the PNS gives up after 120 s', () => {
    const w = pair();
    w.perform(w.a, w.a.engine.placeCall().actions);
    w.pump();
    w.b.blackhole = true;
    w.advance(119_999);
    assert.equal(w.a.closed, undefined);
    w.advance(1);
    assert.deepEqual(w.a.closed, { kind: 'echo-timeout' });
    assert.equal(w.a.up.size, 0);
    assert.equal(w.a.timers.size, 0);
  });

  it('the PNS stops: Stop exchange, both closed, no timer left anywhere', () => {
    const w = pair();
    for (let i = 0; i < 3; i++) w.perform(w.a, w.a.engine.placeCall().actions);
    w.pump();
    w.perform(w.a, w.a.engine.stop(3));
    w.pump();
    assert.deepEqual(w.a.closed, { kind: 'stopped', by: 'local', reason: 3 });
    assert.deepEqual(w.b.closed, { kind: 'stopped', by: 'peer', reason: 3 });
    for (const s of [w.a, w.b]) {
      assert.equal(s.up.size, 0);
      assert.equal(s.timers.size, 0, `${s.name} timers ${[...s.timers.keys()]}`);
      assert.deepEqual(s.engine.runningTimers(), []);
    }
  });

  it('TCP cut mid-session: both sides end cleanly', () => {
    const w = pair();
    w.perform(w.a, w.a.engine.placeCall().actions);
    w.pump();
    w.perform(w.b, w.b.engine.transportClosed()); // the PAC's socket died
    w.pump();
    assert.deepEqual(w.b.closed, { kind: 'transport-closed' });
    assert.deepEqual(w.a.closed, { kind: 'transport-closed' }, 'the PNS saw the FIN');
    for (const s of [w.a, w.b]) assert.equal(s.timers.size, 0);
  });
});

describe('SCCRQ collision between two engines pairs (RFC 2637 §3.1.3)', () => {
  it('both originate; the higher address wins; one control connection remains', () => {
    const X = parseIpv4('10.0.0.1')!; // the PNS
    const Y = parseIpv4('10.0.0.2')!; // the PAC, which wins
    // Connection A: X → Y.  Connection B: Y → X.
    let aX!: Side; // X's originating engine on A
    let bY!: Side; // Y's originating engine on B
    const check = (self: number, peer: number, own: () => Side) => (): 'none' | 'win' | 'lose' => {
      if (own().engine.state !== 'wait_ctl_reply') return 'none';
      return pptpCollisionWinner(self, peer) === 'local' ? 'win' : 'lose';
    };
    aX = new Side('A@X', { role: 'pns', originator: true, randomInt: seededRandom(5) });
    const aY = new Side('A@Y', {
      role: 'pac',
      originator: false,
      randomInt: seededRandom(6),
      collisionCheck: check(Y, X, () => bY),
    });
    bY = new Side('B@Y', { role: 'pac', originator: true, randomInt: seededRandom(7) });
    const bX = new Side('B@X', {
      role: 'pns',
      originator: false,
      randomInt: seededRandom(8),
      collisionCheck: check(X, Y, () => aX),
    });
    const A = new World(aX, aY);
    const B = new World(bY, bX);
    // Both send their SCCRQ before either arrives.
    A.perform(aX, aX.engine.open(0));
    A.perform(aY, aY.engine.open(0));
    B.perform(bY, bY.engine.open(0));
    B.perform(bX, bX.engine.open(0));
    A.pump(); // Y receives X's SCCRQ on A: Y has its own outstanding on B and wins → silent.
    assert.equal(aY.sentMessages, 0, 'the winner sends nothing on the loser’s connection');
    B.pump(); // X receives Y's SCCRQ on B: X loses → answers it...
    A.perform(aX, aX.engine.abortForCollision()); // ...and closes the connection it opened.
    A.pump();
    B.pump();
    assert.deepEqual(aX.closed, { kind: 'collision' });
    assert.deepEqual(aY.closed, { kind: 'collision' });
    assert.equal(bY.engine.state, 'established');
    assert.equal(bX.engine.state, 'established');
    // The surviving connection works: the PNS (X, here the receiver) places a call.
    B.perform(bX, bX.engine.placeCall().actions);
    B.pump();
    assert.equal(bX.up.size, 1);
    assert.equal(bY.up.size, 1);
  });
});
