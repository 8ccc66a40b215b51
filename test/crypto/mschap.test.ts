/**
 * MS-CHAPv1 and MS-CHAPv2 against the RFC vectors: RFC 2433 §B.2 (NT hash,
 * NT challenge response), RFC 2759 §9.2 (ChallengeHash, NT-Response,
 * PasswordHashHash, Authenticator Response) and the LM hash of RFC 3079
 * §2.5.1. Exact byte equality.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  challengeResponse,
  hashNtPasswordHash,
  lmChallengeResponse,
  lmPasswordHash,
  ntChallengeResponse,
  ntPasswordHash,
  unicodePassword,
} from '../../src/crypto/mschap.js';
import {
  challengeHash,
  challengeHashUserName,
  checkAuthenticatorResponse,
  checkAuthenticatorResponseFromHash,
  decryptPwBlockWithPasswordHash,
  generateAuthenticatorResponse,
  generateAuthenticatorResponseFromHash,
  generateNtResponse,
  generateNtResponseFromHash,
  newPasswordEncryptedWithOldNtPasswordHash,
  ntPasswordHashEncryptedWithBlock,
  oldNtPasswordHashEncryptedWithNewNtPasswordHash,
  parseAuthenticatorResponse,
} from '../../src/crypto/mschap-v2.js';
import { fromHex, toHex, utf8 } from '../../src/wire/bytes.js';

// RFC 2759 §9.2 "Hash Example": user "User", password "clientPass".
const V2 = {
  userName: fromHex('55 73 65 72'),
  password: 'clientPass',
  unicodePassword: '63 00 6C 00 69 00 65 00 6E 00 74 00 50 00 61 00 73 00 73 00',
  authenticatorChallenge: fromHex('5B 5D 7C 7D 7B 3F 2F 3E 3C 2C 60 21 32 26 26 28'),
  peerChallenge: fromHex('21 40 23 24 25 5E 26 2A 28 29 5F 2B 3A 33 7C 7E'),
  challenge: 'D0 2E 43 86 BC E9 12 26',
  passwordHash: '44 EB BA 8D 53 12 B8 D6 11 47 44 11 F5 69 89 AE',
  ntResponse: '82 30 9E CD 8D 70 8B 5E A0 8F AA 39 81 CD 83 54 42 33 11 4A 3D 85 D6 DF',
  passwordHashHash: '41 C0 0C 58 4B D2 D9 1C 40 17 A2 A1 2F A5 9F 3F',
  authenticatorResponse: 'S=407A5589115FD0D6209F510FE9C04566932CDA56',
};

const hex = (s: string) => toHex(fromHex(s));

describe('MS-CHAPv1 (RFC 2433)', () => {
  // RFC 2433 §B.2 "Hash Example": password "MyPw".
  const challenge = fromHex('10 2D B5 DF 08 5D 30 41');
  it('§B.2 Unicode password', () =>
    assert.equal(toHex(unicodePassword('MyPw')), hex('4D 00 79 00 50 00 77 00')));
  it('§B.2 NtPasswordHash', () =>
    assert.equal(toHex(ntPasswordHash('MyPw')), hex('FC 15 6A F7 ED CD 6C 0E DD E3 33 7D 42 7F 4E AC')));
  it('§B.2 NtChallengeResponse', () =>
    assert.equal(
      toHex(ntChallengeResponse(challenge, 'MyPw')),
      hex('4E 9D 3C 8F 9C FD 38 5D 5B F4 D3 24 67 91 95 6C A4 C3 51 AB 40 9A 3D 61'),
    ));
  it('LmPasswordHash("clientPass") as RFC 3079 §2.5.1 step 1 shows it', () =>
    assert.equal(
      toHex(lmPasswordHash('clientPass')),
      hex('76 a1 52 93 60 96 d7 83 0e 23 90 22 74 04 af d2'),
    ));
  it('LmPasswordHash is case-insensitive and ignores characters past 14', () => {
    assert.equal(toHex(lmPasswordHash('CLIENTPASS')), toHex(lmPasswordHash('clientPass')));
    assert.equal(toHex(lmPasswordHash('abcdefghijklmnXYZ')), toHex(lmPasswordHash('ABCDEFGHIJKLMN')));
  });
  it('LmChallengeResponse = ChallengeResponse(challenge, LmPasswordHash)', () =>
    assert.equal(
      toHex(lmChallengeResponse(challenge, 'MyPw')),
      toHex(challengeResponse(challenge, lmPasswordHash('MyPw'))),
    ));
  it('non-ASCII passwords hash as UTF-16LE code units (surrogate pairs included)', () => {
    assert.equal(toHex(unicodePassword('é€😀')), 'e900ac203dd800de');
  });
  it('rejects a password above 256 characters', () => {
    assert.throws(() => ntPasswordHash('x'.repeat(257)), RangeError);
    assert.equal(ntPasswordHash('x'.repeat(256)).length, 16);
  });
});

describe('MS-CHAPv2 (RFC 2759 §8, vectors of §9.2)', () => {
  it('Unicode password', () => assert.equal(toHex(unicodePassword(V2.password)), hex(V2.unicodePassword)));
  it('ChallengeHash', () =>
    assert.equal(
      toHex(challengeHash(V2.peerChallenge, V2.authenticatorChallenge, V2.userName)),
      hex(V2.challenge),
    ));
  it('NtPasswordHash', () => assert.equal(toHex(ntPasswordHash(V2.password)), hex(V2.passwordHash)));
  it('HashNtPasswordHash', () =>
    assert.equal(toHex(hashNtPasswordHash(fromHex(V2.passwordHash))), hex(V2.passwordHashHash)));
  it('GenerateNTResponse (password and hash forms)', () => {
    const args = [V2.authenticatorChallenge, V2.peerChallenge, V2.userName] as const;
    assert.equal(toHex(generateNtResponse(...args, V2.password)), hex(V2.ntResponse));
    assert.equal(toHex(generateNtResponseFromHash(...args, fromHex(V2.passwordHash))), hex(V2.ntResponse));
  });
  it('GenerateAuthenticatorResponse (password and hash forms)', () => {
    const nt = fromHex(V2.ntResponse);
    assert.equal(
      generateAuthenticatorResponse(
        V2.password,
        nt,
        V2.peerChallenge,
        V2.authenticatorChallenge,
        V2.userName,
      ),
      V2.authenticatorResponse,
    );
    assert.equal(
      generateAuthenticatorResponseFromHash(
        fromHex(V2.passwordHash),
        nt,
        V2.peerChallenge,
        V2.authenticatorChallenge,
        'User',
      ),
      V2.authenticatorResponse,
    );
  });
  it('CheckAuthenticatorResponse accepts the right response (string, bytes, lower-case hex)', () => {
    const nt = fromHex(V2.ntResponse);
    const args = [nt, V2.peerChallenge, V2.authenticatorChallenge, V2.userName] as const;
    assert.equal(checkAuthenticatorResponse(V2.password, ...args, V2.authenticatorResponse), true);
    assert.equal(checkAuthenticatorResponse(V2.password, ...args, utf8(V2.authenticatorResponse)), true);
    assert.equal(
      checkAuthenticatorResponseFromHash(
        fromHex(V2.passwordHash),
        ...args,
        `S=${V2.authenticatorResponse.slice(2).toLowerCase()}`,
      ),
      true,
    );
  });
  it('CheckAuthenticatorResponse rejects a wrong password, a flipped digit and malformed strings', () => {
    const nt = fromHex(V2.ntResponse);
    const args = [nt, V2.peerChallenge, V2.authenticatorChallenge, V2.userName] as const;
    assert.equal(checkAuthenticatorResponse('clientPasS', ...args, V2.authenticatorResponse), false);
    const flipped = `${V2.authenticatorResponse.slice(0, 41)}7`;
    assert.equal(checkAuthenticatorResponse(V2.password, ...args, flipped), false);
    for (const bad of [
      '',
      'S=',
      V2.authenticatorResponse.slice(0, 41),
      `${V2.authenticatorResponse}0`,
      `X${V2.authenticatorResponse.slice(1)}`,
      `S=${'G'.repeat(40)}`,
    ]) {
      assert.equal(checkAuthenticatorResponse(V2.password, ...args, bad), false, JSON.stringify(bad));
      assert.equal(parseAuthenticatorResponse(bad), undefined);
    }
  });
  it('ChallengeHash drops a DOMAIN\\ prefix from the user name (RFC 2759 §8.2)', () => {
    assert.equal(toHex(challengeHashUserName('CORP\\User')), toHex(V2.userName));
    assert.equal(toHex(challengeHashUserName('a\\b\\User')), toHex(V2.userName));
    assert.equal(
      toHex(generateNtResponse(V2.authenticatorChallenge, V2.peerChallenge, 'CORP\\User', V2.password)),
      hex(V2.ntResponse),
    );
  });
  it('password change: the authenticator recovers the new password from the PWBLOCK (§8.9/§8.10)', () => {
    const random = new Uint8Array(512).map((_, i) => (i * 37 + 11) & 0xff);
    const block = newPasswordEncryptedWithOldNtPasswordHash('n3w-Pässword', 'clientPass', random);
    assert.equal(block.length, 516);
    assert.equal(decryptPwBlockWithPasswordHash(block, ntPasswordHash('clientPass')), 'n3w-Pässword');
    assert.equal(decryptPwBlockWithPasswordHash(block, ntPasswordHash('wrong')), undefined);
    assert.equal(decryptPwBlockWithPasswordHash(block.subarray(1), ntPasswordHash('clientPass')), undefined);
  });
  it('password change: §8.12 equals §8.13 over the two hashes', () => {
    assert.equal(
      toHex(oldNtPasswordHashEncryptedWithNewNtPasswordHash('new', 'clientPass')),
      toHex(ntPasswordHashEncryptedWithBlock(ntPasswordHash('clientPass'), ntPasswordHash('new'))),
    );
  });
});
