/**
 * `npm run bench:sessions` end to end at a small scale (root): a real
 * `pptp-ts serve` in one namespace, the load generator's client engines in
 * another, 40 MS-CHAP-v2 + MPPE-128 sessions up, a ping through five of
 * them, all torn down, and nothing left behind (namespaces, processes).
 * With `--radius`, 20 sessions authenticated by a real FreeRADIUS: the
 * report names the mode and the set-up rate, and FreeRADIUS logged an
 * accepted Access-Request for every session (there is no chap-secrets file).
 * With `--storm --client-addresses 2`, 60 sessions, the server SIGKILLed and
 * restarted, and all 60 redialling at once over two source addresses: every
 * one back up on the new server, the storm figures reported.
 * The 10,000-session figures themselves live in the benchmark, not here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, describe, it } from 'node:test';
import { requireFreeRadius } from '../helpers/freeradius.js';
import { requireRoot } from '../helpers/tools.js';

const root = new URL('../..', import.meta.url).pathname;

function namespaces(): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith('pptpbench-'));
}

describe('bench:sessions (40 sessions)', () => {
  before(() => requireRoot('ip'));
  it('opens, holds, pings through and tears down every session, and leaves nothing behind', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/sessions/run.ts',
        '--sessions',
        '40',
        '--concurrency',
        '10',
        '--settle',
        '1',
        '--rest',
        '2',
        '--ping',
        '5',
        '--no-write',
      ],
      { cwd: root, encoding: 'utf8', timeout: 180_000 },
    );
    assert.equal(r.status, 0, `exit ${r.status ?? r.signal}\n${r.stderr}\n${r.stdout}`);
    const out = r.stdout;
    assert.match(out, /\| sessions up \/ asked \| 40 \/ 40 \|/);
    assert.match(out, /\| ping through the tunnel \| 5 of 5 sessions answered/);
    assert.match(out, /\| lost while idle \| 0 \|/);
    assert.match(out, /\| teardown \| 40 of 40 clean/);
    assert.match(out, /\| left behind \| nothing \|/);
    // The per-session figures are reported (the targets are judged only at 10,000).
    assert.match(out, /\| server RSS per idle session \| -?[\d.]+ KiB \|/);
    assert.match(out, /\| server CPU at rest \| [\d.]+ % of one core \|/);
    assert.deepEqual(
      namespaces().filter((n) => n.startsWith(`pptpbench-${r.pid}-`)),
      [],
      'its namespaces are gone (other runs on the machine may have their own)',
    );
  });

  it('--radius: every session authenticates through FreeRADIUS, and the report says so with the set-up rate', () => {
    requireFreeRadius();
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/sessions/run.ts',
        '--radius',
        '--sessions',
        '20',
        '--concurrency',
        '10',
        '--settle',
        '1',
        '--rest',
        '2',
        '--ping',
        '3',
        '--no-write',
      ],
      { cwd: root, encoding: 'utf8', timeout: 300_000 },
    );
    assert.equal(r.status, 0, `exit ${r.status ?? r.signal}\n${r.stderr}\n${r.stdout}`);
    const out = r.stdout;
    assert.match(out, /^## Sessions: 20 PPTP sessions on one server, users in RADIUS \(FreeRADIUS\)/m);
    assert.match(out, /\| sessions up \/ asked \| 20 \/ 20 \|/);
    const logins =
      /\| authentication \| RADIUS: FreeRADIUS in the server's namespace, (\d+) Access-Accepts \(Login OK\) logged \|/.exec(
        out,
      );
    assert.ok(logins, out);
    assert.ok(Number(logins[1]) >= 20, `FreeRADIUS accepted ${logins[1]} of 20`);
    assert.match(out, /\| set-up rate, overall \| [\d,]+ sessions\/s over [\d.,]+ s \|/);
    assert.match(out, /\| teardown \| 20 of 20 clean/);
    assert.match(out, /\| left behind \| nothing \|/);
    assert.deepEqual(
      namespaces().filter((n) => n.startsWith(`pptpbench-${r.pid}-`)),
      [],
      'its namespaces are gone (other runs on the machine may have their own)',
    );
  });

  it('--storm --client-addresses 2: the server killed and restarted, all 60 redial at once and come back up', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/sessions/run.ts',
        '--storm',
        '--client-addresses',
        '2',
        '--sessions',
        '60',
        '--concurrency',
        '20',
        '--settle',
        '1',
        '--rest',
        '2',
        '--ping',
        '4',
        '--no-write',
      ],
      { cwd: root, encoding: 'utf8', timeout: 240_000 },
    );
    assert.equal(r.status, 0, `exit ${r.status ?? r.signal}\n${r.stderr}\n${r.stdout}`);
    const out = r.stdout;
    assert.match(out, /^## Sessions: 60 PPTP sessions on one server, users in chap-secrets, login storm/m);
    assert.match(
      out,
      /\| phase 1 \(before the restart\) \| 60 of 60 up at [\d,]+ sessions\/s, 20 at once \|/,
    );
    assert.match(out, /\| server killed → generator saw every session down \| [\d.,]+ s, 60 forgotten \|/);
    const pids = /\| server restart → listening \| [\d.,]+ s \(pid (\d+) → (\d+)\) \|/.exec(out);
    assert.ok(pids, out);
    assert.notEqual(pids[1], pids[2], 'a new server process');
    // Every one back up on the new server, none refused or failed.
    assert.match(out, /\| sessions up \/ asked \| 60 \/ 60 \|/);
    assert.match(out, /\| storm failures: refused for a configured limit \/ anything else \| 0 \/ 0 /);
    assert.match(out, /\| set-up rate, overall \| [\d,]+ sessions\/s over [\d.,]+ s \|/);
    assert.match(
      out,
      /\| set-up time p50 \/ p99 \/ max \(TCP connect → IPCP up\) \| [\d,]+ \/ [\d,]+ \/ [\d,]+ ms \|/,
    );
    // Both source addresses carried sessions (30 each: connections alternate).
    assert.match(out, /\| sessions up by client source address \| 198\.18\.0\.2: 30, 198\.18\.0\.3: 30 \|/);
    assert.match(out, /\| ping through the tunnel \| 4 of 4 sessions answered/);
    assert.match(out, /\| teardown \| 60 of 60 clean/);
    assert.match(out, /\| left behind \| nothing \|/);
    assert.match(
      out,
      /\| login storm \(every client redials after a server restart\) \| .* \| 60 of 60 up, [\d,]+ set-ups\/s \| n\/a/,
    );
    assert.deepEqual(
      namespaces().filter((n) => n.startsWith(`pptpbench-${r.pid}-`)),
      [],
      'its namespaces are gone (other runs on the machine may have their own)',
    );
  });

  it('refuses a bad command line with a message and exit 2', () => {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'bench/sessions/run.ts', '--sessions', 'many'],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--sessions: not a whole number ≥ 1: many/);
  });
});
