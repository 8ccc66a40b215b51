/**
 * One direction's MPPE key state (RFC 3079 §3, RFC 3078 §7): the master
 * key, the current session key, the RC4 cipher keyed with it, and the key
 * changes and re-initialisation the coherency-count rules call for. The
 * encryptor and decryptor (src/mppe/mppe.ts) each hold one; this file
 * knows nothing of headers, coherency counts or verdicts.
 *
 * Secrets: the key state never appears in `toString`, JSON or `inspect`.
 */
import { initialSessionKey, type MppeKeyBits, mppeKeyLength, reduceSessionKey } from '../crypto/mppe-keys.js';
import { Rc4 } from '../crypto/rc4.js';
import { getNewKeyDigest, SHA1_DIGEST_LENGTH } from '../crypto/sha1.js';

/** Node's `util.inspect` hook, answered with a text free of key material. */
export const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * Scratch shared by every key state of the process: key changes and
 * stateless packets run synchronously from start to end, so one digest
 * buffer and one RC4 state serve every session (a server with
 * thousands of idle links must not hold them per link: docs/sessions.md).
 */
const scratch = {
  digest: new Uint8Array(SHA1_DIGEST_LENGTH),
  /** The RC4 state of stateless links: re-keyed from the session key before every packet, so it never carries over. */
  rc4: new Rc4(),
};

/**
 * One direction's keys and RC4 state: the master key ("StartKey"), the
 * current session key and the cipher, plus the key change of RFC 3078 §7.3.
 * Allocation-free after construction (a stateful link allocates its RC4
 * state at its first use).
 *
 * Memory: an idle link holds only the two keys, in one array. A stateless
 * link's RC4 state exists only between a key change and the end of that
 * packet (RFC 3078 §7.1: the key changes before every packet), so it is
 * the process-wide {@link scratch} one; a stateful link's state carries
 * from packet to packet and is its own.
 */
export class MppeKeyState {
  readonly #bits: MppeKeyBits;
  readonly #length: number;
  /** Master key at [0, length), session key at [length, 2 × length). */
  readonly #keys: Uint8Array;
  readonly #stateless: boolean;
  #rc4: Rc4 | undefined;

  constructor(bits: MppeKeyBits, masterKey: Uint8Array, stateless: boolean) {
    this.#bits = bits;
    const n = mppeKeyLength(bits);
    this.#length = n;
    this.#stateless = stateless;
    if (masterKey.length < n) {
      throw new RangeError(`MPPE-${bits} needs a master key of at least ${n} bytes`);
    }
    const keys = new Uint8Array(2 * n);
    keys.set(masterKey.subarray(0, n), 0);
    // RFC 3079 §2–3: the first session key is GetNewKeyFromSHA(master, master) reduced.
    const first = initialSessionKey(keys.subarray(0, n), bits);
    keys.set(first, n);
    first.fill(0);
    this.#keys = keys;
  }

  /**
   * The cipher, keyed with the current session key (RFC 3078 §5) unless a
   * key change or re-initialisation since left it elsewhere. Stateless: the
   * shared state, valid until the end of the current packet.
   */
  get rc4(): Rc4 {
    if (this.#stateless) return scratch.rc4;
    let r = this.#rc4;
    if (r === undefined) {
      r = new Rc4();
      r.setKey(this.#keys, this.#length, this.#length);
      this.#rc4 = r;
    }
    return r;
  }

  /**
   * RFC 3078 §7.3: InterimKey = GetNewKeyFromSHA(StartKey, SessionKey);
   * rc4_key(InterimKey); SessionKey = rc4(InterimKey); reduce to strength;
   * rc4_key(SessionKey).
   */
  changeKey(): void {
    const n = this.#length;
    const keys = this.#keys;
    const digest = scratch.digest;
    // SHA-1(StartKey | SHApad1 | SessionKey | SHApad2)
    getNewKeyDigest(keys, 0, keys, n, n, digest, 0);
    const rc4 = this.rc4;
    rc4.setKey(digest, 0, n);
    for (let i = 0; i < n; i++) keys[n + i] = digest[i]!;
    digest.fill(0);
    rc4.process(keys, n, 2 * n);
    reduceSessionKey(keys, this.#bits, n);
    rc4.setKey(keys, n, n);
  }

  /** RFC 3078 §8.2: rc4_key(RC4Key, Length_Of_Key, SessionKey) with the current session key. */
  reinitialize(): void {
    this.rc4.setKey(this.#keys, this.#length, this.#length);
  }

  /** Makes this state an exact copy of `other` (same strength and mode). Allocation-free once both have their RC4 state. */
  copyFrom(other: MppeKeyState): void {
    this.#keys.set(other.#keys);
    if (!this.#stateless) this.rc4.copyFrom(other.rc4);
  }

  /** Overwrites the key material (call when the link goes down). */
  wipe(): void {
    this.#keys.fill(0);
    // Stateless: the shared state holds nothing of ours past the packet that used it.
    if (this.#rc4) this.#rc4.setKey(this.#keys, 0, this.#length);
  }

  toJSON(): object {
    return { bits: this.#bits };
  }
  toString(): string {
    return `MppeKeyState(${this.#bits}-bit)`;
  }
  [INSPECT](): string {
    return this.toString();
  }
}
