import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AddressPolicy } from '../../src/server/chap-secrets.js';
import { IpPool, PoolSpecError, parsePoolSpec } from '../../src/server/ip-pool.js';
import { parseIpv4 } from '../../src/wire/bytes.js';

const ip = (s: string) => parseIpv4(s)!;
const any: AddressPolicy = { none: false, fixed: [], allow: [], deny: [] };

describe('pool spec', () => {
  it('parses ranges, short ranges, single addresses and CIDR', () => {
    assert.deepEqual(parsePoolSpec('10.0.0.1-10.0.0.3'), [ip('10.0.0.1'), ip('10.0.0.2'), ip('10.0.0.3')]);
    assert.deepEqual(parsePoolSpec('10.0.0.250-251, 10.0.1.7'), [
      ip('10.0.0.250'),
      ip('10.0.0.251'),
      ip('10.0.1.7'),
    ]);
    const cidr = parsePoolSpec('192.168.5.0/29');
    assert.equal(cidr.length, 6, '/29 without network and broadcast');
    assert.equal(cidr[0], ip('192.168.5.1'));
    assert.equal(cidr[5], ip('192.168.5.6'));
    assert.equal(parsePoolSpec('10.0.0.0/16').length, 65534);
  });
  it('rejects nonsense with a message naming the entry', () => {
    assert.throws(() => parsePoolSpec('10.0.0.9-10.0.0.1'), /ends before it starts/);
    assert.throws(
      () => parsePoolSpec('bogus'),
      (e: Error) => e instanceof PoolSpecError && /'bogus'/.test(e.message),
    );
    assert.throws(() => parsePoolSpec('10.0.0.0/40'), PoolSpecError);
    assert.throws(() => parsePoolSpec(''), /empty/);
    assert.throws(() => parsePoolSpec('1.0.0.0/8', 1000), /larger than/);
  });
});

describe('IpPool', () => {
  it('allocates each address once and reuses released ones last', () => {
    const pool = new IpPool(parsePoolSpec('10.0.0.1-10.0.0.3'));
    const a = pool.allocate(any)!;
    const b = pool.allocate(any)!;
    const c = pool.allocate(any)!;
    assert.deepEqual([a, b, c], [ip('10.0.0.1'), ip('10.0.0.2'), ip('10.0.0.3')]);
    assert.equal(pool.allocate(any), undefined, 'exhausted');
    assert.equal(pool.available, 0);
    pool.release(b);
    pool.release(b); // double release is harmless
    assert.equal(pool.available, 1);
    assert.equal(pool.allocate(any), b);
  });
  it('never hands out reserved addresses', () => {
    const pool = new IpPool(parsePoolSpec('10.0.0.1-10.0.0.2'), [ip('10.0.0.1')]);
    assert.equal(pool.allocate(any), ip('10.0.0.2'));
    assert.equal(pool.allocate(any), undefined);
  });
  it('gives a fixed address once, even outside the pool', () => {
    const pool = new IpPool(parsePoolSpec('10.0.0.1-10.0.0.2'));
    const fixed: AddressPolicy = { ...any, fixed: [ip('10.9.9.9')] };
    assert.equal(pool.allocate(fixed), ip('10.9.9.9'));
    assert.equal(pool.allocate(fixed), undefined, 'second session of the same fixed user');
    pool.release(ip('10.9.9.9'));
    assert.equal(pool.allocate(fixed), ip('10.9.9.9'));
    assert.equal(pool.available, 2, 'fixed addresses do not consume the pool');
  });
  it('honours allowed subnets, denials and "-"', () => {
    const pool = new IpPool(parsePoolSpec('10.0.0.1-10.0.0.20'));
    const sub: AddressPolicy = { ...any, allow: [{ address: ip('10.0.0.16'), prefixLength: 30 }] };
    assert.equal(pool.allocate(sub), ip('10.0.0.16'));
    const deny: AddressPolicy = { ...any, deny: [{ address: ip('10.0.0.0'), prefixLength: 29 }] };
    assert.equal(pool.allocate(deny), ip('10.0.0.8'));
    assert.equal(pool.allocate({ ...any, none: true }), undefined);
    assert.equal(pool.allocate(any), ip('10.0.0.1'), 'skipped addresses stay available');
  });
  it('stays consistent over many allocate/release rounds', () => {
    const pool = new IpPool(parsePoolSpec('10.1.0.0/20'));
    const size = pool.available;
    const held = new Set<number>();
    let seed = 7;
    for (let i = 0; i < 20000; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      if (seed % 3 !== 0 || held.size === 0) {
        const a = pool.allocate(any);
        if (a === undefined) {
          assert.equal(held.size, size);
          continue;
        }
        assert.ok(!held.has(a), 'never allocated twice');
        held.add(a);
      } else {
        const a = [...held][seed % held.size]!;
        held.delete(a);
        pool.release(a);
      }
      assert.equal(pool.available, size - held.size);
    }
  });
});
