/**
 * The line logger (src/io/log.ts): the exact text of a line, the order and
 * quoting of its fields (checked against a plain reference over random
 * fields), JSON lines, and the level threshold shared by a root and its
 * children.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, type LineLoggerOptions, setLogLevel } from '../../src/io/log.js';
import type { LogFields } from '../../src/log/logger.js';
import { prng } from '../fuzz/mutate.js';

/** The text format written the plain way: merge the fields, then write each defined one. */
function reference(
  time: string,
  level: string,
  name: string,
  message: string,
  fields: LogFields,
  extra?: LogFields,
) {
  let line = `${time} ${level.padEnd(5)} ${name} ${message}`;
  for (const [k, v] of Object.entries({ ...fields, ...extra })) {
    if (v === undefined) continue;
    const s = String(v);
    line += ` ${k}=${/^[\w.:/@+-]*$/.test(s) && s.length > 0 ? s : JSON.stringify(s)}`;
  }
  return line;
}

describe('createLogger (text lines)', () => {
  it('writes time, level, dotted name, message and the fields, quoting what needs it', () => {
    const lines: string[] = [];
    const root = createLogger('srv', { now: () => 0, write: (l) => lines.push(l) });
    const call = root.child('call', { id: 5, user: 'a b' });
    call.log('info', 'session up', {
      id: 7,
      ok: true,
      gone: undefined,
      addr: '10.0.0.1',
      q: 'say "hi"',
      empty: '',
    });
    assert.deepEqual(lines, [
      '1970-01-01T00:00:00.000Z info  srv.call session up id=7 user="a b" ok=true addr=10.0.0.1 q="say \\"hi\\"" empty=""',
    ]);
  });

  it('matches the plain reference for random fields, overlapping keys and values', () => {
    const rnd = prng(5424);
    const keys = ['id', 'user', 'peer', 'n', 'ok', 'why', 'x'];
    const values: (string | number | boolean | undefined)[] = [
      0,
      -1,
      1.5,
      1e21,
      Number.NaN,
      true,
      false,
      undefined,
      '',
      'plain',
      'with space',
      'a=b',
      'x/y:z@w+v-u.t',
      'tab\there',
      'ünï',
      '"',
      'line\nbreak',
    ];
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
    const randomFields = (): LogFields => {
      const f: LogFields = {};
      const n = Math.floor(rnd() * 5);
      for (let i = 0; i < n; i++) (f as Record<string, unknown>)[pick(keys)] = pick(values);
      return f;
    };
    for (let k = 0; k < 500; k++) {
      const lines: string[] = [];
      const fields = randomFields();
      const extra = rnd() < 0.2 ? undefined : randomFields();
      const level = pick(['debug', 'info', 'warn', 'error'] as const);
      createLogger('n', { level: 'debug', now: () => 86_400_000, write: (l) => lines.push(l) })
        .child('c', fields)
        .log(level, 'msg', extra);
      assert.equal(
        lines[0],
        reference('1970-01-02T00:00:00.000Z', level, 'n.c', 'msg', fields, extra),
        `case ${k}`,
      );
    }
  });

  it('writes JSON lines with the same fields', () => {
    const lines: string[] = [];
    createLogger('j', { format: 'json', now: () => 0, write: (l) => lines.push(l) })
      .child('k', { a: 1, b: 'x' })
      .log('warn', 'hello', { b: 'y', c: true });
    assert.deepEqual(JSON.parse(lines[0]!), {
      time: '1970-01-01T00:00:00.000Z',
      level: 'warn',
      name: 'j.k',
      message: 'hello',
      a: 1,
      b: 'y',
      c: true,
    });
  });

  it('drops lines below the level, for the root and its children, and follows setLogLevel', () => {
    const lines: string[] = [];
    const opts: LineLoggerOptions = { level: 'warn', now: () => 0, write: (l) => lines.push(l) };
    const root = createLogger('r', opts);
    const child = root.child('c');
    child.log('info', 'quiet');
    assert.equal(child.enabled('info'), false);
    root.log('warn', 'loud');
    setLogLevel(opts, 'debug');
    child.log('debug', 'now heard');
    assert.deepEqual(
      lines.map((l) => l.split(' ').slice(1).join(' ')),
      ['warn  r loud', 'debug r.c now heard'],
    );
  });
});
