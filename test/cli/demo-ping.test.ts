/**
 * The demo's own ICMP echo (src/cli/demo/ping.ts): the request it builds and
 * the replies it accepts. The live exchange runs in test/system/demo.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { echoReplySequence, echoRequest } from '../../src/cli/demo/ping.js';
import { parseIpv4 } from '../../src/wire/bytes.js';
import { decodeIpv4Packet, internetChecksum } from '../../src/wire/ipv4.js';

const TARGET = parseIpv4('10.88.0.80')!;
const US = parseIpv4('10.99.0.10')!;

/** What the target's kernel answers: addresses swapped, type 0, checksums redone. */
function replyTo(request: Uint8Array): Uint8Array {
  const p = request.slice();
  p.set(request.subarray(16, 20), 12);
  new DataView(p.buffer).setUint32(16, US);
  p[10] = 0;
  p[11] = 0;
  const h = internetChecksum(p, 0, 20);
  p[10] = h >>> 8;
  p[11] = h & 0xff;
  p[20] = 0;
  p[22] = 0;
  p[23] = 0;
  const c = internetChecksum(p, 20, p.length - 20);
  p[22] = c >>> 8;
  p[23] = c & 0xff;
  return p;
}

describe('demo ICMP echo', () => {
  it('builds an RFC 792 Echo Request inside a valid IPv4 header, as iputils ping sizes it', () => {
    const p = echoRequest(TARGET, 0x1234, 2);
    assert.equal(p.length, 20 + 64);
    const ip = decodeIpv4Packet(p);
    assert.equal(ip.protocol, 1);
    assert.equal(ip.destinationAddress, TARGET);
    assert.equal(ip.sourceAddress, 0, 'the kernel fills in the source');
    assert.deepEqual(
      [...p.subarray(20, 28)].map((b) => b.toString(16)).slice(0, 2),
      ['8', '0'],
      'type 8 code 0',
    );
    assert.equal(internetChecksum(p, 20, 64), 0, 'ICMP checksum');
    assert.equal((p[24]! << 8) | p[25]!, 0x1234, 'identifier');
    assert.equal((p[26]! << 8) | p[27]!, 2, 'sequence number');
  });

  it('accepts the matching Echo Reply and returns its sequence number', () => {
    assert.equal(echoReplySequence(replyTo(echoRequest(TARGET, 0x1234, 3)), TARGET, 0x1234), 3);
  });

  it('ignores replies that are not ours: other identifier, other source, bad checksum, a request, truncated', () => {
    const good = replyTo(echoRequest(TARGET, 0x1234, 1));
    assert.equal(echoReplySequence(good, TARGET, 0x4321), undefined, 'identifier');
    assert.equal(echoReplySequence(good, parseIpv4('10.88.0.81')!, 0x1234), undefined, 'source');
    const bad = good.slice();
    bad[40]! ^= 1;
    assert.equal(echoReplySequence(bad, TARGET, 0x1234), undefined, 'checksum');
    const req = echoRequest(TARGET, 0x1234, 1);
    assert.equal(echoReplySequence(req, 0, 0x1234), undefined, 'an Echo Request');
    for (let n = 0; n < good.length; n += 7) {
      assert.equal(echoReplySequence(good.subarray(0, n), TARGET, 0x1234), undefined, `truncated to ${n}`);
    }
  });
});
