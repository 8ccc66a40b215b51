/**
 * A UDP relay that answers slowly: datagrams to 127.0.0.1:LISTEN go on to
 * 127.0.0.1:TARGET at once; replies come back to the sender DELAY_MS
 * later. Stands in for a slow RADIUS server. Prints "relay ready" once
 * listening; exits on SIGTERM.
 *
 *   node --import tsx test/system/udp-delay.ts LISTEN TARGET DELAY_MS
 */
import { createSocket, type RemoteInfo } from 'node:dgram';

const [listen, target, delay] = process.argv.slice(2).map(Number);
if (!listen || !target || delay === undefined || Number.isNaN(delay)) {
  process.stderr.write('usage: udp-delay LISTEN TARGET DELAY_MS\n');
  process.exit(2);
}
const front = createSocket('udp4');
const back = createSocket('udp4');
let client: RemoteInfo | undefined;
front.on('message', (msg, rinfo) => {
  client = rinfo;
  back.send(msg, target, '127.0.0.1');
});
back.on('message', (msg) => {
  const to = client;
  if (!to) return;
  setTimeout(() => front.send(msg, to.port, to.address), delay);
});
front.bind(listen, '127.0.0.1', () => {
  back.bind(0, '127.0.0.1', () => process.stdout.write('relay ready\n'));
});
process.on('SIGTERM', () => {
  front.close();
  back.close();
  process.exit(0);
});
