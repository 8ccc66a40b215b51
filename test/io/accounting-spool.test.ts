/**
 * The accounting spool: a process writes records and is killed with
 * SIGKILL (no chance to flush or close); what it wrote is all there when
 * the file is opened again, a line cut short by the crash is skipped and
 * counted, and the file is compacted so that it stays proportional to the
 * queue.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AccountingSpool } from '../../src/io/accounting-spool.js';

const dir = mkdtempSync(join(tmpdir(), 'pptp-ts-spool-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const CHILD = fileURLToPath(new URL('./accounting-spool-child.ts', import.meta.url));

function runUntilReady(path: string, n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path, String(n)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the spool writer did not get ready in 30 s'));
    }, 30_000);
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) {
        child.kill('SIGKILL');
      }
    });
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL' && out.includes('ready')) resolve();
      else reject(new Error(`the spool writer exited early (${signal ?? _code})`));
    });
  });
}

describe('accounting spool', () => {
  it('keeps every record written before a SIGKILL; a torn last line is skipped', async () => {
    const path = join(dir, 'killed.spool');
    await runUntilReady(path, 301);
    // What a crash in the middle of an append leaves.
    appendFileSync(path, '{"add":{"id":999,"kind":"stop","sess');
    const { spool, records, corrupt } = AccountingSpool.open(path);
    try {
      assert.equal(corrupt, 1);
      const odd = Array.from({ length: 151 }, (_, i) => 2 * i + 1);
      assert.deepEqual(
        records.map((r) => r.id),
        odd,
      );
      const r = records.find((x) => x.id === 99)!;
      assert.equal(r.kind, 'stop');
      assert.equal(r.sessionId, 'S-99');
      assert.equal(r.createdAt, 1_700_000_000_099);
      assert.deepEqual(
        r.attributes.map((a) => [a.type, [...a.value]]),
        [
          [40, [0, 0, 0, 2]],
          [44, [...new TextEncoder().encode('S-99')]],
          [25, [0, 255, 99]],
        ],
      );
      // Opening rewrote the file with the live records only.
      const lines = readFileSync(path, 'utf8').trim().split('\n');
      assert.equal(lines.length, 151);
    } finally {
      spool.close();
    }
  });

  it('compacts: a long run of adds and removes leaves a file of the live records', () => {
    const path = join(dir, 'churn.spool');
    const { spool } = AccountingSpool.open(path, { compactSlack: 50 });
    try {
      const attrs = [{ type: 44, value: new Uint8Array(40).fill(65) }];
      for (let id = 1; id <= 400; id++) {
        spool.add({ id, kind: 'interim', sessionId: 'x', createdAt: id, attributes: attrs });
        if (id > 3) spool.remove(id - 3);
      }
      assert.equal(spool.size, 3);
      // Without compaction: 400 add lines (~130 octets) and 397 del lines (> 60 kB). With it: at most
      // about 56 dead lines and as many adds since the last rewrite (< 20 kB).
      const size = statSync(path).size;
      assert.ok(size < 20_000, `spool is ${size} octets`);
    } finally {
      spool.close();
    }
    const again = AccountingSpool.open(path);
    again.spool.close();
    assert.deepEqual(
      again.records.map((r) => r.id),
      [398, 399, 400],
    );
  });

  it('refuses records that do not decode (bad hex, attribute type out of range) as corrupt lines', () => {
    const path = join(dir, 'bad.spool');
    appendFileSync(
      path,
      [
        '{"add":{"id":1,"kind":"start","sessionId":"a","createdAt":1,"attributes":[[44,"6"]]}}',
        '{"add":{"id":2,"kind":"start","sessionId":"a","createdAt":1,"attributes":[[300,"61"]]}}',
        '{"add":{"id":3,"kind":"start","sessionId":"a","createdAt":1,"attributes":[[44,"61"]]}}',
        '[1,2]',
        '',
      ].join('\n'),
    );
    const { spool, records, corrupt } = AccountingSpool.open(path);
    spool.close();
    assert.equal(corrupt, 3);
    assert.deepEqual(
      records.map((r) => r.id),
      [3],
    );
  });
});
