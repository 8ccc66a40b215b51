// Dial a PPTP server, report the tunnel, then hang up.
import { connect, PptpError } from 'pptp-ts';

const server = process.argv[2] ?? '192.0.2.1';
const client = connect({
  server,
  user: process.env.PPTP_USER ?? 'alice',
  password: process.env.PPTP_PASSWORD ?? 'correct horse', // a string or a Buffer
  mppe: 'required',
  routes: ['10.77.0.0/24'],
  signal: AbortSignal.timeout(30_000), // give up if not up within 30 s
});

client.on('up', (t) => {
  console.log(`up ${JSON.stringify(t)}`);
});
client.on('down', (d) => {
  console.log(`down ${JSON.stringify({ reason: d.reason, code: d.error?.code ?? null, wasUp: d.wasUp })}`);
});

try {
  const tunnel = await client.ready;
  console.log(`tunnel ${tunnel.localAddress} -> ${tunnel.remoteAddress} on ${tunnel.interface}`);
  // Hold the tunnel a while, then hang up, unless the server ends it first.
  const hold = setTimeout(
    () => {
      console.log(`stats ${JSON.stringify(client.stats())}`);
      void client.close();
    },
    Number(process.env.PPTP_HOLD_MS ?? 1000),
  );
  const down = await client.closed;
  clearTimeout(hold);
  if (down.error) throw down.error;
} catch (err) {
  if (!(err instanceof PptpError)) throw err;
  console.error(`connect failed (${err.code}): ${err.message}`);
  process.exitCode = 1;
}
