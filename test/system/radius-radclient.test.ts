/**
 * FreeRADIUS's `radclient` as an independent encoder/decoder oracle for
 * the server-side half of our RADIUS crypto: it sends an Access-Request we
 * decode (User-Password and Message-Authenticator must verify with our
 * code), and it decodes our Access-Accept: it checks our Response
 * Authenticator and Message-Authenticator, and prints MS-MPPE-Send/Recv-Key
 * after undoing our RFC 2548 salt encryption.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { describe, it } from 'node:test';
import {
  revealPassword,
  saltEncrypt,
  signResponse,
  verifyRequestMessageAuthenticator,
} from '../../src/crypto/radius.js';
import { fromUtf8, parseIpv4, toHex } from '../../src/wire/bytes.js';
import {
  addressAttribute,
  decodeRadius,
  encodeRadius,
  getAttribute,
  getText,
  MsAttr,
  microsoftAttribute,
  RadiusAttr,
  RadiusCode,
  TunnelType,
  taggedIntegerAttribute,
} from '../../src/wire/radius/index.js';
import { requireFreeRadius } from '../helpers/freeradius.js';

const SECRET = 'radclient-oracle';

/** Runs radclient against a one-shot server on 127.0.0.1 that answers with `answer(request bytes)`. */
async function exchange(
  input: string,
  secret: string,
  answer: (req: Uint8Array) => Uint8Array,
): Promise<{ out: string; requests: Uint8Array[] }> {
  const server = createSocket('udp4');
  const requests: Uint8Array[] = [];
  server.on('message', (msg, rinfo) => {
    const req = new Uint8Array(msg);
    requests.push(req);
    server.send(answer(req), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', () => resolve()));
  const port = server.address().port;
  try {
    const child = spawn('radclient', ['-x', '-r', '1', '-t', '2', `127.0.0.1:${port}`, 'auth', secret], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stdin.end(input);
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await new Promise<void>((resolve) => child.once('exit', () => resolve()));
    clearTimeout(killer);
    return { out, requests };
  } finally {
    server.close();
  }
}

describe('radclient as an oracle for RADIUS encoding', () => {
  it('our decoder reads its Access-Request; it accepts our signed Access-Accept and decrypts our MPPE keys', async () => {
    requireFreeRadius();
    const sendKey = new Uint8Array(randomBytes(16));
    const recvKey = new Uint8Array(randomBytes(16));
    const success = `\u0001S=${'0123456789ABCDEF'.repeat(2)}01234567`;
    let seen: { user?: string; password?: string; ma?: string } = {};
    const { out, requests } = await exchange(
      'User-Name = "bob", User-Password = "hunter2-long-password!", Message-Authenticator = 0x00\n',
      SECRET,
      (raw) => {
        const req = decodeRadius(raw);
        seen = {
          user: getText(req, RadiusAttr.UserName),
          password: fromUtf8(
            revealPassword(getAttribute(req, RadiusAttr.UserPassword)!, SECRET, req.authenticator),
          ),
          ma: verifyRequestMessageAuthenticator(raw, SECRET, false),
        };
        const reply = encodeRadius({
          code: RadiusCode.AccessAccept,
          identifier: req.identifier,
          attributes: [
            { type: RadiusAttr.MessageAuthenticator, value: new Uint8Array(16) },
            addressAttribute(RadiusAttr.FramedIpAddress, parseIpv4('10.1.2.3')!),
            taggedIntegerAttribute(RadiusAttr.TunnelType, 1, TunnelType.PPTP),
            microsoftAttribute(
              MsAttr.MppeSendKey,
              saltEncrypt(sendKey, SECRET, req.authenticator, Uint8Array.of(0x81, 0x02)),
            ),
            microsoftAttribute(
              MsAttr.MppeRecvKey,
              saltEncrypt(recvKey, SECRET, req.authenticator, Uint8Array.of(0x83, 0x04)),
            ),
            microsoftAttribute(MsAttr.Chap2Success, new TextEncoder().encode(success)),
          ],
        });
        signResponse(reply, SECRET, req.authenticator);
        return reply;
      },
    );
    assert.equal(requests.length, 1, out);
    assert.deepEqual(seen, { user: 'bob', password: 'hunter2-long-password!', ma: 'valid' });
    assert.match(out, /Received Access-Accept/, out);
    assert.match(out, /Framed-IP-Address = 10\.1\.2\.3/);
    assert.match(out, /Tunnel-Type:1 = PPTP/);
    assert.match(out, new RegExp(`MS-MPPE-Send-Key = 0x${toHex(sendKey)}\\b`), out);
    assert.match(out, new RegExp(`MS-MPPE-Recv-Key = 0x${toHex(recvKey)}\\b`), out);
  });

  it('radclient refuses our reply when it is signed with another secret', async () => {
    requireFreeRadius();
    const { out } = await exchange(
      'User-Name = "bob", User-Password = "x", Message-Authenticator = 0x00\n',
      SECRET,
      (raw) => {
        const req = decodeRadius(raw);
        const reply = encodeRadius({
          code: RadiusCode.AccessAccept,
          identifier: req.identifier,
          attributes: [{ type: RadiusAttr.MessageAuthenticator, value: new Uint8Array(16) }],
        });
        signResponse(reply, 'another-secret', req.authenticator);
        return reply;
      },
    );
    assert.doesNotMatch(out, /Received Access-Accept/, out);
    assert.match(out, /Reply verification failed/, out);
  });
});
