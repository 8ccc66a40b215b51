/**
 * The pure parts of the FreeRADIUS SQL harness: the two Debian 3.2.1 query
 * corrections, the SQL it writes for users and pools, and how radclient's
 * `-x` output is paired with the requests (retransmissions, reused
 * Identifiers, requests never answered). The harness itself runs in
 * test/system/radius-sql.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fixDebianQueries, poolStatements, sqlString, userStatements } from '../helpers/freeradius-sql.js';
import { matchReplies, parseRadclientOutput } from '../helpers/radclient.js';

// The shape of the two queries in Debian 12's 3.2.1 files.
const IPPOOL_321 = `allocate_find = "\\
\tSELECT framedipaddress \\
\tFROM \${ippool_table} \\
\tWHERE pool_name = '%{control:\${pool_name}}' \\
\texpiry_time < datetime('now') \\
\tORDER BY expiry_time \\
\tLIMIT 1"
`;
const MAIN_321 = `simul_count_query = "\\
\tSELECT COUNT(*) \\
\tWHERE username = '%{SQL-User-Name}' \\
\tAND acctstoptime IS NULL"
simul_verify_query = "\\
\tSELECT radacctid, acctsessionid, username \\
\tFROM \${acct_table1} a \\
\tWHERE username = '%{\${group_attribute}}' \\
\tAND acctstoptime IS NULL"
authorize_group_check_query = "\\
\tSELECT id FROM \${groupcheck_table} \\
\tWHERE groupname = '%{\${group_attribute}}'"
`;

describe('fixDebianQueries', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const raddb = (ippool: string, main: string) => {
    const d = mkdtempSync(join(tmpdir(), `pptp-ts-sqlfix-${process.pid}-`));
    dirs.push(d);
    for (const [sub, text] of [
      ['ippool', ippool],
      ['main', main],
    ] as const) {
      const dir = join(d, 'mods-config', 'sql', sub, 'sqlite');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'queries.conf'), text);
    }
    return d;
  };
  const read = (d: string, sub: string) =>
    readFileSync(join(d, 'mods-config', 'sql', sub, 'sqlite', 'queries.conf'), 'utf8');

  it('adds the missing AND to allocate_find and makes simul_verify_query select by SQL-User-Name', () => {
    const d = raddb(IPPOOL_321, MAIN_321);
    fixDebianQueries(d);
    assert.equal(
      read(d, 'ippool'),
      IPPOOL_321.replace("\texpiry_time < datetime('now')", "\tAND expiry_time < datetime('now')"),
    );
    const main = read(d, 'main');
    assert.equal(
      main,
      MAIN_321.replace(
        `FROM \${acct_table1} a \\\n\tWHERE username = '%{\${group_attribute}}'`,
        `FROM \${acct_table1} a \\\n\tWHERE username = '%{SQL-User-Name}'`,
      ),
    );
    // The group queries keep their group attribute.
    assert.match(main, /groupname = '%\{\$\{group_attribute\}\}'/);
  });

  it('leaves corrected files as they are (FreeRADIUS 3.2.2 and later)', () => {
    const d = raddb(IPPOOL_321, MAIN_321);
    fixDebianQueries(d);
    const [ippool, main] = [read(d, 'ippool'), read(d, 'main')];
    fixDebianQueries(d);
    assert.equal(read(d, 'ippool'), ippool);
    assert.equal(read(d, 'main'), main);
  });

  it('refuses a query in neither form', () => {
    assert.throws(
      () => fixDebianQueries(raddb(IPPOOL_321.replace('expiry_time <', 'expiry_time <='), MAIN_321)),
      /allocate_find is neither/,
    );
    assert.throws(
      () =>
        fixDebianQueries(
          raddb(IPPOOL_321, MAIN_321.replace(`'%{\${group_attribute}}' \\\n\tAND`, "'x' \\\n\tAND")),
        ),
      /simul_verify_query is neither/,
    );
  });
});

describe('harness SQL', () => {
  it('quotes values, and refuses attribute names and operators that are not', () => {
    assert.equal(sqlString("o'brien"), "'o''brien'");
    assert.deepEqual(
      userStatements({
        name: "o'b",
        password: "p'w",
        simultaneousUse: 1,
        pool: 'p',
        reply: [['Session-Timeout', '=', 60]],
      }),
      [
        "INSERT INTO radcheck (username, attribute, op, value) VALUES ('o''b', 'Cleartext-Password', ':=', 'p''w');",
        "INSERT INTO radcheck (username, attribute, op, value) VALUES ('o''b', 'Simultaneous-Use', ':=', '1');",
        "INSERT INTO radcheck (username, attribute, op, value) VALUES ('o''b', 'Pool-Name', ':=', 'p');",
        "INSERT INTO radreply (username, attribute, op, value) VALUES ('o''b', 'Session-Timeout', '=', '60');",
      ],
    );
    assert.throws(
      () => userStatements({ name: 'u', password: 'p', reply: [["X'; DROP TABLE radcheck; --", '=', 1]] }),
      /attribute name/,
    );
    assert.throws(
      () => userStatements({ name: 'u', password: 'p', check: [['Auth-Type', ';', 'Accept']] }),
      /operator/,
    );
  });

  it('pool rows carry their own ids and an expiry in the past', () => {
    const [row] = poolStatements('p', ['10.0.0.1']);
    assert.match(
      row!,
      /\(SELECT COALESCE\(MAX\(id\), 0\) \+ 1 FROM radippool\), 'p', '10\.0\.0\.1', '2000-01-01 00:00:00'\)/,
    );
  });
});

describe('radclient output', () => {
  const sent = (id: number, user: string, port = 5000) =>
    `Sent Access-Request Id ${id} from 0.0.0.0:${port} to 10.77.0.1:1812 length 40\n\tUser-Name = "${user}"\n`;
  const got = (id: number, code: string, attrs: string, port = 5000) =>
    `Received ${code} Id ${id} from 10.77.0.1:1812 to 10.77.1.2:${port} length 30\n${attrs}`;

  it('pairs replies with requests through retransmissions, reused Identifiers and silence', () => {
    const out = [
      sent(7, 'a'),
      sent(8, 'b'),
      sent(7, 'a'), // a retransmission
      got(8, 'Access-Reject', '\tReply-Message = "say \\"no\\""\n'),
      sent(8, 'c'), // Identifier 8 again, for the next request
      sent(8, 'd', 6000), // the same Identifier from another socket
      got(7, 'Access-Accept', '\tFramed-IP-Address = 10.80.0.9\n\tSession-Timeout = 60\n'),
      got(8, 'Access-Accept', '', 6000),
      '(2) No reply from server for ID 8 socket 3\n',
    ].join('');
    const replies = matchReplies(parseRadclientOutput(out), 4);
    assert.ok(replies);
    assert.deepEqual(
      replies.map((r) => r?.code),
      ['Access-Accept', 'Access-Reject', undefined, 'Access-Accept'],
    );
    assert.equal(replies[0]!.get('Framed-IP-Address'), '10.80.0.9');
    assert.equal(replies[0]!.get('Session-Timeout'), '60');
    assert.equal(replies[1]!.get('Reply-Message'), 'say "no"');
  });

  it('reports requests radclient never sent, and refuses replies to nothing', () => {
    assert.equal(matchReplies(parseRadclientOutput(sent(1, 'a')), 2), undefined);
    assert.throws(() => matchReplies(parseRadclientOutput(got(3, 'Access-Accept', '')), 1), /no request/);
  });
});
