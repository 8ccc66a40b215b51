import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  lookupSecret,
  parseSecrets,
  type SecretEntry,
  SecretsFileError,
} from '../../src/server/chap-secrets.js';
import { parseIpv4 } from '../../src/wire/bytes.js';

const ip = (s: string) => parseIpv4(s)!;

const FILE = `# Secrets for authentication using CHAP
# client        server      secret                  IP addresses
alice           *           "correct horse"         10.0.0.10
"bob smith"     pptp-ts     s3cr\\"et                *
*               pptp-ts     guestpw                 10.0.0.0/28 !10.0.0.1
carol           other       carolpw
dave            *           'it''s'   -   # trailing comment
"*"             *           literal-star
`;

describe('chap-secrets parsing (pppd format)', () => {
  const entries = parseSecrets(FILE, { fileName: 'chap-secrets' });
  it('reads every entry with quotes, escapes and comments', () => {
    assert.equal(entries.length, 6);
    assert.deepEqual(
      entries.map((e) => [e.client, e.server, e.secret, e.line]),
      [
        ['alice', undefined, 'correct horse', 3],
        ['bob smith', 'pptp-ts', 's3cr"et', 4],
        [undefined, 'pptp-ts', 'guestpw', 5],
        ['carol', 'other', 'carolpw', 6],
        ['dave', undefined, 'its', 7],
        ['*', undefined, 'literal-star', 8],
      ],
    );
  });
  it('parses address policies', () => {
    assert.deepEqual(entries[0]!.addresses.fixed, [ip('10.0.0.10')]);
    assert.deepEqual(entries[1]!.addresses, { none: false, fixed: [], allow: [], deny: [] });
    assert.deepEqual(entries[2]!.addresses.allow, [{ address: ip('10.0.0.0'), prefixLength: 28 }]);
    assert.deepEqual(entries[2]!.addresses.deny, [{ address: ip('10.0.0.1'), prefixLength: 32 }]);
    assert.equal(entries[4]!.addresses.none, true);
  });
  it('looks up the most specific entry', () => {
    assert.equal(lookupSecret(entries, 'alice', 'pptp-ts')?.secret, 'correct horse');
    assert.equal(lookupSecret(entries, 'bob smith', 'pptp-ts')?.secret, 's3cr"et');
    assert.equal(lookupSecret(entries, 'bob smith', 'elsewhere')?.secret, undefined);
    assert.equal(lookupSecret(entries, 'mallory', 'pptp-ts')?.secret, 'guestpw', 'wildcard client');
    assert.equal(lookupSecret(entries, 'carol', 'pptp-ts'), entries[2], 'carol only for server "other"');
    assert.equal(lookupSecret(entries, 'carol', 'other')?.secret, 'carolpw');
    assert.equal(lookupSecret(entries, '*', 'x')?.secret, 'literal-star', 'a quoted * is a name');
    assert.equal(lookupSecret(entries, 'nobody', 'x'), undefined);
  });
  it('reads @file secrets through the given reader only', () => {
    const e = parseSecrets('u * @/etc/pw\n', { readSecretFile: (p) => `from ${p}\nsecond line` });
    assert.equal(e[0]!.secret, 'from /etc/pw');
    assert.throws(() => parseSecrets('u * @/etc/pw\n'), /not allowed/);
  });
  it('names the line of a bad entry', () => {
    assert.throws(() => parseSecrets('ok * pw\nshort entry\n', { fileName: 'f' }), /f:2: expected/);
    assert.throws(
      () => parseSecrets('u * pw host.example\n'),
      (e: Error) => e instanceof SecretsFileError && /:1:/.test(e.message),
    );
    assert.throws(() => parseSecrets('u * "unterminated\n'), /unterminated quote/);
    assert.throws(() => parseSecrets('u * pw - 10.0.0.1\n'), /cannot be combined/);
    assert.throws(() => parseSecrets('u * pw 10.0.0.0/33\n'), /prefix length/);
  });
});

describe('lookupSecret over its index', () => {
  /** pppd's order spelled out as a score over every line: a named client 2, a named server 1, the first line wins a tie. */
  function byScore(entries: readonly SecretEntry[], client: string, server: string): SecretEntry | undefined {
    let best: SecretEntry | undefined;
    let bestScore = -1;
    for (const e of entries) {
      const c = e.client === undefined ? 0 : e.client === client ? 2 : -1;
      const s = e.server === undefined ? 0 : e.server === server ? 1 : -1;
      if (c < 0 || s < 0) continue;
      if (c + s > bestScore) {
        best = e;
        bestScore = c + s;
      }
    }
    return best;
  }

  it('picks the same line as scoring every line, over 2,000 random files', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 16) % n;
    };
    const names = ['a', 'b', 'c', '*'];
    const servers = ['s', 't', '*'];
    for (let round = 0; round < 2000; round++) {
      const lines = Array.from(
        { length: 1 + rnd(8) },
        (_, i) => `${names[rnd(4)]} ${servers[rnd(3)]} pw${i}`,
      ).join('\n');
      const entries = parseSecrets(lines);
      for (const client of ['a', 'b', 'c', 'z']) {
        for (const server of ['s', 't', 'u']) {
          assert.equal(
            lookupSecret(entries, client, server),
            byScore(entries, client, server),
            `${lines}\n→ ${client} ${server}`,
          );
        }
      }
    }
  });

  it('sees a line added to a list it has already indexed', () => {
    const entries = parseSecrets('* * any');
    assert.equal(lookupSecret(entries, 'erin', 'pptp-ts')?.secret, 'any');
    entries.push(...parseSecrets('erin * own'));
    assert.equal(lookupSecret(entries, 'erin', 'pptp-ts')?.secret, 'own');
  });
});
