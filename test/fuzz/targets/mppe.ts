/**
 * The MPPE decryptor sees attacker-controlled bytes on every received 0x00FD
 * frame: it must return a verdict for any input and never throw. One
 * decryptor per mode lives across all iterations, so the mutations also walk
 * it through loss, re-sync and rekey-cap states.
 */
import { MPPE_HEADROOM, MppeDecryptor, MppeEncryptor } from '../../../src/mppe/mppe.js';
import type { FuzzTarget } from '../mutate.js';

const KEY = Uint8Array.from({ length: 16 }, (_, i) => i * 17 + 3);

function target(stateless: boolean, bits: 40 | 128): FuzzTarget {
  const cfg = { bits, stateless, masterKey: KEY };
  const enc = new MppeEncryptor(cfg);
  const corpus: Uint8Array[] = [];
  for (let k = 0; k < 8; k++) {
    const buf = new Uint8Array(MPPE_HEADROOM + 20 + k);
    buf.fill(k, MPPE_HEADROOM);
    corpus.push(buf.subarray(enc.encrypt(0x21, buf, MPPE_HEADROOM, buf.length)));
  }
  // A small rekey cap keeps 10k iterations fast and exercises the cap path often.
  const dec = new MppeDecryptor({ ...cfg, maxRekeysPerPacket: 8 });
  return {
    name: `mppe decrypt (${bits}-bit ${stateless ? 'stateless' : 'stateful'})`,
    decode: (b) => {
      const v = dec.decrypt(b);
      if (v !== 'ok' && v !== 'drop' && v !== 'send-reset-request')
        throw new Error(`bad verdict ${String(v)}`);
      if (v === 'ok' && !(dec.payloadOffset <= dec.payloadEnd && dec.payloadEnd <= b.length)) {
        throw new Error('payload outside the input');
      }
      return v;
    },
    corpus,
  };
}

export const targets: FuzzTarget[] = [target(true, 128), target(false, 128), target(false, 40)];
