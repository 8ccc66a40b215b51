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
  await new Promise((r) => setTimeout(r, Number(process.env.PPTP_HOLD_MS ?? 1000)));
  console.log(`stats ${JSON.stringify(client.stats())}`);
  await client.close();
} catch (err) {
  if (!(err instanceof PptpError)) throw err;
  console.error(`connect failed (${err.code}): ${err.message}`);
  process.exitCode = 1;
}
