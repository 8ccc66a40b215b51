/**
 * Small network tools the interop cases run inside the lab namespace
 * (`ip netns exec NS node --import tsx test/interop/net-tool.ts ...`), where
 * the host has no nc or dig of its own:
 *
 *   net-tool.ts send HOST PORT BYTES     connect, send BYTES random bytes, close;
 *                                        print `BYTES SHA256HEX` (sha256sum's hex)
 *   net-tool.ts sink ADDR PORT           accept one connection, read to EOF;
 *                                        print `listening` first, then `BYTES SHA256HEX`
 *   net-tool.ts resolve SERVER NAME      one A query to SERVER:53; print the addresses
 *
 * Each exits 1 with the reason on stderr after 120 s without finishing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import net from 'node:net';

const [cmd, a, b, c] = process.argv.slice(2);
const deadline = setTimeout(() => fail('timed out after 120 s'), 120_000);

function fail(why: string): never {
  process.stderr.write(`net-tool ${cmd}: ${why}\n`);
  process.exit(1);
}

function done(line: string): void {
  clearTimeout(deadline);
  process.stdout.write(`${line}\n`);
}

switch (cmd) {
  case 'send': {
    const total = Number(c);
    if (!a || !b || !Number.isInteger(total) || total < 0) fail('usage: send HOST PORT BYTES');
    const hash = createHash('sha256');
    const socket = net.connect(Number(b), a);
    socket.on('error', (e) => fail(e.message));
    socket.on('connect', async () => {
      for (let sent = 0; sent < total; ) {
        const chunk = randomBytes(Math.min(65536, total - sent));
        hash.update(chunk);
        sent += chunk.length;
        if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r));
      }
      socket.end();
    });
    socket.on('close', (hadError) => {
      if (!hadError) done(`${total} ${hash.digest('hex')}`);
    });
    socket.resume();
    break;
  }
  case 'sink': {
    if (!a || !b) fail('usage: sink ADDR PORT');
    const server = net.createServer((socket) => {
      server.close();
      const hash = createHash('sha256');
      let bytes = 0;
      socket.on('data', (d) => {
        hash.update(d);
        bytes += d.length;
      });
      socket.on('error', (e) => fail(e.message));
      socket.on('end', () => {
        socket.end();
        done(`${bytes} ${hash.digest('hex')}`);
      });
    });
    server.on('error', (e) => fail(e.message));
    server.listen(Number(b), a, () => process.stdout.write('listening\n'));
    break;
  }
  case 'resolve': {
    if (!a || !b) fail('usage: resolve SERVER NAME');
    const resolver = new Resolver({ timeout: 5000, tries: 3 });
    resolver.setServers([a]);
    try {
      done((await resolver.resolve4(b)).join(' '));
    } catch (e) {
      fail((e as Error).message);
    }
    break;
  }
  default:
    fail('usage: net-tool.ts send HOST PORT BYTES | sink ADDR PORT | resolve SERVER NAME');
}
