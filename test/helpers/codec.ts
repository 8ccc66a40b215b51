/**
 * The per-codec fixture suite of docs/style.md §5.1: for every `{name, hex, value}`
 * case it generates
 *  - deconstruct: bytes → value,
 *  - construct: value → the same bytes, written into a buffer pre-filled with
 *    0xa5 so an unwritten field shows up,
 *  - round-trip at offset 10 inside a larger buffer, leaving the bytes around
 *    it untouched,
 *  - overlong: trailing bytes after the declared length are ignored,
 *  - lying length: a length field claiming more than is present → WireError,
 *  - every truncation: each proper prefix fails with WireError (or, for
 *    formats where a prefix may be valid, at least never throws anything else).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHex, toHex } from '../../src/wire/bytes.js';
import { WireError } from '../../src/wire/errors.js';

export interface Codec<T> {
  decode(bytes: Uint8Array): T;
  encode(value: T, out?: Uint8Array, offset?: number): Uint8Array;
  length(value: T): number;
}

export interface CodecCase<T> {
  name: string;
  /** Canonical wire bytes (whitespace allowed). */
  hex: string;
  value: T;
  /** Where the hex came from (also listed in test/vectors/README.md). */
  source?: string;
}

export interface CodecSuiteOptions<T> {
  /** Whether trailing bytes are ignored (default true). */
  overlong?: boolean;
  /** Rewrites valid bytes so a length field claims more than is present. */
  lie?: (bytes: Uint8Array) => Uint8Array;
  /** `strict`: every proper prefix must throw WireError (default). `total`: it may also decode. */
  truncation?: 'strict' | 'total';
  /** Maps a decoded value before comparison (e.g. to drop views that alias input). */
  normalize?: (value: T) => unknown;
}

/** Asserts that `fn` throws a WireError (and nothing else). */
export function assertWireError(fn: () => unknown, message?: string): WireError {
  try {
    fn();
  } catch (e) {
    if (e instanceof WireError) return e;
    throw new assert.AssertionError({
      message: `${message ?? 'expected WireError'}, got ${String(e)}`,
      actual: e,
    });
  }
  assert.fail(message ?? 'expected a WireError, nothing was thrown');
}

export function codecSuite<T>(
  title: string,
  codec: Codec<T>,
  cases: readonly CodecCase<T>[],
  opts: CodecSuiteOptions<T> = {},
): void {
  const norm = opts.normalize ?? ((v: T) => v);
  describe(title, () => {
    for (const c of cases) {
      const bytes = fromHex(c.hex);
      describe(c.name, () => {
        it('deconstruct: bytes → fields', () => {
          assert.deepStrictEqual(norm(codec.decode(bytes)), norm(c.value));
        });
        it('construct: fields → identical bytes (0xa5-filled buffer)', () => {
          assert.equal(codec.length(c.value), bytes.length, 'length()');
          const out = new Uint8Array(bytes.length).fill(0xa5);
          const written = codec.encode(c.value, out, 0);
          assert.equal(written.length, bytes.length);
          assert.equal(toHex(out), toHex(bytes));
          assert.equal(toHex(codec.encode(c.value)), toHex(bytes), 'encode() without a buffer');
        });
        it('round-trip at offset 10 in a larger buffer', () => {
          const out = new Uint8Array(bytes.length + 20).fill(0xa5);
          const written = codec.encode(c.value, out, 10);
          assert.equal(toHex(written), toHex(bytes));
          assert.ok(
            out.subarray(0, 10).every((b) => b === 0xa5),
            'bytes before offset untouched',
          );
          assert.ok(
            out.subarray(10 + bytes.length).every((b) => b === 0xa5),
            'bytes after end untouched',
          );
          assert.deepStrictEqual(norm(codec.decode(out.subarray(10, 10 + bytes.length))), norm(c.value));
        });
        if (opts.overlong !== false) {
          it('overlong: trailing bytes ignored', () => {
            const longer = new Uint8Array(bytes.length + 7).fill(0xee);
            longer.set(bytes);
            assert.deepStrictEqual(norm(codec.decode(longer)), norm(c.value));
          });
        }
        if (opts.lie) {
          const lie = opts.lie;
          it('lying length → WireError', () => {
            assertWireError(() => codec.decode(lie(bytes.slice())));
          });
        }
        it('every truncation fails cleanly', () => {
          for (let n = 0; n < bytes.length; n++) {
            const prefix = bytes.slice(0, n);
            if (opts.truncation === 'total') {
              try {
                codec.decode(prefix);
              } catch (e) {
                if (!(e instanceof WireError)) throw e;
              }
            } else {
              assertWireError(() => codec.decode(prefix), `prefix of ${n}/${bytes.length} bytes`);
            }
          }
        });
      });
    }
  });
}
