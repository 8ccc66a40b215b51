import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { runDecode } from '../../src/cli/decode.js';
import { fullSession } from './fixtures.js';

function capture(): {
  io: { stdout: PassThrough; stderr: PassThrough };
  out: () => string;
  err: () => string;
} {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  stdout.on('data', (b: Buffer) => o.push(b));
  stderr.on('data', (b: Buffer) => e.push(b));
  return {
    io: { stdout, stderr },
    out: () => Buffer.concat(o).toString(),
    err: () => Buffer.concat(e).toString(),
  };
}

describe('pptp-ts decode (runDecode)', () => {
  let dir: string;
  const session = fullSession();
  const pcap = session.pcap('ethernet');
  const file = (n: string) => join(dir, n);
  before(() => {
    dir = mkdtempSync(join(tmpdir(), `pptp-ts-cli-${process.pid}-`));
    writeFileSync(file('s.pcap'), pcap);
    writeFileSync(file('not.pcap'), 'hello, world');
    writeFileSync(file('cut.pcap'), pcap.subarray(0, pcap.length - 10));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('usage errors exit 2; --help exits 0', async () => {
    for (const argv of [[], ['a', 'b'], ['--nope', 'x']]) {
      const c = capture();
      assert.equal(await runDecode(argv, c.io), 2, argv.join(' '));
      assert.match(c.err(), /usage: pptp-ts decode FILE/);
    }
    const c = capture();
    assert.equal(await runDecode(['--help'], c.io), 0);
    assert.match(c.out(), /--json {10}one JSON object per packet/);
  });

  it('a missing file or one that is not a capture exits 1 with the reason', async () => {
    const a = capture();
    assert.equal(await runDecode([file('missing.pcap')], a.io), 1);
    assert.equal(
      a.err(),
      `pptp-ts decode: ${file('missing.pcap')}: no such file or directory (ENOENT)\n`,
      'once',
    );
    const b = capture();
    assert.equal(await runDecode([file('not.pcap')], b.io), 1);
    assert.match(b.err(), /not a pcap or pcapng capture file/);
  });

  it('text: one block per frame, a summary on stderr', async () => {
    const c = capture();
    assert.equal(await runDecode([file('s.pcap')], c.io), 0);
    const blocks = c.out().trimEnd().split('\n\n');
    assert.equal(blocks.length, session.frames.length - 1);
    assert.ok(blocks.every((b) => b.startsWith('Frame ')));
    assert.match(c.err(), /^\d+ frames read, \d+ shown: 15 PPTP control messages/);
  });

  it('--json: one object per line', async () => {
    const c = capture();
    assert.equal(await runDecode(['--json', file('s.pcap')], c.io), 0);
    const lines = c.out().trimEnd().split('\n');
    assert.equal(lines.length, session.frames.length - 1);
    assert.deepEqual(
      lines.map((l) => JSON.parse(l).frame),
      session.frames.map((_, i) => i + 1).filter((n) => session.frames[n - 1]!.label !== 'ACK'),
    );
    assert.equal(c.err(), '', 'no summary mixed into JSON runs');
  });

  it('a file cut short: the frames before the cut are printed, then the error, exit 1', async () => {
    const c = capture();
    assert.equal(await runDecode(['--json', file('cut.pcap')], c.io), 1);
    assert.equal(c.out().trimEnd().split('\n').length, session.frames.length - 2);
    assert.match(
      c.err(),
      new RegExp(
        `reading stopped after frame ${session.frames.length - 1}: truncated: pcap record ${session.frames.length}`,
      ),
    );
  });

  it('--password-file: reads the first line; a missing file exits 1', async () => {
    writeFileSync(file('pw'), 'clientPass\nignored\n');
    const c = capture();
    // This capture's MPPE bytes are not real ciphertext, but the password is the
    // RFC 2759 one, so the NT-Response check passes and decryption is attempted.
    assert.equal(await runDecode(['--password-file', file('pw'), file('s.pcap')], c.io), 0);
    assert.match(c.out(), /decrypted 12 bytes \(MPPE-128, 1 key change\)/);
    const w = capture();
    writeFileSync(file('bad'), 'wrong\n');
    assert.equal(await runDecode(['--password-file', file('bad'), file('s.pcap')], w.io), 0);
    assert.doesNotMatch(w.out(), /decrypted \d+ bytes|wrong password|NT-Response does not/);
    // One line on stderr for the whole capture, however many packets it stopped.
    const lines = w
      .err()
      .split('\n')
      .filter((l) => l.includes('wrong password'));
    assert.deepEqual(lines, [
      'pptp-ts decode: MPPE: could not decrypt with the given password (wrong password?)',
    ]);
    const m = capture();
    assert.equal(await runDecode(['--password-file', file('nope'), file('s.pcap')], m.io), 1);
  });

  it('- reads the capture from standard input as it arrives: the same output as from the file', async () => {
    const fromFile = capture();
    assert.equal(await runDecode([file('s.pcap')], fromFile.io), 0);
    for (const size of [1, 100, 4096]) {
      const chunks: Buffer[] = [];
      for (let off = 0; off < pcap.length; off += size)
        chunks.push(Buffer.from(pcap.subarray(off, off + size)));
      const c = capture();
      assert.equal(await runDecode(['-'], { ...c.io, stdin: Readable.from(chunks) }), 0);
      assert.equal(c.out(), fromFile.out(), `chunks of ${size}`);
      assert.equal(c.err(), fromFile.err());
    }
    // --json too.
    const j = capture();
    assert.equal(await runDecode(['--json', '-'], { ...j.io, stdin: Readable.from([Buffer.from(pcap)]) }), 0);
    assert.ok(j.out().split('\n').filter(Boolean).length > 30);
  });

  it('- : a stream that is not a capture, or stops inside a record, exits 1 with the reason', async () => {
    const a = capture();
    assert.equal(await runDecode(['-'], { ...a.io, stdin: Readable.from([Buffer.from('hello, world')]) }), 1);
    assert.match(a.err(), /^pptp-ts decode: standard input: bad-magic: not a pcap or pcapng capture\n$/);
    const b = capture();
    const cut = Buffer.from(pcap.subarray(0, pcap.length - 10));
    assert.equal(await runDecode(['-'], { ...b.io, stdin: Readable.from([cut]) }), 1);
    assert.match(b.out(), /^Frame 1 /);
    assert.match(
      b.err(),
      /standard input: reading stopped after frame \d+: truncated: stream ends inside the record/,
    );
  });

  it('--count and --snaplen without --interface, or a file with --interface, are usage errors', async () => {
    for (const argv of [
      ['--count', '3', 'x.pcap'],
      ['--snaplen', '96', '-'],
      ['-i', 'lo', 'x.pcap'],
      ['-i', 'lo', '-c', '0'],
    ]) {
      const c = capture();
      assert.equal(await runDecode(argv, c.io), 2, argv.join(' '));
    }
  });

  it('--interface on an interface that does not exist (or without the right): exit 1, one line', async () => {
    const c = capture();
    assert.equal(await runDecode(['--interface', 'nosuchif0'], c.io), 1);
    const lines = c.err().trim().split('\n');
    assert.equal(lines.length, 1, c.err());
    assert.match(lines[0]!, /^pptp-ts decode: --interface nosuchif0: /);
  });

  it('stops quietly when the reader of its output goes away', async () => {
    let writes = 0;
    const stdout = new Writable({
      highWaterMark: 1,
      write(_chunk, _enc, cb) {
        writes++;
        cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const stderr = new PassThrough();
    assert.equal(await runDecode([file('s.pcap')], { stdout, stderr }), 0);
    assert.equal(writes, 1);
  });
});
