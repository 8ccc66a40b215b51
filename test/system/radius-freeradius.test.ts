/**
 * The RADIUS client (codec, crypto, engine, UDP driver) against a real
 * FreeRADIUS 3.2 from Debian, configured with `require_message_authenticator`:
 * PAP, CHAP-MD5, MS-CHAPv1 and MS-CHAPv2 Access-Requests and an Accounting-Request.
 * FreeRADIUS is the oracle: it accepts only what it can verify, and the keys
 * and the authenticator response it returns must be the ones our own
 * MS-CHAPv2 and MPPE code derives for the same exchange.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { mppeKeysFromMsChapV2 } from '../../src/crypto/mppe-keys.js';
import { hashNtPasswordHash, ntChallengeResponse, ntPasswordHash } from '../../src/crypto/mschap.js';
import { generateAuthenticatorResponse, generateNtResponse } from '../../src/crypto/mschap-v2.js';
import { revealPassword, saltDecrypt } from '../../src/crypto/radius.js';
import { RadiusUdpDriver } from '../../src/io/radius-udp.js';
import { RadiusClient, type RadiusClientAction, type RadiusRequest } from '../../src/radius/radius-client.js';
import { bytesEqual, fromLatin1, parseIpv4, toHex, utf8 } from '../../src/wire/bytes.js';
import {
  AcctStatusType,
  addressAttribute,
  FramedProtocol,
  getInteger,
  getMicrosoftAttribute,
  getReplyMessage,
  integerAttribute,
  MsAttr,
  microsoftAttribute,
  NasPortType,
  octetsAttribute,
  RadiusAttr,
  RadiusCode,
  ServiceType,
  TunnelMediumType,
  TunnelType,
  taggedIntegerAttribute,
  taggedTextAttribute,
  textAttribute,
} from '../../src/wire/radius/index.js';
import { type FreeRadius, startFreeRadius } from '../helpers/freeradius.js';

const SECRET = 'oracle-secret-7Qx';
const USER = 'alice';
const PASSWORD = 'alice-Pa55';
const USERS = `${USER}\tCleartext-Password := "${PASSWORD}"
\tFramed-IP-Address = 10.9.0.7,
\tSession-Timeout = 3600,
\tAcct-Interim-Interval = 300,
\tReply-Message = "Hello alice"
`;

type Outcome = Extract<RadiusClientAction, { type: 'reply' | 'failed' }>;

/** One engine + UDP driver towards one FreeRADIUS port; `ask` resolves with the reply or the failure. */
async function clientFor(port: number, secret: string, timeoutMs = 2000, retries = 1) {
  const engine = new RadiusClient({
    servers: [{ name: `127.0.0.1:${port}`, secret }],
    random: (n) => new Uint8Array(randomBytes(n)),
    timeoutMs,
    retries,
  });
  const waiting = new Map<number, (o: Outcome) => void>();
  const driver = await RadiusUdpDriver.open(engine, [{ host: '127.0.0.1', port }], (a) => {
    if (a.type === 'reply' || a.type === 'failed') waiting.get(a.handle)?.(a);
  });
  let next = 1;
  const ask = (req: RadiusRequest) =>
    new Promise<Outcome>((resolve) => {
      const handle = next++;
      waiting.set(handle, (o) => {
        waiting.delete(handle);
        resolve(o);
      });
      driver.perform(engine.submit(driver.now(), handle, req));
    });
  return { engine, driver, ask };
}

/** What a PPTP NAS sends with every request. */
function nasAttributes(callId: number) {
  return [
    textAttribute(RadiusAttr.UserName, USER),
    textAttribute(RadiusAttr.NasIdentifier, 'pptp-ts-test'),
    addressAttribute(RadiusAttr.NasIpAddress, parseIpv4('127.0.0.1')!),
    integerAttribute(RadiusAttr.NasPort, callId),
    integerAttribute(RadiusAttr.NasPortType, NasPortType.Virtual),
    integerAttribute(RadiusAttr.ServiceType, ServiceType.Framed),
    integerAttribute(RadiusAttr.FramedProtocol, FramedProtocol.PPP),
    textAttribute(RadiusAttr.CallingStationId, '192.0.2.44'),
    taggedIntegerAttribute(RadiusAttr.TunnelType, 0, TunnelType.PPTP),
    taggedIntegerAttribute(RadiusAttr.TunnelMediumType, 0, TunnelMediumType.IPv4),
    taggedTextAttribute(RadiusAttr.TunnelClientEndpoint, 0, '192.0.2.44'),
  ];
}

function accepted(o: Outcome) {
  assert.equal(
    o.type,
    'reply',
    `expected a reply, got ${o.type === 'failed' ? `${o.reason}: ${o.detail}` : ''}`,
  );
  return o as Extract<Outcome, { type: 'reply' }>;
}

