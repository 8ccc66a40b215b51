/**
 * Fuzz targets for the PPTP control-connection engine (src/pptp/control.ts)
 * in both roles. Not a decoder: the property is that a hostile byte stream
 * never makes the engine throw, that its actions stay coherent (the test
 * harness's driver asserts no send after close, no second close, no stop of
 * a timer that is not running, every sent message encodes and decodes back),
 * and that its state stays within its caps (calls, timers, framer buffer,
 * Call ID quarantine).
 *
 * The corpus is the engines' own output: a PNS and a PAC engine talk to each
 * other (handshake, calls placed, Set-Link-Info, a call cleared, echo, stop),
 * and each byte the PNS sent is corpus for the PAC and the other way round.
 * Each input is one read of the TCP stream of an established connection
 * (cut in pieces by its own bytes), followed by a jump of the clock so the
 * handshake, echo and call timers fire too. An engine that closed, or that
 * took 300 inputs, is replaced by a fresh one that has done its handshake.
 */
import type { PptpControlConfig } from '../../../src/pptp/control-types.js';
import { PPTP_DEFAULT_LIMITS } from '../../../src/pptp/control-types.js';
import { concatBytes } from '../../../src/wire/bytes.js';
import { encodePptpMessage } from '../../../src/wire/pptp/index.js';
import { Script, seededRandom } from '../../pptp/harness.js';
import type { FuzzTarget } from '../mutate.js';

const PNS_SEED = 1;
const PAC_SEED = 2;
const config = (role: 'pns' | 'pac', seed: number): PptpControlConfig => ({
  role,
  randomInt: seededRandom(seed),
  admitIncomingCall: () => ({ accept: true }),
});

/** What each side sent, message by message, in a conversation between a PNS and a PAC engine. */
function conversation(): { toPac: Uint8Array[]; toPns: Uint8Array[] } {
  const pns = new Script(config('pns', PNS_SEED));
  const pac = new Script(config('pac', PAC_SEED));
  const toPac: Uint8Array[] = [];
  const toPns: Uint8Array[] = [];
  const pump = (): void => {
    for (let moved = true; moved; ) {
      moved = false;
      for (const [from, to, log] of [
        [pns, pac, toPac],
        [pac, pns, toPns],
      ] as const) {
        for (const a of from.drain()) {
          if (a.kind !== 'send' || to.closed) continue;
          const bytes = encodePptpMessage(a.message);
          log.push(bytes);
          to.deliverBytes(bytes);
          moved = true;
        }
      }
    }
  };
  pns.open();
  pac.open();
  pump();
  const a = pns.engine.placeCall();
  pns.take(a.actions);
  pump();
  pns.take(pns.engine.sendSetLinkInfo(a.callId, 0, 0));
  const b = pns.engine.placeCall({ phoneNumber: '5551234', subaddress: 'x' });
  pns.take(b.actions);
  pump();
  pac.take(pac.engine.ringIncomingCall({ dialedNumber: '1', dialingNumber: '2' }).actions);
  pump();
  pns.take(pns.engine.clearCall(b.callId));
  pump();
  pns.advance(61_000);
  pump();
  pac.advance(61_000);
  pump();
  const [pacCall] = pac.engine.callIds();
  if (pacCall !== undefined) pac.take(pac.engine.clearCall(pacCall));
  pump();
  pns.take(pns.engine.stop());
  pump();
  if (toPac.length < 6 || toPns.length < 6) throw new Error('fuzz fixture: the engines did not talk');
  return { toPac, toPns };
}

const { toPac, toPns } = conversation();

interface Internals {
  framer: { buffered: number };
  /** The call table (src/pptp/control-calls.ts) holds the Call ID quarantine. */
  calls: { quarantine: unknown[] };
}

function controlTarget(role: 'pns' | 'pac'): FuzzTarget {
  const own = role === 'pac' ? toPac : toPns;
  let s: Script | undefined;
  let fed = 0;
  const fresh = (): Script => {
    const n = new Script(config(role, role === 'pac' ? PAC_SEED : PNS_SEED)).open();
    // The handshake the corpus continues (SCCRQ to a PAC, SCCRP to a PNS, then the PNS's first call).
    n.deliverBytes(own[0]!);
    if (role === 'pns' && n.engine.state === 'established') n.take(n.engine.placeCall().actions);
    n.drain();
    fed = 0;
    return n;
  };
  return {
    name: `pptp control engine (${role.toUpperCase()}, established, own traffic)`,
    engine: true,
    corpus: [...own.slice(1), concatBytes(...own.slice(1)), concatBytes(...own)],
    decode: (b) => {
      if (!s || s.closed || fed++ >= 300) s = fresh();
      let pos = 0;
      while (pos < b.length && !s.closed) {
        const n = 1 + (b[pos]! % 97);
        s.deliverBytes(b.subarray(pos, pos + n));
        pos += n;
      }
      // 0–63.75 s: the echo, call set-up and stop-reply timers fire now and then.
      if (!s.closed) s.advance(b.length ? b[b.length - 1]! * 250 : 0);
      s.drain();
    },
    check: () => {
      if (!s) return;
      const e = s.engine;
      const i = e as unknown as Internals;
      if (e.callCount > PPTP_DEFAULT_LIMITS.maxCalls) throw new Error(`${e.callCount} calls`);
      if (s.timers.size > 5 + e.callCount)
        throw new Error(`${s.timers.size} timers for ${e.callCount} calls`);
      if (i.framer.buffered > PPTP_DEFAULT_LIMITS.maxMessageLength)
        throw new Error(`framer holds ${i.framer.buffered} bytes`);
      if (i.calls.quarantine.length > PPTP_DEFAULT_LIMITS.callIdQuarantine)
        throw new Error(`quarantine of ${i.calls.quarantine.length} Call IDs`);
    },
  };
}

export const targets: FuzzTarget[] = [controlTarget('pac'), controlTarget('pns')];
