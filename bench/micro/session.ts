/**
 * The whole in-process data path: one operation is one 1400-byte
 * IPv4 packet handed to session A as its interface read it
 * (`PppSession.sendPacket`: npmode, MPPE, PPP, GRE and IPv4 headers, the
 * sliding window), copied into A's GRE transmit ring, handed to B's
 * endpoint as a view into B's receive ring (demultiplexer, IPv4 and GRE
 * checks, sequencing, PPP, MPPE), and delivered by B to its interface,
 * which copies it into a transmit ring as a TUN write does. Batches of 32
 * each way, as the rings deliver them; B's acknowledgments flow back to A,
 * so A's window is honest.
 *
 * The two sessions are the real ones (src/session/session.ts), brought up
 * by real LCP, MS-CHAP-v2, IPCP and CCP over the same fake link. Only the
 * kernel is missing: the link is two JS rings (a copy in, a view out),
 * which is what the native ports do around the system calls. The lab
 * (bench/lab) measures the same path with the kernel's share included.
 */
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/io/clock.js';
import type { GreSocket, PacketHandlers } from '../../src/io/types.js';
import type { CredentialLookup } from '../../src/ppp/auth/index.js';
import type { PppUnitOptions } from '../../src/ppp/unit.js';
import type { PptpCallParameters } from '../../src/pptp/control-types.js';
import { GreEndpoint } from '../../src/session/gre-endpoint.js';
import { PppSession } from '../../src/session/session.js';
import { parseIpv4 } from '../../src/wire/bytes.js';
import { type Benchmark, blackhole } from '../harness.js';

const PACKET = 1400;
const BATCH = 32;
const SLOT = 2048;
const SLOTS = 256;

/**
 * One direction of the fake link: `send()` copies into a transmit ring
 * (as RingPort.queue does), `deliver()` hands the packets to the receiver
 * as views into a receive ring (as recvmmsg fills it), then ends the batch.
 */
class RingLink implements GreSocket {
  private readonly tx = new Uint8Array(SLOT * SLOTS);
  private readonly txLen = new Int32Array(SLOTS);
  private readonly rx = new Uint8Array(SLOT * SLOTS);
  private count = 0;
  peer: RingLink | undefined;
  private handlers: PacketHandlers | undefined;
  dropped = 0;

  start(handlers: PacketHandlers): void {
    this.handlers = handlers;
  }

  send(packet: Uint8Array): boolean {
    if (this.count === SLOTS || packet.length > SLOT) {
      this.dropped++;
      return false;
    }
    this.tx.set(packet, this.count * SLOT);
    this.txLen[this.count++] = packet.length;
    return true;
  }

  /** Nothing leaves on flush: {@link Wire.run} moves the packets, so delivery never nests. */
  flush(): void {}

  close(): void {}

  /** Moves what was sent to the peer's receive ring and delivers it there; returns how many. */
  transfer(): number {
    const n = this.count;
    if (n === 0) return 0;
    this.count = 0;
    const peer = this.peer!;
    peer.rx.set(this.tx.subarray(0, n * SLOT));
    const h = peer.handlers!;
    for (let i = 0; i < n; i++) h.onPacket(peer.rx.subarray(i * SLOT, i * SLOT + this.txLen[i]!));
    h.onBatchEnd?.();
    return n;
  }
}

/** Both directions; `run()` moves packets until both are quiet. */
class Wire {
  readonly a = new RingLink();
  readonly b = new RingLink();
  constructor() {
    this.a.peer = this.b;
    this.b.peer = this.a;
  }
  run(): void {
    for (let guard = 0; guard < 1000; guard++) {
      if (this.a.transfer() + this.b.transfer() === 0) return;
    }
    throw new Error('the link never went quiet');
  }
}

function call(callId: number, peerCallId: number): PptpCallParameters {
  return {
    callId,
    peerCallId,
    direction: 'outgoing',
    callSerialNumber: 1,
    peerPacketRecvWindowSize: 1024,
    peerPacketProcessingDelay: 0,
    peerPacketProcessingDelayMs: 0,
    packetRecvWindowSize: 1024,
    connectSpeed: 1e8,
    framingType: 3,
  };
}

