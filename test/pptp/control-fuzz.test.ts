/**
 * Hostile peers: the engines take mutated byte streams and random
 * well-formed message sequences without ever throwing, and keep their
 * invariants (the harness asserts them on every action list: no send after
 * close, no second close, no stop of a timer that is not running, every
 * sent message encodes).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PptpControlConfig } from '../../src/pptp/control-types.js';
import { concatBytes, fromHex } from '../../src/wire/bytes.js';
import type { PptpMessage } from '../../src/wire/pptp/index.js';
import { mutate, prng } from '../fuzz/mutate.js';
import { PPTP_CASES, WINDOWS_SCCRQ } from '../wire/pptp/fixtures.js';
import { Script, seededRandom } from './harness.js';

const CASES = [...PPTP_CASES, WINDOWS_SCCRQ];
const BYTES = CASES.map((c) => fromHex(c.hex));
const byType = (t: number) => BYTES[CASES.findIndex((c) => c.value.type === t)]!;

/** Plausible streams: a handshake, a call, and traffic, as each role would receive them. */
const PAC_STREAMS = [
  concatBytes(byType(1), byType(7), byType(15), byType(5), byType(12), byType(3)),
  concatBytes(byType(1), byType(7), byType(7), byType(10), byType(13)),
];
const PNS_STREAMS = [
  concatBytes(byType(2), byType(8), byType(14), byType(13), byType(6), byType(4)),
  concatBytes(byType(2), byType(9), byType(11), byType(5), byType(3)),
];

function run(config: PptpControlConfig, corpus: Uint8Array[], seed: number, iterations: number): void {
  const rnd = prng(seed);
  for (let i = 0; i < iterations; i++) {
    const input = mutate(corpus, rnd);
    const s = new Script({ ...config, randomInt: seededRandom(seed + i) }).open();
    try {
      let pos = 0;
      while (pos < input.length) {
        const n = 1 + Math.floor(rnd() * 64);
        s.deliverBytes(input.subarray(pos, pos + n));
        pos += n;
        s.advance(Math.floor(rnd() * 30_000));
      }
      s.take(s.engine.transportClosed());
      assert.equal(s.engine.state, 'closed');
      assert.equal(s.timers.size, 0, 'timers left after close');
    } catch (e) {
      throw new Error(
        `iteration ${i}, input ${Buffer.from(input).toString('hex')}: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }
}

describe('control engines against hostile byte streams', () => {
  it('PAC: 1500 mutated streams', () => run({ role: 'pac' }, PAC_STREAMS, 0xbad1, 1500));
  it('PNS: 1500 mutated streams', () => run({ role: 'pns' }, PNS_STREAMS, 0xbad2, 1500));
});

describe('control engines against random well-formed messages in any order', () => {
  for (const role of ['pac', 'pns'] as const) {
    it(`${role.toUpperCase()}: 300 runs of 40 messages with random Call IDs`, () => {
      const rnd = prng(role === 'pac' ? 11 : 12);
      const ids = [0, 1, 42, 4242, 65535];
      for (let run = 0; run < 300; run++) {
        const s = new Script({
          role,
          randomInt: seededRandom(run),
          admitIncomingCall: () => ({ accept: true }),
        });
        s.open();
        // Start established most of the time, so call handling is reached.
        if (rnd() < 0.8) s.deliver(CASES[role === 'pac' ? 0 : 2]!.value);
        for (let k = 0; k < 40 && !s.closed; k++) {
          const base = CASES[Math.floor(rnd() * CASES.length)]!.value;
          const m = { ...base } as Record<string, unknown>;
          for (const f of ['callId', 'peerCallId']) if (f in m) m[f] = ids[Math.floor(rnd() * ids.length)];
          const known = s.engine.callIds();
          if (known.length && 'peerCallId' in m && rnd() < 0.5) m.peerCallId = known[0];
          s.deliver(m as unknown as PptpMessage);
          if (rnd() < 0.2 && s.engine.state === 'established' && role === 'pns' && s.engine.callCount < 5) {
            s.take(s.engine.placeCall().actions);
          }
          if (rnd() < 0.1 && known.length) s.take(s.engine.clearCall(known[0]!));
          s.advance(Math.floor(rnd() * 40_000));
        }
        s.take(s.engine.stop());
        s.advance(120_000);
        s.take(s.engine.transportClosed());
        assert.equal(s.engine.state, 'closed');
        assert.equal(s.timers.size, 0);
        assert.equal(s.engine.callCount, 0);
      }
    });
  }
});
