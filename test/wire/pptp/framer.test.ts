import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { concatBytes, fromHex, utf8 } from '../../../src/wire/bytes.js';
import { WireError, WireErrorCode } from '../../../src/wire/errors.js';
import {
  PptpFramer,
  PptpFramingError,
  PptpGeneralError,
  type PptpHeader,
  type PptpMessage,
} from '../../../src/wire/pptp/index.js';
import { prng } from '../../fuzz/mutate.js';
import { PPTP_CASES, WINDOWS_SCCRQ } from './fixtures.js';

const CASES = [...PPTP_CASES, WINDOWS_SCCRQ];
const MESSAGES = CASES.map((c) => fromHex(c.hex));
const VALUES = CASES.map((c) => c.value);
const STREAM = concatBytes(...MESSAGES);

function catchFraming(fn: () => unknown): PptpFramingError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PptpFramingError) return e;
    throw e;
  }
  assert.fail('expected a PptpFramingError');
}

describe('PptpFramer (RFC 2637 §1.4 over TCP)', () => {
  it('frames coalesced messages: the whole stream in one read', () => {
    const f = new PptpFramer();
    assert.deepEqual(f.push(STREAM), VALUES);
    assert.equal(f.buffered, 0);
  });

  it('frames 1-byte reads, each message exactly when its last byte arrives', () => {
    const f = new PptpFramer();
    const got: PptpMessage[] = [];
    let ends = 0;
    let next = MESSAGES[0]!.length;
    for (let i = 0; i < STREAM.length; i++) {
      const out = f.push(STREAM.subarray(i, i + 1));
      if (i + 1 === next) {
        assert.equal(out.length, 1, `message ${ends} completes at byte ${i}`);
        ends++;
        next += MESSAGES[ends]?.length ?? 0;
      } else {
        assert.equal(out.length, 0, `nothing before byte ${next - 1} (at ${i})`);
      }
      got.push(...out);
    }
    assert.deepEqual(got, VALUES);
    assert.equal(f.buffered, 0);
  });

  it('frames any split of the stream into reads (200 seeded splits)', () => {
    const rnd = prng(0xf4a3e);
    for (let trial = 0; trial < 200; trial++) {
      const f = new PptpFramer();
      const got: PptpMessage[] = [];
      let pos = 0;
      while (pos < STREAM.length) {
        const n = Math.floor(rnd() * 300);
        got.push(...f.push(STREAM.subarray(pos, pos + n)));
        pos += n;
      }
      assert.deepEqual(got, VALUES, `trial ${trial}`);
    }
  });

  it('keeps a partial message and reports how much it holds', () => {
    const f = new PptpFramer();
    const two = concatBytes(MESSAGES[3]!, MESSAGES[4]!.subarray(0, 5));
    assert.deepEqual(f.push(two), [VALUES[3]]);
    assert.equal(f.buffered, 5);
    assert.deepEqual(f.push(new Uint8Array(0)), []);
    assert.deepEqual(f.push(MESSAGES[4]!.subarray(5)), [VALUES[4]]);
    assert.equal(f.buffered, 0);
  });

  it('does not keep a reference to the caller’s chunk', () => {
    const f = new PptpFramer();
    const chunk = MESSAGES[5]!.slice(0, 9);
    f.push(chunk);
    chunk.fill(0xee);
    assert.deepEqual(f.push(MESSAGES[5]!.subarray(9)), [VALUES[5]]);
  });
});

