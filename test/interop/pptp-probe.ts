/**
 * A raw PPTP control-connection probe, run inside the lab namespace by the
 * tests (`ip netns exec NS node --import tsx test/interop/pptp-probe.ts`):
 *
 *   pptp-probe.ts HOST PORT HEX...
 *
 * Connects to HOST:PORT, and for each HEX message sends it and reads one
 * whole PPTP control message back (framed by its Length field, RFC 2637
 * §1.4), printing it as one hex line. It knows nothing else about PPTP, so
 * the tests build and check the bytes themselves, independently of the
 * project's codecs. Exits 1 on a time-out (5 s per reply) or a closed
 * connection, with the reason on stderr.
 */
import net from 'node:net';

const [host, port, ...messages] = process.argv.slice(2);
if (!host || !port || messages.length === 0) {
  process.stderr.write('usage: pptp-probe.ts HOST PORT HEX...\n');
  process.exit(2);
}

const socket = net.connect(Number(port), host);
let buffered = Buffer.alloc(0);
let waiting: ((msg: Buffer | Error) => void) | undefined;

function deliver(): void {
  if (!waiting || buffered.length < 2) return;
  const length = buffered.readUInt16BE(0);
  if (length >= 2 && buffered.length < length) return;
  const w = waiting;
  waiting = undefined;
  if (length < 2) {
    w(new Error(`Length field ${length} is below 2`));
    return;
  }
  const msg = buffered.subarray(0, length);
  buffered = buffered.subarray(length);
  w(msg);
}

socket.on('data', (d) => {
  buffered = Buffer.concat([buffered, d]);
  deliver();
});
socket.on('error', (e) => waiting?.(e));
socket.on('close', () => waiting?.(new Error('connection closed')));

function exchange(hex: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no reply within 5 s')), 5000);
    waiting = (m) => {
      clearTimeout(timer);
      if (m instanceof Error) reject(m);
      else resolve(m);
    };
    socket.write(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
    deliver();
  });
}

try {
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  for (const m of messages) process.stdout.write(`${(await exchange(m)).toString('hex')}\n`);
  socket.end();
} catch (e) {
  process.stderr.write(`pptp-probe: ${(e as Error).message}\n`);
  process.exit(1);
}
