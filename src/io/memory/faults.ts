/**
 * A seeded fault injector for the in-memory links (smoltcp's
 * `FaultInjector`): drop, duplicate, reorder and corrupt packets with given
 * probabilities, reproducibly from a seed. It sits on one direction of a
 * link; the GRE network ({@link MemoryGreNetwork}) applies it to every
 * packet sent that way.
 *
 * Reordering holds a packet back until `1..reorderDistance` later packets
 * have passed (or until the link goes idle and the owner calls `drain()`),
 * so it arrives after packets that were sent after it, as on a real path
 * with several routes.
 */
import { type Random, randomInt, seededRandom } from './random.js';

export interface FaultOptions {
  /** PRNG seed: the same seed and traffic give the same faults. */
  seed: number;
  /** Probability a packet is dropped. */
  drop?: number;
  /** Probability a packet is delivered twice. */
  duplicate?: number;
  /** Probability a packet is held back and delivered late. */
  reorder?: number;
  /** The most later packets a reordered packet lets pass (default 3). */
  reorderDistance?: number;
  /** Probability one random bit of the packet is flipped (outside the protected prefix). */
  corrupt?: number;
}

export interface FaultStats {
  seen: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  corrupted: number;
}

interface Held {
  packet: Uint8Array;
  /** Later packets still to let pass before this one is released. */
  countdown: number;
}

export class FaultInjector {
  readonly stats: FaultStats = { seen: 0, dropped: 0, duplicated: 0, reordered: 0, corrupted: 0 };
  private readonly rnd: Random;
  private readonly opts: Required<FaultOptions>;
  private held: Held[] = [];

  constructor(opts: FaultOptions) {
    this.opts = { drop: 0, duplicate: 0, reorder: 0, reorderDistance: 3, corrupt: 0, ...opts };
    for (const k of ['drop', 'duplicate', 'reorder', 'corrupt'] as const) {
      const p = this.opts[k];
      if (!(p >= 0 && p <= 1)) throw new RangeError(`FaultInjector: ${k} must be a probability, got ${p}`);
    }
    if (!Number.isInteger(this.opts.reorderDistance) || this.opts.reorderDistance < 1) {
      throw new RangeError(`FaultInjector: reorderDistance must be a positive integer`);
    }
    this.rnd = seededRandom(opts.seed);
  }

  /** Packets held back for reordering. */
  get heldCount(): number {
    return this.held.length;
  }

  /**
   * Runs one packet through the faults and returns what the link delivers
   * now, in order (possibly nothing, possibly earlier held packets too).
   * The packet may be modified in place (corruption): pass a private copy.
   * Bytes before `protectBytes` are never corrupted (e.g. the outer IPv4
   * header, which a real kernel would drop on a bad checksum anyway).
   */
  apply(packet: Uint8Array, protectBytes = 0): Uint8Array[] {
    this.stats.seen++;
    const out: Uint8Array[] = [];
    // Held packets count this one as having passed them.
    const release: Uint8Array[] = [];
    this.held = this.held.filter((h) => {
      h.countdown--;
      if (h.countdown > 0) return true;
      release.push(h.packet);
      return false;
    });
    const { drop, duplicate, reorder, corrupt, reorderDistance } = this.opts;
    if (this.rnd() < drop) {
      this.stats.dropped++;
    } else {
      if (this.rnd() < corrupt && packet.length > protectBytes) {
        const i = protectBytes + randomInt(this.rnd, packet.length - protectBytes);
        packet[i]! ^= 1 << randomInt(this.rnd, 8);
        this.stats.corrupted++;
      }
      const copies = this.rnd() < duplicate ? 2 : 1;
      if (copies === 2) this.stats.duplicated++;
      for (let c = 0; c < copies; c++) {
        const p = c === 0 ? packet : packet.slice();
        if (this.rnd() < reorder) {
          this.stats.reordered++;
          this.held.push({ packet: p, countdown: 1 + randomInt(this.rnd, reorderDistance) });
        } else {
          out.push(p);
        }
      }
    }
    out.push(...release);
    return out;
  }

  /** Releases every held packet (the link went idle). */
  drain(): Uint8Array[] {
    const out = this.held.map((h) => h.packet);
    this.held = [];
    return out;
  }
}
