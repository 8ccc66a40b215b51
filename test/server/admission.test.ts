import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryLogger } from '../../src/io/log.js';
import {
  AuthTarpit,
  CallAdmission,
  FailureTable,
  RateLimitedLogger,
  WarnBuckets,
} from '../../src/server/admission.js';
import { validateServerConfig } from '../../src/server/config.js';
import { demoteInfo, LazyLogger, lazyChild } from '../../src/server/lazy-log.js';

describe('CallAdmission', () => {
  it('counts calls and unauthenticated calls per address and server-wide', () => {
    const a = new CallAdmission({ maxCallsPerAddress: 3, maxStarting: 4, maxStartingPerAddress: 2 });
    a.started('A');
    a.started('A');
    assert.equal(a.check('A'), 'max-starting-per-address');
    a.authenticated('A');
    assert.equal(a.check('A'), undefined);
    a.started('A');
    assert.equal(a.check('A'), 'max-calls-per-address');
    a.started('B');
    a.started('B');
    assert.equal(a.starting, 4);
    assert.equal(a.check('C'), 'max-starting');
    a.ended('B', true);
    assert.equal(a.check('C'), undefined);
    a.ended('A', false);
    a.ended('A', true);
    a.ended('A', true);
    a.ended('B', true);
    assert.equal(a.starting, 0);
    assert.equal(a.addresses, 0, 'no entry is kept for an address without calls');
  });
});

describe('FailureTable and AuthTarpit', () => {
  it('doubles from the base delay to the cap; the higher of the address and user counts decides', () => {
    const t = new AuthTarpit({ baseMs: 1000, maxMs: 30_000, forgetMs: 600_000 });
    const delays = Array.from({ length: 7 }, (_, i) => t.failed('A', 'alice', i));
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    // A fresh address guessing alice meets alice's count.
    assert.equal(t.failed('B', 'alice', 10), 30000);
    // A fresh user from address A meets A's count.
    assert.equal(t.failed('A', 'bob', 10), 30000);
    t.succeeded('A', 'alice');
    assert.deepEqual(t.failures('A', 'alice', 10), { address: 0, user: 0 });
    assert.equal(t.failed('C', 'carol', 10), 1000);
  });

  it('forgets counts after forgetMs and evicts the least recently failed beyond maxEntries', () => {
    const f = new FailureTable(3, 1000);
    f.bump('a', 0);
    f.bump('a', 100);
    assert.equal(f.count('a', 500), 2);
    assert.equal(f.count('a', 1100), 0, 'forgotten');
    for (const k of ['w', 'x', 'y', 'z']) f.bump(k, 2000);
    assert.equal(f.size, 3);
    assert.equal(f.count('w', 2000), 0, 'evicted');
    assert.equal(f.count('z', 2000), 1);
  });

  it('base delay 0 turns delays off', () => {
    const t = new AuthTarpit({ baseMs: 0, maxMs: 30_000, forgetMs: 1000 });
    assert.equal(t.failed('A', 'u', 0), 0);
    assert.equal(t.failed('A', 'u', 0), 0);
  });
});

