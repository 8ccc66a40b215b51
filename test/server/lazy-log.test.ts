/**
 * LazyLogger (src/server/lazy-log.ts): the same lines as real child
 * loggers, names and fields included; no real logger made until a line is
 * written, then one per name for all sessions; info demoted to debug.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryLogger } from '../../src/io/log.js';
import type { LogFields, Logger, LogLevel } from '../../src/log/logger.js';
import { demoteInfo, LazyLogger, lazyChild } from '../../src/server/lazy-log.js';

/** A memory logger that counts the child loggers made from it (at any depth). */
function countingRoot(level: LogLevel = 'debug'): { root: Logger & { lines: string[] }; made: () => number } {
  const base = createMemoryLogger(level);
  let made = 0;
  const wrap = (l: Logger): Logger => ({
    name: l.name,
    enabled: (x) => l.enabled(x),
    log: (x, m, f) => l.log(x, m, f),
    child: (n: string, f?: LogFields) => {
      made++;
      return wrap(l.child(n, f));
    },
  });
  return { root: Object.assign(wrap(base), { lines: base.lines }), made: () => made };
}

describe('LazyLogger', () => {
  it('writes exactly what real child loggers write', () => {
    const real = createMemoryLogger('debug');
    const lazy = createMemoryLogger('debug');
    const a = real
      .child('session', { peer: '192.0.2.1', callId: 7 })
      .child('ppp')
      .child('lcp', { extra: 'x' });
    const b = lazyChild(
      lazyChild(lazyChild(lazy, 'session', { peer: '192.0.2.1', callId: 7 }), 'ppp'),
      'lcp',
      {
        extra: 'x',
      },
    );
    assert.equal(b.name, a.name);
    for (const l of [a, b]) {
      l.log('info', 'up', { mtu: 1400, callId: 8 });
      l.log('warn', 'plain');
    }
    assert.deepEqual(lazy.lines, real.lines);
    assert.match(real.lines[0]!, /session\.ppp\.lcp up peer=192\.0\.2\.1 callId=8 extra=x mtu=1400/);
  });

  it('makes no real logger until a line is written, then one per name, shared', () => {
    const { root, made } = countingRoot('info');
    const sessions = Array.from({ length: 100 }, (_, i) =>
      demoteInfo(lazyChild(lazyChild(root, 'session', { callId: i }), 'ppp')).child('lcp'),
    );
    for (const s of sessions) s.log('info', 'LCP up'); // demoted to debug: below the level
    assert.equal(made(), 0);
    assert.equal(root.lines.length, 0);
    for (const s of sessions) s.log('warn', 'trouble');
    assert.equal(made(), 1, 'one real logger for session.ppp.lcp, shared by all 100');
    assert.equal(root.lines.length, 100);
    assert.match(root.lines[42]!, /warn {2}session\.ppp\.lcp trouble callId=42$/);
  });

  it('demotes info to debug, for enabled() too, and its children inherit it', () => {
    const root = createMemoryLogger('info');
    const d = demoteInfo(root);
    assert.equal(d.enabled('info'), false);
    assert.equal(d.enabled('warn'), true);
    const c = d.child('x');
    assert.ok(c instanceof LazyLogger && c.demotes);
    c.log('info', 'hidden');
    c.log('error', 'shown');
    assert.equal(root.lines.length, 1);
    const dbg = createMemoryLogger('debug');
    demoteInfo(dbg).child('y').log('info', 'now debug');
    assert.match(dbg.lines[0]!, /debug y now debug/);
  });

  it('answers enabled() from the nearest real logger, at any depth, with a demotion anywhere above', () => {
    let asked = 0;
    const real = createMemoryLogger('info');
    const counting: Logger = {
      name: '',
      enabled: (l) => {
        asked++;
        return real.enabled(l);
      },
      log: (l, m, f) => real.log(l, m, f),
      child: (n, f) => real.child(n, f),
    };
    const plain = lazyChild(lazyChild(lazyChild(counting, 'a'), 'b'), 'c');
    assert.equal(plain.enabled('info'), true);
    assert.equal(plain.enabled('debug'), false);
    const demoted = lazyChild(lazyChild(demoteInfo(counting), 'a'), 'b').child('c');
    assert.equal(demoted.enabled('info'), false);
    assert.equal(demoted.enabled('warn'), true);
    assert.equal(asked, 4, 'one question to the real logger per enabled(), not one per lazy level');
  });
});
