/**
 * An independent MPPE implementation written only for the tests, straight
 * from the pseudo-code of RFC 3078 (§3.1, §5–§8) and RFC 3079 (§2–§3):
 * plain, allocation-happy, obviously correct, sharing no code with
 * src/mppe/mppe.ts or src/crypto (its own RC4, node:crypto for SHA-1).
 *
 * Where the RFC leaves a choice open it follows what src/mppe/mppe.ts
 * documents (first coherency count 0, no A on the first stateful packet,
 * 'linux' vs 'rfc3078' meaning of A), so the two can be compared byte for
 * byte. Receive-side loss handling is written differently on purpose: it
 * walks every missed coherency count one by one instead of doing arithmetic.
 */
import { createHash } from 'node:crypto';

export type Bits = 40 | 56 | 128;
export type ResetStyle = 'rfc3078' | 'linux';

/** RC4 as described everywhere: KSA then PRGA. A new object per key. */
class RefRc4 {
  private s: number[] = [];
  private i = 0;
  private j = 0;
  constructor(key: Uint8Array) {
    for (let i = 0; i < 256; i++) this.s.push(i);
    let j = 0;
    for (let i = 0; i < 256; i++) {
      j = (j + this.s[i]! + key[i % key.length]!) % 256;
      [this.s[i], this.s[j]] = [this.s[j]!, this.s[i]!];
    }
  }
  crypt(data: Uint8Array): Uint8Array {
    const out = new Uint8Array(data.length);
    for (let n = 0; n < data.length; n++) {
      this.i = (this.i + 1) % 256;
      this.j = (this.j + this.s[this.i]!) % 256;
      [this.s[this.i], this.s[this.j]] = [this.s[this.j]!, this.s[this.i]!];
      out[n] = data[n]! ^ this.s[(this.s[this.i]! + this.s[this.j]!) % 256]!;
    }
    return out;
  }
}

const keyLength = (bits: Bits) => (bits === 128 ? 16 : 8);

/** RFC 3078 §7.3 GetNewKeyFromSHA. */
function getNewKeyFromSha(startKey: Uint8Array, sessionKey: Uint8Array, n: number): Uint8Array {
  const h = createHash('sha1');
  h.update(startKey.subarray(0, n));
  h.update(new Uint8Array(40)); // SHApad1
  h.update(sessionKey.subarray(0, n));
  h.update(new Uint8Array(40).fill(0xf2)); // SHApad2
  return new Uint8Array(h.digest()).slice(0, n);
}

/** RFC 3078 §7.3: "For 40-bit session keys ... 0xD1, 0x26 and 0x9E ...; for 56-bit keys ... 0xD1." */
function reduce(key: Uint8Array, bits: Bits): Uint8Array {
  const k = key.slice();
  if (bits === 40) k.set([0xd1, 0x26, 0x9e]);
  if (bits === 56) k[0] = 0xd1;
  return k;
}

/** Session key + RC4 of one direction. */
class RefKeys {
  readonly startKey: Uint8Array;
  sessionKey: Uint8Array;
  rc4: RefRc4;
  changes = 0;
  constructor(
    masterKey: Uint8Array,
    readonly bits: Bits,
  ) {
    const n = keyLength(bits);
    this.startKey = masterKey.slice(0, n);
    // RFC 3079 §3.1: GetNewKeyFromSHA(MasterSendKey, MasterSendKey, n, SendSessionKey), then reduce.
    this.sessionKey = reduce(getNewKeyFromSha(this.startKey, this.startKey, n), bits);
    this.rc4 = new RefRc4(this.sessionKey); // RFC 3078 §5
  }
  /** RFC 3078 §7.3, step by step. */
  change(): void {
    const n = keyLength(this.bits);
    const interimKey = getNewKeyFromSha(this.startKey, this.sessionKey, n);
    const rc4 = new RefRc4(interimKey);
    this.sessionKey = reduce(rc4.crypt(interimKey), this.bits);
    this.rc4 = new RefRc4(this.sessionKey);
    this.changes++;
  }
  /** RFC 3078 §8.2: rc4_key(RC4Key, Length_Of_Key, SessionKey). */
  reinit(): void {
    this.rc4 = new RefRc4(this.sessionKey);
  }
}

export class RefSender {
  private keys: RefKeys;
  private count = -1;
  private resetPending = false;
  constructor(
    masterKey: Uint8Array,
    bits: Bits,
    private readonly stateless: boolean,
    private readonly style: ResetStyle = 'linux',
  ) {
    this.keys = new RefKeys(masterKey, bits);
  }
  get keyChanges(): number {
    return this.keys.changes;
  }
  /** CCP Reset-Request from the peer. */
  reset(): void {
    this.resetPending = true;
  }
  /** Returns the Information field of the 0x00FD frame. */
  encrypt(protocol: number, payload: Uint8Array): Uint8Array {
    this.count = (this.count + 1) % 4096;
    let a = false;
    if (this.stateless) {
      this.keys.change();
      a = true;
    } else if (this.count % 256 === 255) {
      this.keys.change();
      a = true;
      this.resetPending = false;
    } else if (this.resetPending) {
      if (this.style === 'linux') this.keys.change();
      else this.keys.reinit();
      a = true;
      this.resetPending = false;
    }
    const plain = new Uint8Array([protocol >> 8, protocol & 0xff, ...payload]);
    const word = (a ? 0x8000 : 0) | 0x1000 | this.count; // A, D, coherency count (RFC 3078 §3.1)
    return new Uint8Array([word >> 8, word & 0xff, ...this.keys.rc4.crypt(plain)]);
  }
}

export type RefResult = { protocol: number; payload: Uint8Array } | 'drop' | 'reset';

export class RefReceiver {
  private keys: RefKeys;
  private last = 4095;
  private discarding = false;
  constructor(
    masterKey: Uint8Array,
    bits: Bits,
    private readonly stateless: boolean,
    private readonly style: ResetStyle = 'linux',
  ) {
    this.keys = new RefKeys(masterKey, bits);
  }
  get keyChanges(): number {
    return this.keys.changes;
  }
  decrypt(info: Uint8Array): RefResult {
    const word = (info[0]! << 8) | info[1]!;
    const a = (word & 0x8000) !== 0;
    const count = word & 0x0fff;
    if ((word & 0x1000) === 0) return 'drop';
    const ahead = (count - this.last + 4096) % 4096;
    const behind = ahead === 0 || ahead >= 4096 - 256;
    if (this.stateless) {
      if (!a || behind) return 'drop';
      // RFC 3078 §8.1: N = C1 - C2 key changes.
      for (let k = 0; k < ahead; k++) this.keys.change();
      this.last = count;
    } else {
      if (behind) return 'drop';
      if (ahead !== 1 || this.discarding) {
        if (!a) {
          const first = !this.discarding;
          this.discarding = true;
          return first ? 'reset' : 'drop';
        }
        // Walk every count we did not see; each flag packet among them was a key change.
        for (let c = (this.last + 1) % 4096; c !== count; c = (c + 1) % 4096) {
          if (c % 256 === 255) this.keys.change();
        }
        this.discarding = false;
      }
      this.last = count;
      if (count % 256 === 255) this.keys.change();
      else if (a) {
        if (this.style === 'linux') this.keys.change();
        else this.keys.reinit();
      }
    }
    const plain = this.keys.rc4.crypt(info.subarray(2));
    if (plain[0]! & 1) return { protocol: plain[0]!, payload: plain.subarray(1) };
    return { protocol: (plain[0]! << 8) | plain[1]!, payload: plain.subarray(2) };
  }
}
