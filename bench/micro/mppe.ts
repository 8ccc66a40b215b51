/**
 * MPPE benchmarks: MPPE-128 encrypt and decrypt of 1400-byte
 * packets on one core, stateless (a key change per packet) and stateful
 * (RC4 only, a key change every 256 packets). Targets: 1 Gbit/s stateless,
 * 2 Gbit/s stateful.
 *
 * Baselines in the same run, to show where the time goes and to back the
 * choices in docs/crypto.md:
 *  - our RC4 alone over 1400 bytes, and one MPPE key change (SHA-1 + two RC4
 *    key schedules) with our SHA-1 vs `node:crypto`'s createHash;
 *  - OpenSSL's RC4, only when the process runs with the legacy provider
 *    (`NODE_OPTIONS=--openssl-legacy-provider npm run bench -- mppe`): Node 20
 *    refuses RC4 otherwise, so these rows are absent from a plain run.
 */
import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { mppeKeysFromMsChapV2 } from '../../src/crypto/mppe-keys.js';
import { ntPasswordHash } from '../../src/crypto/mschap.js';
import { Rc4 } from '../../src/crypto/rc4.js';
import { Sha1 } from '../../src/crypto/sha1.js';
import {
  MPPE_HEADROOM,
  MppeDecryptor,
  type MppeDirectionConfig,
  MppeEncryptor,
} from '../../src/mppe/mppe.js';
import { type Benchmark, blackhole } from '../harness.js';

const PAYLOAD = 1400;
const PACKET = MPPE_HEADROOM + PAYLOAD;
/** One full coherency-count cycle of pre-encrypted packets for the decrypt benchmarks. */
const CYCLE = 4096;
const gbit = (g: number) => (g * 1e9) / 8 / PAYLOAD;

const KEYS = mppeKeysFromMsChapV2(ntPasswordHash('clientPass'), new Uint8Array(24).fill(0x5a), false);

function payload(): Uint8Array {
  const p = new Uint8Array(PAYLOAD);
  for (let i = 0; i < PAYLOAD; i++) p[i] = (i * 7 + 3) & 0xff;
  p[0] = 0x45;
  return p;
}

function config(stateless: boolean): MppeDirectionConfig {
  return { bits: 128, stateless, masterKey: KEYS.sendKey };
}

function encryptBench(stateless: boolean): Benchmark {
  return {
    name: `mppe: MPPE-128 ${stateless ? 'stateless' : 'stateful'} encrypt (1400 B)`,
    unit: 'pkt',
    bytesPerOp: PAYLOAD,
    targetOpsPerSec: gbit(stateless ? 1 : 2),
    baseline: 'mppe: RC4 keystream alone (1400 B)',
    setup() {
      // Check once: what we encrypt, a fresh decryptor reads back.
      const check = new MppeEncryptor(config(stateless));
      const buf = new Uint8Array(PACKET);
      buf.set(payload(), MPPE_HEADROOM);
      const start = check.encrypt(0x21, buf, MPPE_HEADROOM, PACKET);
      const dec = new MppeDecryptor(config(stateless));
      assert.equal(dec.decrypt(buf, start, PACKET), 'ok');
      assert.deepEqual(buf.subarray(dec.payloadOffset, dec.payloadEnd), payload());

      const enc = new MppeEncryptor(config(stateless));
      const work = new Uint8Array(PACKET);
      work.set(payload(), MPPE_HEADROOM);
      return (n) => {
        let acc = 0;
        for (let i = 0; i < n; i++) acc += enc.encrypt(0x21, work, MPPE_HEADROOM, PACKET) + work[PACKET - 1]!;
        blackhole.value += acc;
      };
    },
  };
}

function decryptBench(stateless: boolean): Benchmark {
  return {
    name: `mppe: MPPE-128 ${stateless ? 'stateless' : 'stateful'} decrypt (1400 B)`,
    unit: 'pkt',
    bytesPerOp: PAYLOAD,
    targetOpsPerSec: gbit(stateless ? 1 : 2),
    baseline: 'mppe: RC4 keystream alone (1400 B)',
    setup() {
      // A whole coherency cycle of genuine packets, then one work slot; each
      // operation copies a packet into the slot (copyWithin: no allocation)
      // and decrypts it there. After a cycle the decryptor starts afresh, so
      // every decryption is a real one (checked below).
      const ring = new Uint8Array((CYCLE + 1) * PACKET);
      const enc = new MppeEncryptor(config(stateless));
      const plain = payload();
      for (let k = 0; k < CYCLE; k++) {
        const off = k * PACKET;
        ring.set(plain, off + MPPE_HEADROOM);
        ring[off + MPPE_HEADROOM + 1] = k & 0xff;
        enc.encrypt(0x21, ring, off + MPPE_HEADROOM, off + PACKET);
      }
      const slot = CYCLE * PACKET;
      let dec = new MppeDecryptor(config(stateless));
      for (let k = 0; k < CYCLE; k++) {
        ring.copyWithin(slot, k * PACKET, (k + 1) * PACKET);
        assert.equal(dec.decrypt(ring, slot, slot + PACKET), 'ok', `packet ${k}`);
        assert.equal(ring[dec.payloadOffset + 1], k & 0xff);
      }
      dec = new MppeDecryptor(config(stateless));
      let k = 0;
      return (n) => {
        let acc = 0;
        for (let i = 0; i < n; i++) {
          ring.copyWithin(slot, k * PACKET, (k + 1) * PACKET);
          acc += dec.decrypt(ring, slot, slot + PACKET) === 'ok' ? dec.payloadEnd : 0;
          if (++k === CYCLE) {
            k = 0;
            dec = new MppeDecryptor(config(stateless));
          }
        }
        if (acc === 0) throw new Error('nothing decrypted');
        blackhole.value += acc;
      };
    },
  };
}

