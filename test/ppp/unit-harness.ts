/**
 * Two PPP units back to back, in memory (wireguard-go's `bindtest` idea):
 * each unit's channel is a queue of serialized frames towards the other,
 * optionally through a seeded {@link FaultInjector}; timers run on a
 * virtual clock that jumps to the next deadline whenever the wire is idle.
 */
import { FaultInjector, type FaultOptions } from '../../src/io/memory/faults.js';
import type { CredentialLookup } from '../../src/ppp/auth/index.js';
import { type PppChannel, PppUnit, type PppUnitOptions, type UnitAction } from '../../src/ppp/unit.js';
import type { PppFrame, PppFramingFlags } from '../../src/wire/ppp.js';

export type Side = 'a' | 'b';

/** The server's secrets: alice/secret (and a few more for specific tests). */
export const SECRETS: CredentialLookup = (req) => {
  if (req.peerName === 'alice') return { password: 'secret' };
  if (req.peerName === 'bob') return { password: 'hunter2' };
  return undefined;
};

export interface Delivered {
  protocol: number;
  packet: Uint8Array;
}

export interface WireFrame {
  from: Side;
  protocol: number;
  payload: Uint8Array;
}

/** Serialized frame on the simulated wire: protocol (2 bytes) then the Information field. */
function serialize(protocol: number, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(2 + payload.length);
  b[0] = protocol >>> 8;
  b[1] = protocol & 0xff;
  b.set(payload, 2);
  return b;
}

class QueueChannel implements PppChannel {
  readonly headroom = 8;
  framing: PppFramingFlags = { acfc: false, pfc: false };
  constructor(
    readonly mtu: number,
    private readonly push: (b: Uint8Array) => void,
  ) {}
  send(frame: PppFrame): void {
    this.push(serialize(frame.protocol, frame.payload));
  }
  sendInPlace(buf: Uint8Array, offset: number, length: number, protocol: number): void {
    if (offset < this.headroom) throw new Error('sendInPlace without headroom');
    // Scribble over the headroom, as a real channel writes its headers there.
    buf.fill(0xee, offset - this.headroom, offset);
    this.push(serialize(protocol, buf.subarray(offset, offset + length)));
  }
  setFraming(flags: PppFramingFlags): void {
    this.framing = flags;
  }
}

export interface PairOptions {
  faults?: { ab?: FaultOptions; ba?: FaultOptions };
  mtu?: number;
  /** Loop everything `a` sends back to `a` (a looped-back line); `b` hears nothing. */
  reflect?: boolean;
  /** Sees every frame put on the wire (before faults); return false to swallow it. */
  tap?: (f: WireFrame) => boolean | undefined;
}

/** Two units, `a` (usually the client) and `b` (usually the server). */
export class LinkPair {
  now = 0;
  readonly units: Record<Side, PppUnit>;
  readonly events: Record<Side, UnitAction[]> = { a: [], b: [] };
  readonly delivered: Record<Side, Delivered[]> = { a: [], b: [] };
  readonly wireLog: WireFrame[] = [];
  readonly channels: Record<Side, QueueChannel>;
  readonly faults: Partial<Record<'ab' | 'ba', FaultInjector>> = {};
  private readonly timers: Record<Side, Map<string, number>> = { a: new Map(), b: new Map() };
  /** Frames in flight towards each side. */
  private readonly inFlight: Record<Side, Uint8Array[]> = { a: [], b: [] };
  /** Frames held by the test (see `hold`). */
  private held: { to: Side; bytes: Uint8Array }[] = [];
  private holdIf: ((f: WireFrame) => boolean) | undefined;
  /** Set false to cut the wire (everything sent is lost). */
  connected = true;

  constructor(
    optsA: PppUnitOptions,
    optsB: PppUnitOptions,
    readonly pairOptions: PairOptions = {},
  ) {
    const mtu = pairOptions.mtu ?? 1500;
    if (pairOptions.faults?.ab) this.faults.ab = new FaultInjector(pairOptions.faults.ab);
    if (pairOptions.faults?.ba) this.faults.ba = new FaultInjector(pairOptions.faults.ba);
    this.channels = {
      a: new QueueChannel(mtu, (b) => this.put('a', b)),
      b: new QueueChannel(mtu, (b) => this.put('b', b)),
    };
    const sink = (side: Side) => ({
      deliver: (protocol: number, packet: Uint8Array) => {
        this.delivered[side].push({ protocol, packet: packet.slice() });
      },
    });
    this.units = {
      a: new PppUnit(optsA, this.channels.a, sink('a')),
      b: new PppUnit(optsB, this.channels.b, sink('b')),
    };
  }

  /** Holds frames matching `pred` (instead of delivering them) until {@link release}. */
  hold(pred: (f: WireFrame) => boolean): void {
    this.holdIf = pred;
  }

  release(): void {
    this.holdIf = undefined;
    const h = this.held;
    this.held = [];
    for (const x of h) this.inFlight[x.to].push(x.bytes);
  }