describe('RateLimitedLogger', () => {
  it('lets a burst through, then one per interval, and reports what it held back', () => {
    const mem = createMemoryLogger('debug');
    let now = 0;
    const global = new WarnBuckets(100, 100);
    const log = new RateLimitedLogger(mem, global, () => now);
    for (let i = 0; i < 1000; i++) log.log('warn', 'noise', { i });
    assert.equal(mem.lines.length, 10);
    now += 1000;
    log.log('warn', 'noise', { i: 1000 });
    assert.match(mem.lines[10]!, /suppressed 990 similar messages like=noise/);
    assert.match(mem.lines[11]!, /noise i=1000/);
    for (let i = 0; i < 5; i++) log.child('sub').log('warn', 'noise', { i });
    log.log('info', 'not limited');
    log.flush();
    assert.match(mem.lines.at(-1)!, /suppressed 5 similar messages like=noise/);
    assert.match(mem.lines.at(-2)!, /not limited/);
  });

  it('children are lazy loggers below it: the lines of real children, the same buckets, demotion kept', () => {
    const real = createMemoryLogger('info');
    const mem = createMemoryLogger('info');
    let now = 0;
    const global = new WarnBuckets(100, 100);
    const session = lazyChild(mem, 'session', { peer: '192.0.2.1', callId: 7 });
    const log = new RateLimitedLogger(session, global, () => now);
    const ppp = log.wrap(demoteInfo(lazyChild(session, 'ppp')));
    const lcp = ppp.child('lcp', { unit: 1 }).child('echo');
    // No wrapper per child: one LazyLogger each, hanging below the rate-limited logger.
    assert.ok(lcp instanceof LazyLogger);
    assert.equal(lcp.name, 'session.ppp.lcp.echo');
    lcp.log('info', 'demoted: not written at info');
    lcp.log('warn', 'echo lost', { n: 0 });
    const want = real.child('session', { peer: '192.0.2.1', callId: 7 }).child('ppp.lcp.echo', { unit: 1 });
    want.log('warn', 'echo lost', { n: 0 });
    assert.deepEqual(mem.lines, real.lines);
    // The scope's burst (10, one used above) is shared by the session's own lines and its children's: 16 held back.
    for (let i = 0; i < 5; i++) log.log('warn', 'echo lost', { i });
    for (let i = 0; i < 20; i++) lcp.log('warn', 'echo lost', { i });
    assert.equal(mem.lines.length, 10);
    now += 1000;
    lcp.log('warn', 'echo lost', { i: 99 });
    assert.match(mem.lines[10]!, /session\.ppp\.lcp\.echo.*suppressed 16 similar messages/);
    assert.match(mem.lines[11]!, /session\.ppp\.lcp\.echo.*echo lost.*i=99/);
    for (let i = 0; i < 3; i++) lcp.log('error', 'held', { i });
    for (let i = 0; i < 20; i++) ppp.child('ccp').log('error', 'held');
    log.flush();
    assert.match(mem.lines.at(-1)!, /suppressed 13 similar messages .*like=held/);
  });

  it('the server-wide buckets hold back what many scopes together send', () => {
    const mem = createMemoryLogger('debug');
    const global = new WarnBuckets(20, 100);
    const scopes = Array.from({ length: 10 }, () => new RateLimitedLogger(mem, global, () => 0));
    for (const s of scopes) for (let i = 0; i < 10; i++) s.log('warn', 'noise');
    assert.equal(mem.lines.length, 20);
  });
});

describe('limits config', () => {
  const minimal = { 'local-ip': '10.99.0.1', pool: '10.99.0.10-20', secrets: '/etc/ppp/chap-secrets' };
  it('has the documented defaults', () => {
    const l = validateServerConfig(minimal).limits;
    assert.deepEqual(
      [
        l['max-calls-per-connection'],
        l['max-calls-per-address'],
        l['max-starting'],
        l['max-starting-per-address'],
        l['auth-timeout'],
        l['auth-failure-delay'],
        l['auth-failure-delay-max'],
        l['auth-failure-forget'],
        l['control-write-high-water'],
        l['control-write-limit'],
        l['control-write-stall-timeout'],
        l['shutdown-timeout'],
      ],
      [4, 64, 128, 8, 15, 1, 30, 600, 65536, 262144, 10, 3],
    );
    assert.equal(validateServerConfig(minimal).log['warn-burst'], 10);
  });
  it('refuses contradictions and bad values with the key', () => {
    assert.throws(
      () =>
        validateServerConfig({
          ...minimal,
          limits: { 'control-write-limit': 4096, 'control-write-high-water': 8192 },
        }),
      /control-write-limit must be above/,
    );
    assert.throws(
      () => validateServerConfig({ ...minimal, limits: { 'max-starting': 0 } }),
      /limits\.max-starting: /,
    );
    assert.throws(
      () => validateServerConfig({ ...minimal, limits: { 'auth-failure-delay-max': 0.5 } }),
      /below/,
    );
  });
});
