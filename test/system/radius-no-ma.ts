/**
 * A RADIUS server that answers every Access-Request with an Access-Accept
 * whose Response Authenticator is right (RFC 2865 §3: MD5(Code + Identifier
 * + Length + Request Authenticator + Attributes + Secret)) but that carries
 * no Message-Authenticator: what a server vulnerable to Blast-RADIUS sends,
 * and what RFC 3579 §3.2 and the Blast-RADIUS mitigations tell a NAS to
 * drop. Computed here with node:crypto alone (not the project's RADIUS
 * code), so it is an independent stand-in. Prints "responder ready" once
 * listening and "answered <User-Name>" per reply; exits on SIGTERM.
 *
 *   node --import tsx test/system/radius-no-ma.ts PORT SECRET
 */
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';

const [portText, secret] = process.argv.slice(2);
const port = Number(portText);
if (!port || !secret) {
  process.stderr.write('usage: radius-no-ma PORT SECRET\n');
  process.exit(2);
}

/** User-Name (type 1) of a request, for the log. */
function userName(msg: Buffer): string {
  for (let off = 20; off + 2 <= msg.length; ) {
    const type = msg[off]!;
    const len = msg[off + 1]!;
    if (len < 2) break;
    if (type === 1) return msg.subarray(off + 2, off + len).toString('utf8');
    off += len;
  }
  return '?';
}

const sock = createSocket('udp4');
sock.on('message', (msg, from) => {
  // Access-Request (1) only, of a sane length.
  if (msg.length < 20 || msg[0] !== 1 || msg.readUInt16BE(2) > msg.length) return;
  const replyMessage = Buffer.from('accepted without a Message-Authenticator', 'utf8');
  const attrs = Buffer.concat([Buffer.from([18, 2 + replyMessage.length]), replyMessage]);
  const reply = Buffer.alloc(20 + attrs.length);
  reply[0] = 2; // Access-Accept
  reply[1] = msg[1]!;
  reply.writeUInt16BE(reply.length, 2);
  msg.copy(reply, 4, 4, 20);
  attrs.copy(reply, 20);
  const auth = createHash('md5').update(reply).update(secret, 'utf8').digest();
  auth.copy(reply, 4);
  sock.send(reply, from.port, from.address);
  process.stdout.write(`answered ${userName(msg)}\n`);
});
sock.bind(port, '127.0.0.1', () => process.stdout.write('responder ready\n'));
process.on('SIGTERM', () => {
  sock.close();
  process.exit(0);
});