const rc4Alone: Benchmark = {
  name: 'mppe: RC4 keystream alone (1400 B)',
  unit: 'pkt',
  bytesPerOp: PAYLOAD,
  setup() {
    const r = new Rc4(KEYS.sendKey);
    const buf = payload();
    return (n) => {
      for (let i = 0; i < n; i++) r.process(buf, 0, PAYLOAD);
      blackhole.value += buf[7]!;
    };
  },
};

/** RFC 3078 §7.3 with a given SHA-1; returns the new session key's first byte. */
function keyChangeWith(sha: (parts: Uint8Array[], out: Uint8Array) => void): () => number {
  const master = KEYS.sendKey.slice(0, 16);
  const session = master.slice();
  const pad1 = new Uint8Array(40);
  const pad2 = new Uint8Array(40).fill(0xf2);
  const digest = new Uint8Array(20);
  const rc4 = new Rc4();
  return () => {
    sha([master, pad1, session, pad2], digest);
    rc4.setKey(digest, 0, 16);
    for (let i = 0; i < 16; i++) session[i] = digest[i]!;
    rc4.process(session, 0, 16);
    rc4.setKey(session, 0, 16);
    return session[0]!;
  };
}

const ownSha = new Sha1();
const keyChangeOwn: Benchmark = {
  name: 'mppe: key change, own SHA-1',
  unit: 'keys',
  baseline: 'mppe: key change, node:crypto SHA-1',
  setup() {
    const change = keyChangeWith((parts, out) => {
      ownSha.reset();
      for (const p of parts) ownSha.update(p);
      ownSha.digestInto(out, 0);
    });
    return (n) => {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += change();
      blackhole.value += acc;
    };
  },
};

const keyChangeNode: Benchmark = {
  name: 'mppe: key change, node:crypto SHA-1',
  unit: 'keys',
  setup() {
    const change = keyChangeWith((parts, out) => {
      const h = createHash('sha1');
      for (const p of parts) h.update(p);
      out.set(h.digest());
    });
    return (n) => {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += change();
      blackhole.value += acc;
    };
  },
};

/** True when this process may use OpenSSL's RC4 (started with the legacy provider). */
function opensslHasRc4(): boolean {
  try {
    createCipheriv('rc4', new Uint8Array(16), null);
    return true;
  } catch {
    return false;
  }
}

const opensslRc4: Benchmark[] = opensslHasRc4()
  ? [
      {
        name: 'mppe: OpenSSL RC4, one cipher object (1400 B)',
        unit: 'pkt',
        bytesPerOp: PAYLOAD,
        baseline: 'mppe: RC4 keystream alone (1400 B)',
        setup() {
          const c = createCipheriv('rc4', KEYS.sendKey, null);
          const buf = payload();
          return (n) => {
            let acc = 0;
            for (let i = 0; i < n; i++) acc += c.update(buf)[7]!;
            blackhole.value += acc;
          };
        },
      },
      {
        name: 'mppe: OpenSSL RC4, new cipher per packet (1400 B)',
        unit: 'pkt',
        bytesPerOp: PAYLOAD,
        baseline: 'mppe: RC4 keystream alone (1400 B)',
        setup() {
          const buf = payload();
          return (n) => {
            let acc = 0;
            for (let i = 0; i < n; i++) acc += createCipheriv('rc4', KEYS.sendKey, null).update(buf)[7]!;
            blackhole.value += acc;
          };
        },
      },
    ]
  : [];

export const benchmarks: Benchmark[] = [
  encryptBench(true),
  decryptBench(true),
  encryptBench(false),
  decryptBench(false),
  rc4Alone,
  keyChangeOwn,
  keyChangeNode,
  ...opensslRc4,
];
