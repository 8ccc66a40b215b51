/**
 * `npm run bench:startup` end to end at a small scale (root): two timed
 * `--version` runs per variant and one tunnel per variant (compiled and
 * tsx) against a compiled server in network namespaces; the JSON it writes
 * has every figure, and nothing is left behind. The figures themselves are
 * the benchmark's business, not this test's.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { StartupResult } from '../../bench/startup/bench.js';
import { requireRoot } from '../helpers/tools.js';

const root = new URL('../..', import.meta.url).pathname;
const namespaces = () =>
  spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((l) => l.split(' ')[0]!);

describe('bench:startup (small)', () => {
  before(() => requireRoot());
  const out = mkdtempSync(join(tmpdir(), 'pptp-ts-bench-startup-'));
  after(() => rmSync(out, { recursive: true, force: true }));

  it('measures both variants, writes every figure, leaves nothing behind', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/startup/run.ts',
        '--runs',
        '2',
        '--tunnels',
        '1',
        '--allow-busy',
        '--out',
        out,
      ],
      { cwd: root, encoding: 'utf8', timeout: 300_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const json = readdirSync(out).find((f) => /^startup-.*\.json(\.tmp)?$/.test(f));
    assert.ok(json, readdirSync(out).join(', '));
    const res = JSON.parse(readFileSync(join(out, json), 'utf8')) as StartupResult;
    for (const id of ['compiled', 'tsx', 'node'] as const) {
      assert.equal(res.version[id]?.n, 2, id);
      assert.ok(res.version[id]!.min > 0, id);
    }
    for (const id of ['compiled', 'tsx'] as const) {
      const t = res.tunnel[id];
      assert.equal(t.upMs?.n, 1, id);
      // A running Node process is tens of MiB; a figure of a few KiB would be a misread.
      assert.ok(t.clientRssKb!.median > 10 * 1024, `${id} client RSS ${t.clientRssKb?.median} KiB`);
      assert.ok(t.clientHwmKb!.median >= t.clientRssKb!.median, id);
      // Private pages are part of RSS and, for a process that has run JavaScript, some MiB of it.
      const uss = t.clientPrivateKb?.median ?? 0;
      assert.ok(uss > 1024 && uss < t.clientRssKb!.median, `${id} client private ${uss} KiB`);
      assert.ok(t.serverRssKb!.median > 10 * 1024, id);
    }
    assert.equal(res.targets.length, 2);
    assert.match(r.stdout, /\*\*Targets\*\*/);
    // The lab's namespaces carry the bench process's PID.
    assert.deepEqual(
      namespaces().filter((n) => n.startsWith(`pptpbench-${r.pid}-`)),
      [],
    );
  });
});
