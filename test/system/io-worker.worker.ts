/**
 * The worker side of test/system/io-worker.test.ts: adopts an fd handed
 * over by the main thread and drives it with this thread's own instance of
 * the addon.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RawGreSocket } from '../../src/io/raw-gre.js';
import { Tun } from '../../src/io/tun.js';

const data = workerData as { role: 'echo' | 'gre'; fd: number; name?: string; count?: number };
const port = parentPort!;

/** Answers IPv4 ICMP echo requests: swap addresses, type 0, fix the ICMP checksum incrementally (RFC 1624). */
function echo(tun: Tun): { requests: number } {
  const seen = { requests: 0 };
  tun.start({
    onPacket(p) {
      if (p.length < 28 || p[0] !== 0x45 || p[9] !== 1 || p[20] !== 8) return;
      seen.requests++;
      const r = p.slice();
      r.set(p.subarray(16, 20), 12);
      r.set(p.subarray(12, 16), 16);
      r[20] = 0;
      // Type 8 -> 0 lowers the first ICMP word by 0x0800: raise the checksum by as much.
      let c = ((r[22]! << 8) | r[23]!) + 0x0800;
      c = (c & 0xffff) + (c >>> 16);
      r[22] = c >>> 8;
      r[23] = c & 0xff;
      tun.write(r);
    },
    onBatchEnd: () => tun.flush(),
  });
  return seen;
}

if (data.role === 'echo') {
  const tun = Tun.adopt(data.fd, { name: data.name!, offload: true });
  const seen = echo(tun);
  port.on('message', (m) => {
    if (m !== 'stop') return;
    tun.close();
    port.postMessage(seen);
    port.close();
  });
} else {
  const gre = RawGreSocket.adopt(data.fd);
  const seqs: number[] = [];
  gre.start({
    onPacket(p) {
      seqs.push(new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(28));
      if (seqs.length === data.count) {
        gre.close();
        port.postMessage({ seqs });
        port.close();
      }
    },
  });
}
port.postMessage('ready');
