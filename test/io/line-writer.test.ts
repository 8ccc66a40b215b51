/**
 * The log line writer (src/io/line-writer.ts): lines logged in one turn of
 * the event loop leave in one write, in order; a full queue is written at
 * once; and what is queued when the process exits is still written.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { createLineWriter } from '../../src/io/line-writer.js';

function sink(): { writes: string[]; write(t: string): void } {
  const writes: string[] = [];
  return { writes, write: (t: string) => void writes.push(t) };
}

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('createLineWriter', () => {
  it('writes the lines of one turn together, in order, at the end of the turn', async () => {
    const s = sink();
    const w = createLineWriter(s);
    w('one');
    w('two');
    w('three');
    assert.deepEqual(s.writes, [], 'nothing written during the turn');
    await turn();
    assert.deepEqual(s.writes, ['one\ntwo\nthree\n']);
    w('four');
    await turn();
    assert.deepEqual(s.writes, ['one\ntwo\nthree\n', 'four\n']);
    await turn();
    assert.equal(s.writes.length, 2, 'no empty write for a turn without lines');
  });

  it('writes at once when the queue reaches its bound, and on flush()', async () => {
    const s = sink();
    const w = createLineWriter(s, { maxBytes: 20 });
    w('0123456789');
    assert.equal(s.writes.length, 0);
    w('abcdefghij');
    assert.deepEqual(s.writes, ['0123456789\nabcdefghij\n'], 'the 22nd character forced the write');
    w('tail');
    w.flush();
    assert.deepEqual(s.writes.at(-1), 'tail\n');
    await turn();
    assert.equal(s.writes.length, 2, 'the scheduled turn finds nothing left');
  });

  it('discard() drops what is queued: the end of the turn writes nothing', async () => {
    const s = sink();
    const w = createLineWriter(s);
    w('for a sink that is gone');
    w.discard();
    await turn();
    assert.deepEqual(s.writes, []);
    w('next');
    await turn();
    assert.deepEqual(s.writes, ['next\n'], 'the writer stays usable');
  });

  it('writes what is queued when the process exits before the turn ends', () => {
    const mod = new URL('../../src/io/line-writer.ts', import.meta.url).pathname;
    const script = `
      import { createLineWriter } from ${JSON.stringify(mod)};
      const w = createLineWriter(process.stderr);
      w('first line');
      w('last words');
      process.exit(3);
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 3, r.stderr);
    assert.equal(r.stderr, 'first line\nlast words\n');
  });
});
