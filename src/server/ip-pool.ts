/**
 * The server's address pool: hands out one IPv4 address per session, keeps
 * fixed (per-user) addresses from the secrets file out of general use, and
 * takes addresses back when sessions end.
 *
 * Allocation is O(1) for the common case (no per-user subnet restriction):
 * free addresses sit in a FIFO, so a released address is reused last. That
 * keeps a reconnecting client from colliding with stale state (ARP/conntrack
 * entries, half-open flows) on the old address of someone else.
 */

import { parseIpv4 } from '../wire/bytes.js';
import { type AddressPolicy, inNet } from './chap-secrets.js';

export class PoolSpecError extends Error {
  override readonly name = 'PoolSpecError';
}

/**
 * Parses a pool spec: comma-separated `a.b.c.d-a.b.c.e` ranges, `a.b.c.d-e`
 * (last octet), single addresses, or CIDR `a.b.c.d/n` (network and broadcast
 * addresses excluded for n ≤ 30). Returns the addresses in order.
 */
export function parsePoolSpec(spec: string, maxSize = 1 << 20): number[] {
  const out: number[] = [];
  const push = (a: number, b: number, what: string) => {
    if (b < a) throw new PoolSpecError(`pool range '${what}' ends before it starts`);
    if (out.length + (b - a + 1) > maxSize) throw new PoolSpecError(`pool larger than ${maxSize} addresses`);
    for (let x = a; x <= b; x++) out.push(x >>> 0);
  };
  for (const raw of spec.split(',')) {
    const part = raw.trim();
    if (!part) continue;
    if (part.includes('/')) {
      const [a, l] = part.split('/');
      const base = parseIpv4(a ?? '');
      const len = Number(l);
      if (base === undefined || !/^\d{1,2}$/.test(l ?? '') || len > 32 || len < 8) {
        throw new PoolSpecError(`pool subnet '${part}' is not a.b.c.d/n with 8 ≤ n ≤ 32`);
      }
      const size = 2 ** (32 - len);
      const net = base - (base % size);
      if (len >= 31) push(net, net + size - 1, part);
      else push(net + 1, net + size - 2, part);
      continue;
    }
    const dash = part.indexOf('-');
    if (dash < 0) {
      const a = parseIpv4(part);
      if (a === undefined) throw new PoolSpecError(`pool entry '${part}' is not an IPv4 address`);
      push(a, a, part);
      continue;
    }
    const from = parseIpv4(part.slice(0, dash));
    const toText = part.slice(dash + 1);
    let to = parseIpv4(toText);
    if (to === undefined && from !== undefined && /^\d{1,3}$/.test(toText) && Number(toText) <= 255) {
      to = ((from & 0xffffff00) | Number(toText)) >>> 0;
    }
    if (from === undefined || to === undefined) throw new PoolSpecError(`pool range '${part}' is not a-b`);
    push(from, to, part);
  }
  if (!out.length) throw new PoolSpecError('pool is empty');
  return out;
}

export class IpPool {
  private readonly free: number[] = [];
  private head = 0;
  private readonly inPool = new Set<number>();
  /** Every address of the pool spec, reserved or not. */
  private readonly all: ReadonlySet<number>;
  private readonly used = new Set<number>();
  private usedInPool = 0;

  /**
   * @param addresses pool addresses (from {@link parsePoolSpec})
   * @param reserved addresses never handed out from the pool (the server's own
   *   address, per-user fixed addresses)
   */
  constructor(addresses: readonly number[], reserved: Iterable<number> = []) {
    const skip = new Set(reserved);
    this.all = new Set(addresses);
    for (const a of addresses) {
      if (skip.has(a) || this.inPool.has(a)) continue;
      this.inPool.add(a);
      this.free.push(a);
    }
  }

  /** Addresses available now. */
  get available(): number {
    return this.inPool.size - this.usedInPool;
  }

  /** Addresses in use (pool and fixed). */
  get inUse(): number {
    return this.used.size;
  }

  /**
   * Picks the address for a user with the given policy: the fixed address if
   * the policy names one (fails if it is already in use), else a pool address
   * allowed by the policy. Returns undefined when none can be given.
   */
  allocate(policy?: AddressPolicy): number | undefined {
    if (policy?.none) return undefined;
    if (policy?.fixed.length) {
      for (const a of policy.fixed) {
        if (!this.used.has(a) && !policy.deny.some((n) => inNet(a, n))) {
          this.take(a);
          return a;
        }
      }
      return undefined;
    }
    const ok = (a: number) =>
      (!policy?.allow.length || policy.allow.some((n) => inNet(a, n))) &&
      !policy?.deny.some((n) => inNet(a, n));
    // Fast path: first free address is acceptable.
    while (this.head < this.free.length) {
      const a = this.free[this.head]!;
      if (this.used.has(a)) {
        this.head++; // a stale entry (taken as a fixed address meanwhile)
        continue;
      }
      if (ok(a)) {
        this.head++;
        this.take(a);
        this.compact();
        return a;
      }
      break;
    }
    for (let i = this.head; i < this.free.length; i++) {
      const a = this.free[i]!;
      if (!this.used.has(a) && ok(a)) {
        this.free.splice(i, 1);
        this.take(a);
        return a;
      }
    }
    return undefined;
  }

  /** Returns an address to the pool (no-op for an address not in use). */
  release(address: number): void {
    if (!this.used.delete(address)) return;
    if (this.inPool.has(address)) {
      this.usedInPool--;
      this.free.push(address);
    }
  }

  /**
   * Takes a pool address out of dynamic use (it became someone's fixed
   * address). If a session holds it now, it keeps it; on release it does not
   * come back. False when it is not a pool address or already reserved.
   */
  reserve(address: number): boolean {
    if (!this.inPool.delete(address)) return false;
    if (this.used.has(address)) this.usedInPool--;
    else {
      const i = this.free.indexOf(address, this.head);
      if (i >= 0) this.free.splice(i, 1);
    }
    return true;
  }

  /** Gives a reserved pool address back to dynamic use. False when it is not a reserved pool address. */
  unreserve(address: number): boolean {
    if (!this.all.has(address) || this.inPool.has(address)) return false;
    this.inPool.add(address);
    if (this.used.has(address)) this.usedInPool++;
    else this.free.push(address);
    return true;
  }

  /** True when `address` is currently assigned. */
  isInUse(address: number): boolean {
    return this.used.has(address);
  }

  private take(a: number): void {
    this.used.add(a);
    if (this.inPool.has(a)) this.usedInPool++;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.free.length) {
      this.free.splice(0, this.head);
      this.head = 0;
    }
  }

  toString(): string {
    return `IpPool(${this.available} free, ${this.inUse} in use)`;
  }
}