const SECRETS: CredentialLookup = (r) => (r.peerName === 'bench' ? { password: 'pw' } : undefined);

/** An IPv4/UDP packet from A's address to B's (the checksum does not matter to the tunnel). */
function ipPacket(): Uint8Array {
  const p = new Uint8Array(PACKET);
  p[0] = 0x45;
  p[2] = PACKET >> 8;
  p[3] = PACKET & 0xff;
  p[8] = 64;
  p[9] = 17;
  p.set([10, 1, 0, 2], 12);
  p.set([10, 1, 0, 1], 16);
  for (let i = 20; i < PACKET; i++) p[i] = (i * 7) & 0xff;
  return p;
}

export async function pair(mppe: boolean) {
  const clock = new ManualClock();
  const wire = new Wire();
  const epA = new GreEndpoint(wire.a, clock);
  const epB = new GreEndpoint(wire.b, clock);
  epA.start();
  epB.start();
  const tunTx = new Uint8Array(SLOT * SLOTS);
  let delivered = 0;
  let deliveredBytes = 0;
  let lastDelivered: Uint8Array | undefined;
  const up = { a: false, b: false };
  const mppeOpts: PppUnitOptions = mppe ? {} : { nomppe: true };
  const a = new PppSession({
    call: call(100, 200),
    localAddress: '192.0.2.1',
    peerAddress: '192.0.2.2',
    ppp: { user: 'bench', password: 'pw', ...mppeOpts },
    endpoint: epA,
    clock,
    ports: { deliver: () => {} },
    events: { up: () => (up.a = true) },
  });
  const b = new PppSession({
    call: call(200, 100),
    localAddress: '192.0.2.2',
    peerAddress: '192.0.2.1',
    ppp: {
      lookup: SECRETS,
      localAddress: parseIpv4('10.1.0.1'),
      remoteAddress: parseIpv4('10.1.0.2'),
      ...mppeOpts,
    },
    endpoint: epB,
    clock,
    ports: {
      deliver: (_protocol, packet) => {
        // What a TUN write costs here: one copy into the transmit ring.
        tunTx.set(packet, (delivered & (SLOTS - 1)) * SLOT);
        delivered++;
        deliveredBytes += packet.length;
        lastDelivered = packet;
      },
    },
    events: { up: () => (up.b = true) },
  });
  a.start();
  b.start();
  for (let i = 0; i < 200 && !(up.a && up.b); i++) {
    wire.run();
    await Promise.resolve();
    if (!(up.a && up.b)) clock.advance(10);
  }
  assert.ok(up.a && up.b, 'both sessions came up');
  assert.equal(a.info?.mppe?.tx?.keyBits, mppe ? 128 : undefined);
  const packet = ipPacket();
  let sent = 0;
  const step = (n: number) => {
    for (let k = 0; k < n; k++) {
      a.sendPacket(packet);
      if (++sent % BATCH === 0) wire.run();
    }
    wire.run();
  };
  return {
    a,
    b,
    step,
    packet,
    wire,
    stats: () => ({ delivered, deliveredBytes, last: lastDelivered }),
  };
}

function sessionBench(mppe: boolean): Benchmark {
  return {
    name: `session: TUN packet → GRE → TUN packet, ${mppe ? 'MPPE-128 stateless' : 'MPPE off'} (1400 B)`,
    unit: 'pkt',
    bytesPerOp: PACKET,
    ...(mppe ? { baseline: 'session: TUN packet → GRE → TUN packet, MPPE off (1400 B)' } : {}),
    async setup() {
      const p = await pair(mppe);
      p.step(5000);
      const s = p.stats();
      assert.equal(s.delivered, 5000, 'every packet arrived');
      assert.equal(s.deliveredBytes, 5000 * PACKET);
      assert.deepEqual(s.last, p.packet, 'intact');
      assert.equal(p.a.stats.gre.txDroppedQueueFull, 0);
      assert.equal(p.wire.a.dropped + p.wire.b.dropped, 0);
      assert.ok(p.a.stats.gre.rxAcks > 0, 'acknowledgments flow back');
      return (n) => {
        p.step(n);
        blackhole.value += p.stats().delivered;
      };
    },
  };
}

export const benchmarks: Benchmark[] = [sessionBench(false), sessionBench(true)];
