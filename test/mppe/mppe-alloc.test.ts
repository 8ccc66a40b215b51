/**
 * "No per-packet allocation on the hot path": checked, not claimed. A child
 * process with a 1 MB young generation and --trace-gc runs 60,000
 * encrypt+decrypt round trips after a warm-up; any per-packet allocation
 * (even one small view) would fill the young generation several times and
 * show up as Scavenge lines (a full GC empties the young generation first).
 * A control loop that allocates one subarray per packet proves the probe
 * sees allocations.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function scavengesDuring(loopBody: string, stateless: boolean): number {
  const script = `
    import { MPPE_HEADROOM, MppeDecryptor, MppeEncryptor } from './src/mppe/mppe.ts';
    const cfg = { bits: 128, stateless: ${stateless}, masterKey: new Uint8Array(16).fill(9) };
    const enc = new MppeEncryptor(cfg);
    const dec = new MppeDecryptor(cfg);
    const buf = new Uint8Array(MPPE_HEADROOM + 64);
    let acc = 0;
    const run = (n) => {
      for (let i = 0; i < n; i++) { ${loopBody} }
    };
    // A long warm-up: on a loaded machine the optimising compiler (a background thread) can
    // finish late, and code not yet optimised may box a number now and then.
    run(100000);
    // Start from an empty young generation: what the warm-up (tsx, the JIT) left there could
    // otherwise tip one scavenge into the measured loop (seen about one run in three).
    globalThis.gc();
    console.log('MARK-START');
    run(60000);
    console.log('MARK-END', acc);
  `;
  const r = spawnSync(
    process.execPath,
    [
      '--max-semi-space-size=1',
      '--trace-gc',
      '--expose-gc',
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      script,
    ],
    { cwd: root, encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout;
  const start = out.indexOf('MARK-START');
  const end = out.indexOf('MARK-END');
  assert.ok(start >= 0 && end > start, out.slice(0, 500));
  return (out.slice(start, end).match(/Scavenge/g) ?? []).length;
}

const ROUND_TRIP = `
  const s = enc.encrypt(0x21, buf, MPPE_HEADROOM, buf.length);
  if (dec.decrypt(buf, s, buf.length) !== 'ok') throw new Error('decrypt failed');
  acc += dec.payloadOffset;
`;

describe('MPPE hot path allocates nothing', () => {
  for (const stateless of [true, false]) {
    it(`${stateless ? 'stateless' : 'stateful'}: 60k encrypt+decrypt round trips, zero scavenges`, () => {
      assert.equal(scavengesDuring(ROUND_TRIP, stateless), 0);
    });
  }
  it('control: one subarray per packet is detected', () => {
    assert.ok(scavengesDuring(`${ROUND_TRIP} acc += buf.subarray(dec.payloadOffset).length;`, false) > 0);
  });
});