describe('PptpFramer refuses a stream that is not in sync', () => {
  const echo = MESSAGES[5]!;

  it('a bad Magic Cookie, as soon as its 4 bytes are in', () => {
    const bad = echo.slice();
    bad[4] = 0x2a;
    const f = new PptpFramer();
    for (let i = 0; i < 7; i++) assert.deepEqual(f.push(bad.subarray(i, i + 1)), []);
    const e = catchFraming(() => f.push(bad.subarray(7, 8)));
    assert.equal(e.code, WireErrorCode.BadMagic);
    assert.equal(e.generalError, PptpGeneralError.BadFormat);
    assert.ok(e instanceof WireError);
  });

  it('a Length below the 12-byte header, from the first 2 bytes', () => {
    const f = new PptpFramer();
    assert.deepEqual(f.push(fromHex('00')), []);
    assert.equal(catchFraming(() => f.push(fromHex('0b'))).code, WireErrorCode.LengthTooSmall);
  });

  it('a Length above the cap, from the first 2 bytes (an HTTP request is not PPTP)', () => {
    const e = catchFraming(() => new PptpFramer().push(utf8('GET / HTTP/1.1\r\n\r\n')));
    assert.equal(e.code, WireErrorCode.LengthTooLarge);
    const f = new PptpFramer({ maxMessageLength: 300 });
    assert.equal(catchFraming(() => f.push(fromHex('012d'))).code, WireErrorCode.LengthTooLarge);
  });

  it('a Length that is not the size of its message type, once the type is in', () => {
    const bad = MESSAGES[0]!.slice(); // SCCRQ, 156 bytes
    bad[1] = 160;
    const f = new PptpFramer();
    assert.deepEqual(f.push(bad.subarray(0, 9)), []);
    const e = catchFraming(() => f.push(bad.subarray(9, 10)));
    assert.equal(e.code, WireErrorCode.LengthTooLarge);
    const small = echo.slice();
    small[1] = 12;
    assert.equal(catchFraming(() => new PptpFramer().push(small)).code, WireErrorCode.LengthTooSmall);
  });

  it('hands over the messages completed before the bad bytes, then stays failed', () => {
    const f = new PptpFramer();
    const garbage = fromHex('00 10 00 01 de ad be ef 00 05 00 00 00 00 00 01');
    const e = catchFraming(() => f.push(concatBytes(MESSAGES[3]!, MESSAGES[5]!, garbage)));
    assert.deepEqual(e.messages, [VALUES[3], VALUES[5]]);
    assert.ok(f.failed);
    const again = catchFraming(() => f.push(MESSAGES[5]!));
    assert.equal(again.code, WireErrorCode.BadMagic);
    assert.deepEqual(again.messages, []);
    assert.equal(f.buffered, 0);
  });

  it('the same error whatever the read boundaries', () => {
    const bad = concatBytes(MESSAGES[7]!, MESSAGES[8]!);
    bad[MESSAGES[7]!.length + 5] ^= 0x01; // cookie of the second message
    const rnd = prng(77);
    for (let trial = 0; trial < 50; trial++) {
      const f = new PptpFramer();
      const seen: PptpMessage[] = [];
      let pos = 0;
      let err: PptpFramingError | undefined;
      while (pos < bad.length && !err) {
        const n = 1 + Math.floor(rnd() * 40);
        try {
          seen.push(...f.push(bad.subarray(pos, pos + n)));
        } catch (e) {
          if (!(e instanceof PptpFramingError)) throw e;
          err = e;
          seen.push(...e.messages);
        }
        pos += n;
      }
      assert.equal(err?.code, WireErrorCode.BadMagic, `trial ${trial}`);
      assert.deepEqual(seen, [VALUES[7]]);
    }
  });
});

describe('PptpFramer skips well-framed messages of undefined types', () => {
  it('a Management message and Control Message Type 16 are skipped and reported; the stream goes on', () => {
    const headers: PptpHeader[] = [];
    const f = new PptpFramer({ onUnknown: (h, bytes) => headers.push({ ...h, length: bytes.length }) });
    const management = fromHex('00 10 00 02 1a 2b 3c 4d 00 01 00 00 00 00 00 00');
    const type16 = fromHex('00 14 00 01 1a 2b 3c 4d 00 10 00 00 01 02 03 04 05 06 07 08');
    const out = f.push(concatBytes(management, MESSAGES[5]!, type16, MESSAGES[6]!));
    assert.deepEqual(out, [VALUES[5], VALUES[6]]);
    assert.equal(f.unknownMessages, 2);
    assert.deepEqual(headers, [
      { length: 16, pptpMessageType: 2, controlMessageType: 1 },
      { length: 20, pptpMessageType: 1, controlMessageType: 16 },
    ]);
  });

  it('an undefined message larger than the cap is still refused', () => {
    const f = new PptpFramer();
    const big = fromHex('02 58 00 01 1a 2b 3c 4d 00 63 00 00');
    assert.equal(catchFraming(() => f.push(big)).code, WireErrorCode.LengthTooLarge);
  });

  it('the cap must leave room for every defined message', () => {
    assert.throws(() => new PptpFramer({ maxMessageLength: 200 }), RangeError);
    assert.throws(() => new PptpFramer({ maxMessageLength: 70000 }), RangeError);
  });
});