  private put(from: Side, bytes: Uint8Array): void {
    const frame: WireFrame = { from, protocol: (bytes[0]! << 8) | bytes[1]!, payload: bytes.subarray(2) };
    this.wireLog.push(frame);
    if (this.pairOptions.tap?.(frame) === false) return;
    if (!this.connected) return;
    const to: Side = this.pairOptions.reflect ? from : from === 'a' ? 'b' : 'a';
    if (this.holdIf?.(frame)) {
      this.held.push({ to, bytes });
      return;
    }
    const inj = this.faults[from === 'a' ? 'ab' : 'ba'];
    const out = inj ? inj.apply(bytes) : [bytes];
    this.inFlight[to].push(...out);
  }

  /** Runs one unit call and records its actions. */
  act(side: Side, actions: readonly UnitAction[]): void {
    for (const x of actions) {
      if (x.kind === 'startTimer') this.timers[side].set(x.id, this.now + x.ms);
      else if (x.kind === 'stopTimer') this.timers[side].delete(x.id);
      else this.events[side].push(x);
    }
  }

  start(): void {
    this.act('a', this.units.a.start());
    this.act('b', this.units.b.start());
  }

  /** Delivers one frame or fires one timer; false when nothing is left to do. */
  step(): boolean {
    for (const side of ['a', 'b'] as const) {
      const q = this.inFlight[side];
      const bytes = q.shift();
      if (bytes) {
        const frame = { protocol: (bytes[0]! << 8) | bytes[1]!, payload: bytes.slice(2) };
        this.act(side, this.units[side].receive(frame));
        return true;
      }
    }
    // The wire is idle: reordered packets still held by the injectors come out now.
    for (const [dir, inj] of Object.entries(this.faults) as ['ab' | 'ba', FaultInjector][]) {
      const late = inj.drain();
      if (late.length) {
        this.inFlight[dir === 'ab' ? 'b' : 'a'].push(...late);
        return true;
      }
    }
    let next: { side: Side; id: string; at: number } | undefined;
    for (const side of ['a', 'b'] as const) {
      for (const [id, at] of this.timers[side]) if (!next || at < next.at) next = { side, id, at };
    }
    if (!next) return false;
    this.now = Math.max(this.now, next.at);
    this.timers[next.side].delete(next.id);
    this.act(next.side, this.units[next.side].timeout(next.id));
    return true;
  }

  /** Steps until `done()` or the virtual clock passes `maxMs` (or nothing is left). Returns done(). */
  run(done: () => boolean, maxMs = 300_000, maxSteps = 200_000): boolean {
    for (let i = 0; i < maxSteps && !done(); i++) {
      if (this.now > maxMs) break;
      if (!this.step()) break;
    }
    return done();
  }

  /** Delivers everything in flight (and reordered leftovers) without firing timers. */
  settle(maxSteps = 10_000): void {
    for (let i = 0; i < maxSteps; i++) {
      if (!this.inFlight.a.length && !this.inFlight.b.length) {
        let any = false;
        for (const [dir, inj] of Object.entries(this.faults) as ['ab' | 'ba', FaultInjector][]) {
          const late = inj.drain();
          if (late.length) {
            any = true;
            this.inFlight[dir === 'ab' ? 'b' : 'a'].push(...late);
          }
        }
        if (!any) return;
      }
      this.step();
    }
  }

  /** Lets `ms` of virtual time pass: frames, then every timer due in that window, in order. */
  runFor(ms: number): void {
    const until = this.now + ms;
    for (let i = 0; i < 100_000; i++) {
      this.settle();
      let next: { side: Side; id: string; at: number } | undefined;
      for (const side of ['a', 'b'] as const) {
        for (const [id, at] of this.timers[side]) if (!next || at < next.at) next = { side, id, at };
      }
      if (!next || next.at > until) break;
      this.now = Math.max(this.now, next.at);
      this.timers[next.side].delete(next.id);
      this.act(next.side, this.units[next.side].timeout(next.id));
    }
    this.settle();
    this.now = Math.max(this.now, until);
  }

  /** Both sides have IPv4 passing (IPCP up and, with MPPE required, CCP up too). */
  bothPassing(): boolean {
    return this.units.a.npmode(0x21) === 'PASS' && this.units.b.npmode(0x21) === 'PASS';
  }

  /** Both units are Dead. */
  bothDead(): boolean {
    return this.units.a.phase === 'Dead' && this.units.b.phase === 'Dead';
  }

  dead(side: Side): Extract<UnitAction, { kind: 'dead' }> | undefined {
    return this.events[side].find((e): e is Extract<UnitAction, { kind: 'dead' }> => e.kind === 'dead');
  }

  /** Pending timers of a side (for hygiene checks). */
  timersOf(side: Side): string[] {
    return [...this.timers[side].keys()];
  }
}

/** A minimal IPv4/UDP-looking packet of `n` bytes with a recognisable pattern (version nibble 4). */
export function ipv4Packet(n: number, seed: number): Uint8Array {
  const p = new Uint8Array(n);
  p[0] = 0x45;
  p[2] = n >>> 8;
  p[3] = n & 0xff;
  p[9] = 17;
  for (let i = 20; i < n; i++) p[i] = (seed * 31 + i * 7) & 0xff;
  return p;
}

/** A minimal IPv6-looking packet (version nibble 6). */
export function ipv6Packet(n: number, seed: number): Uint8Array {
  const p = new Uint8Array(n);
  p[0] = 0x60;
  for (let i = 40; i < n; i++) p[i] = (seed * 13 + i) & 0xff;
  return p;
}