describe('RADIUS client against FreeRADIUS 3.2', () => {
  let fr: FreeRadius;
  before(async () => {
    fr = await startFreeRadius({ secret: SECRET, users: USERS });
  });
  after(async () => {
    await fr?.stop();
  });

  it('PAP: the right password is accepted with the users-file attributes, a wrong one rejected with its Reply-Message', async () => {
    const c = await clientFor(fr.authPort, SECRET);
    try {
      const ok = accepted(
        await c.ask({ code: RadiusCode.AccessRequest, attributes: nasAttributes(7), userPassword: PASSWORD }),
      );
      assert.equal(ok.packet.code, RadiusCode.AccessAccept, fr.output());
      assert.equal(getInteger(ok.packet, RadiusAttr.FramedIpAddress), parseIpv4('10.9.0.7'));
      assert.equal(getInteger(ok.packet, RadiusAttr.SessionTimeout), 3600);
      assert.equal(getInteger(ok.packet, RadiusAttr.AcctInterimInterval), 300);
      const bad = accepted(
        await c.ask({
          code: RadiusCode.AccessRequest,
          attributes: nasAttributes(8),
          userPassword: `${PASSWORD}x`,
        }),
      );
      assert.equal(bad.packet.code, RadiusCode.AccessReject);
      assert.equal(getReplyMessage(bad.packet), `Wrong password for ${USER}`);
      assert.equal(c.engine.stats.missingMessageAuthenticator, 0);
    } finally {
      c.driver.close();
    }
  });

  it('CHAP-MD5: CHAP-Password over CHAP-Challenge (RFC 2865 §5.3) is accepted; a wrong response rejected', async () => {
    const c = await clientFor(fr.authPort, SECRET);
    try {
      const challenge = new Uint8Array(randomBytes(16));
      const chap = (password: string, ident: number) => {
        const h = createHash('md5')
          .update(Uint8Array.of(ident))
          .update(utf8(password))
          .update(challenge)
          .digest();
        return octetsAttribute(RadiusAttr.ChapPassword, Uint8Array.of(ident, ...h));
      };
      const req = (password: string) => ({
        code: RadiusCode.AccessRequest as const,
        attributes: [
          ...nasAttributes(9),
          octetsAttribute(RadiusAttr.ChapChallenge, challenge),
          chap(password, 0x42),
        ],
      });
      assert.equal(accepted(await c.ask(req(PASSWORD))).packet.code, RadiusCode.AccessAccept, fr.output());
      assert.equal(accepted(await c.ask(req('not-it'))).packet.code, RadiusCode.AccessReject);
    } finally {
      c.driver.close();
    }
  });

  it('MS-CHAPv2: MS-CHAP2-Success is our authenticator response, MS-MPPE keys decrypt to the keys we derive', async () => {
    const c = await clientFor(fr.authPort, SECRET);
    try {
      const authChallenge = new Uint8Array(randomBytes(16));
      const peerChallenge = new Uint8Array(randomBytes(16));
      const ntResponse = generateNtResponse(authChallenge, peerChallenge, USER, PASSWORD);
      const ident = 0x17;
      const response = new Uint8Array(50);
      response[0] = ident;
      response.set(peerChallenge, 2);
      response.set(ntResponse, 26);
      const ok = accepted(
        await c.ask({
          code: RadiusCode.AccessRequest,
          attributes: [
            ...nasAttributes(10),
            microsoftAttribute(MsAttr.ChapChallenge, authChallenge),
            microsoftAttribute(MsAttr.Chap2Response, response),
          ],
        }),
      );
      assert.equal(ok.packet.code, RadiusCode.AccessAccept, fr.output());
      const success = getMicrosoftAttribute(ok.packet, MsAttr.Chap2Success);
      assert.ok(success, 'MS-CHAP2-Success present');
      assert.equal(success[0], ident);
      const want = generateAuthenticatorResponse(PASSWORD, ntResponse, peerChallenge, authChallenge, USER);
      assert.equal(fromLatin1(success.subarray(1)), want);

      const server = mppeKeysFromMsChapV2(ntPasswordHash(PASSWORD), ntResponse, true);
      const send = getMicrosoftAttribute(ok.packet, MsAttr.MppeSendKey);
      const recv = getMicrosoftAttribute(ok.packet, MsAttr.MppeRecvKey);
      assert.ok(send && recv, 'MS-MPPE-Send-Key and MS-MPPE-Recv-Key present');
      const sendKey = saltDecrypt(send, ok.secret, ok.requestAuthenticator);
      const recvKey = saltDecrypt(recv, ok.secret, ok.requestAuthenticator);
      // RFC 2548 §2.4.2: Send-Key keys what the NAS (the authenticator) sends.
      assert.ok(
        bytesEqual(sendKey.subarray(0, 16), server.sendKey),
        'MS-MPPE-Send-Key = our server send key',
      );
      assert.ok(
        bytesEqual(recvKey.subarray(0, 16), server.receiveKey),
        'MS-MPPE-Recv-Key = our server receive key',
      );
      assert.ok(!bytesEqual(sendKey, recvKey));
      assert.ok(getInteger(ok.packet, RadiusAttr.SessionTimeout));

      const wrong = generateNtResponse(authChallenge, peerChallenge, USER, 'wrong');
      response.set(wrong, 26);
      const bad = accepted(
        await c.ask({
          code: RadiusCode.AccessRequest,
          attributes: [
            ...nasAttributes(11),
            microsoftAttribute(MsAttr.ChapChallenge, authChallenge),
            microsoftAttribute(MsAttr.Chap2Response, response),
          ],
        }),
      );
      assert.equal(bad.packet.code, RadiusCode.AccessReject);
      const error = getMicrosoftAttribute(bad.packet, MsAttr.ChapError);
      assert.ok(error, 'MS-CHAP-Error present');
      assert.match(fromLatin1(error.subarray(1)), /^E=691 /);
    } finally {
      c.driver.close();
    }
  });

  it('MS-CHAPv1: accepted, and MS-CHAP-MPPE-Keys reveals the LM part (zero) and MD4(NT hash) (RFC 2548 §2.4.1)', async () => {
    const c = await clientFor(fr.authPort, SECRET);
    try {
      const challenge = new Uint8Array(randomBytes(8));
      const response = (password: string) => {
        const r = new Uint8Array(50);
        r[0] = 0x21;
        r[1] = 1; // Flags: use the NT-Response
        r.set(ntChallengeResponse(challenge, password), 26);
        return r;
      };
      const ask = (password: string) =>
        c.ask({
          code: RadiusCode.AccessRequest,
          attributes: [
            ...nasAttributes(15),
            microsoftAttribute(MsAttr.ChapChallenge, challenge),
            microsoftAttribute(MsAttr.ChapResponse, response(password)),
          ],
        });
      const ok = accepted(await ask(PASSWORD));
      assert.equal(ok.packet.code, RadiusCode.AccessAccept, fr.output());
      const hidden = getMicrosoftAttribute(ok.packet, MsAttr.ChapMppeKeys);
      assert.ok(hidden, 'MS-CHAP-MPPE-Keys present');
      const keys = revealPassword(hidden, ok.secret, ok.requestAuthenticator, true);
      assert.equal(toHex(keys.subarray(0, 8)), '0000000000000000');
      assert.equal(toHex(keys.subarray(8, 24)), toHex(hashNtPasswordHash(ntPasswordHash(PASSWORD))));
      assert.equal(accepted(await ask('wrong')).packet.code, RadiusCode.AccessReject);
    } finally {
      c.driver.close();
    }
  });

  it('Accounting-Request Start is answered, and FreeRADIUS recorded the attributes we sent', async () => {
    const c = await clientFor(fr.acctPort, SECRET);
    try {
      const sessionId = `pptp-ts-${process.pid}-${Date.now().toString(16)}`;
      const o = accepted(
        await c.ask({
          code: RadiusCode.AccountingRequest,
          attributes: [
            ...nasAttributes(12),
            integerAttribute(RadiusAttr.AcctStatusType, AcctStatusType.Start),
            textAttribute(RadiusAttr.AcctSessionId, sessionId),
            addressAttribute(RadiusAttr.FramedIpAddress, parseIpv4('10.9.0.7')!),
            integerAttribute(RadiusAttr.AcctInputOctets, 123456),
          ],
        }),
      );
      assert.equal(o.packet.code, RadiusCode.AccountingResponse);
      const detail = fr.accountingDetail();
      assert.match(detail, new RegExp(`Acct-Session-Id = "${sessionId}"`));
      assert.match(detail, /Acct-Status-Type = Start/);
      assert.match(detail, /Tunnel-Type(:0)? = PPTP/);
      assert.match(detail, /NAS-Port-Type = Virtual/);
      assert.match(detail, /Acct-Input-Octets = 123456/);
    } finally {
      c.driver.close();
    }
  });

  it('a wrong shared secret ends in a clean time-out, not an answer', async () => {
    const c = await clientFor(fr.authPort, 'not-the-secret', 300, 1);
    try {
      const o = await c.ask({
        code: RadiusCode.AccessRequest,
        attributes: nasAttributes(13),
        userPassword: PASSWORD,
      });
      assert.equal(o.type, 'failed');
      assert.equal(o.type === 'failed' && o.reason, 'timeout');
      assert.equal(c.engine.stats.replies, 0);
    } finally {
      c.driver.close();
    }
  });
});

describe('RADIUS client against a FreeRADIUS that does not sign its replies', () => {
  let fr: FreeRadius;
  before(async () => {
    fr = await startFreeRadius({ secret: SECRET, users: USERS, replyMessageAuthenticator: false });
  });
  after(async () => {
    await fr?.stop();
  });

  it('an Access-Accept without Message-Authenticator is dropped and counted, and the request fails', async () => {
    const c = await clientFor(fr.authPort, SECRET, 300, 1);
    try {
      const o = await c.ask({
        code: RadiusCode.AccessRequest,
        attributes: nasAttributes(14),
        userPassword: PASSWORD,
      });
      assert.equal(o.type, 'failed');
      // Both transmissions were answered (FreeRADIUS answers a retransmission from its cache) and both dropped.
      assert.ok(c.engine.stats.missingMessageAuthenticator >= 1, JSON.stringify(c.engine.stats));
      assert.equal(c.engine.stats.replies, 0);
      assert.equal(c.engine.stats.badAuthenticator, 0, 'the Response Authenticator itself was right');
    } finally {
      c.driver.close();
    }
  });
});
