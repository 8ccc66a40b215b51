/**
 * The SQL side of the test FreeRADIUS (test/helpers/freeradius.ts, option
 * `sql`): an SQLite database made with the `sqlite3` command from
 * FreeRADIUS's own schema files, the `sql` and `sqlippool` module
 * configurations, the two query fixes Debian's 3.2.1 needs, and helpers that
 * write users and pools and read radacct rows and pool leases.
 *
 * Why the `sqlite3` command and not an npm package: Node 20 has no
 * `node:sqlite`, the npm bindings are native addons built at install time,
 * and the CLI is the same library FreeRADIUS links against (docs/radius.md).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './netns.js';

export const SQLITE_INSTALL = 'apt-get install -y sqlite3';

export interface FreeRadiusSqlOptions {
  /** Address pools: name → the addresses in it (each free from the start). */
  readonly pools?: Readonly<Record<string, readonly string[]>>;
  /** sqlippool `lease_duration` in seconds. Default 3600. */
  readonly leaseSeconds?: number;
}

/** One radcheck/radreply row: attribute, operator, value. */
export type SqlAvp = readonly [attribute: string, op: string, value: string | number];

export interface SqlUser {
  readonly name: string;
  /** radcheck `Cleartext-Password :=`. */
  readonly password: string;
  /** radcheck `Simultaneous-Use :=` (checked by the `session` section with `sql`). */
  readonly simultaneousUse?: number;
  /** radcheck `Pool-Name :=`: sqlippool allocates Framed-IP-Address from this pool. */
  readonly pool?: string;
  /** More radcheck rows. */
  readonly check?: readonly SqlAvp[];
  /** radreply rows, e.g. `['Session-Timeout', '=', 3600]`. */
  readonly reply?: readonly SqlAvp[];
  /** radusergroup rows. */
  readonly groups?: readonly string[];
}

/** A radacct row as SQLite returns it (times are Unix seconds: the sqlite dialect stores Event-Timestamp). */
export interface RadacctRow {
  radacctid: number;
  acctsessionid: string;
  acctuniqueid: string;
  username: string;
  nasipaddress: string;
  nasportid: string | null;
  acctstarttime: number | string | null;
  acctupdatetime: number | string | null;
  acctstoptime: number | string | null;
  acctsessiontime: number | null;
  acctinputoctets: number | null;
  acctoutputoctets: number | null;
  callingstationid: string;
  acctterminatecause: string;
  framedipaddress: string;
  [column: string]: unknown;
}

/** A radippool row, with `active` = its expiry time is still in the future. */
export interface LeaseRow {
  pool_name: string;
  framedipaddress: string;
  nasipaddress: string;
  pool_key: string;
  username: string;
  callingstationid: string;
  expiry_time: string;
  active: boolean;
}

export interface FreeRadiusSql {
  /** The SQLite database file. */
  readonly dbPath: string;
  addUser(user: SqlUser): Promise<void>;
  addPool(name: string, addresses: readonly string[]): Promise<void>;
  radacct(where?: string): Promise<RadacctRow[]>;
  leases(pool?: string): Promise<LeaseRow[]>;
  /** Any statement; rows of a SELECT as objects. */
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
}

const OPS = new Set(['=', ':=', '==', '+=', '!=', '>', '>=', '<', '<=', '=~', '!~', '=*', '!*']);

/** An SQL string literal. */
export function sqlString(v: string | number): string {
  return `'${String(v).replace(/'/g, "''")}'`;
}

function avpRow(table: 'radcheck' | 'radreply', user: string, [attr, op, value]: SqlAvp): string {
  if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(attr)) throw new TypeError(`bad attribute name: ${attr}`);
  if (!OPS.has(op)) throw new TypeError(`bad operator: ${op}`);
  return `INSERT INTO ${table} (username, attribute, op, value) VALUES (${sqlString(user)}, ${sqlString(
    attr,
  )}, ${sqlString(op)}, ${sqlString(value)});`;
}

/** The statements that add `user` (users are added once; add a new name for a new user). */
export function userStatements(u: SqlUser): string[] {
  const check: SqlAvp[] = [['Cleartext-Password', ':=', u.password]];
  if (u.simultaneousUse !== undefined) check.push(['Simultaneous-Use', ':=', u.simultaneousUse]);
  if (u.pool !== undefined) check.push(['Pool-Name', ':=', u.pool]);
  check.push(...(u.check ?? []));
  return [
    ...check.map((a) => avpRow('radcheck', u.name, a)),
    ...(u.reply ?? []).map((a) => avpRow('radreply', u.name, a)),
    ...(u.groups ?? []).map(
      (g) => `INSERT INTO radusergroup (username, groupname) VALUES (${sqlString(u.name)}, ${sqlString(g)});`,
    ),
  ];
}

/** Pool rows, free from the start: an expiry time in the past (sqlippool takes only `expiry_time < now`). */
export function poolStatements(name: string, addresses: readonly string[]): string[] {
  return addresses.map(
    (a) =>
      // The schema's id is `int(11) PRIMARY KEY`, which SQLite does not number by itself.
      `INSERT INTO radippool (id, pool_name, framedipaddress, expiry_time) VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM radippool), ${sqlString(name)}, ${sqlString(
        a,
      )}, '2000-01-01 00:00:00');`,
  );
}

/** Runs SQL with the sqlite3 command (waits up to 10 s on a lock FreeRADIUS holds); `-json` rows. */
export async function sqlite<T>(db: string, sql: string): Promise<T[]> {
  const r = await run(['sqlite3', '-bail', '-json', '-cmd', '.timeout 10000', db, sql], {
    timeoutMs: 30_000,
  });
  const text = r.stdout.trim();
  return text ? (JSON.parse(text) as T[]) : [];
}

export function sqlHandle(dbPath: string): FreeRadiusSql {
  return {
    dbPath,
    addUser: async (u) => {
      await sqlite(dbPath, `BEGIN; ${userStatements(u).join(' ')} COMMIT;`);
    },
    addPool: async (name, addresses) => {
      await sqlite(dbPath, `BEGIN; ${poolStatements(name, addresses).join(' ')} COMMIT;`);
    },
    radacct: (where) =>
      sqlite<RadacctRow>(
        dbPath,
        `SELECT * FROM radacct${where ? ` WHERE ${where}` : ''} ORDER BY radacctid;`,
      ),
    leases: async (pool) => {
      const rows = await sqlite<Omit<LeaseRow, 'active'> & { active: number }>(
        dbPath,
        `SELECT pool_name, framedipaddress, nasipaddress, pool_key, username, callingstationid, expiry_time,
           expiry_time > datetime('now') AS active FROM radippool${
             pool === undefined ? '' : ` WHERE pool_name = ${sqlString(pool)}`
           } ORDER BY id;`,
      );
      return rows.map((r) => ({ ...r, active: r.active === 1 }));
    },
    query: (sql) => sqlite(dbPath, sql),
  };
}

/**
 * Debian 12's FreeRADIUS 3.2.1 ships two broken SQLite queries; the copy in
 * `raddb` gets them corrected (the text must be either the broken or the
 * corrected form, anything else is an error so a changed upstream file is noticed):
 *
 * - ippool/sqlite `allocate_find` lacks the AND between the pool name and the
 *   expiry time, so every allocation is an SQL syntax error (fixed in 3.2.2);
 * - main/sqlite `simul_verify_query` selects the sessions whose username is
 *   the user's SQL-Group instead of SQL-User-Name, finds none, and so
 *   Simultaneous-Use never rejects (MySQL and PostgreSQL use SQL-User-Name).
 */
export function fixDebianQueries(raddb: string): void {
  const ippool = join(raddb, 'mods-config', 'sql', 'ippool', 'sqlite', 'queries.conf');
  const broken = /(pool_name = '%\{control:\$\{pool_name\}\}' \\\n\s*)(expiry_time < datetime\('now'\))/;
  const fixed = /pool_name = '%\{control:\$\{pool_name\}\}' \\\n\s*AND expiry_time < datetime\('now'\)/;
  let text = readFileSync(ippool, 'utf8');
  if (broken.test(text)) writeFileSync(ippool, text.replace(broken, '$1AND $2'));
  else if (!fixed.test(text))
    throw new Error(`${ippool}: allocate_find is neither the 3.2.1 nor the fixed form`);

  const main = join(raddb, 'mods-config', 'sql', 'main', 'sqlite', 'queries.conf');
  text = readFileSync(main, 'utf8');
  const verify = /(simul_verify_query = "[^"]*?WHERE username = ')%\{\$\{group_attribute\}\}'/;
  if (verify.test(text)) writeFileSync(main, text.replace(verify, "$1%{SQL-User-Name}'"));
  else if (!/simul_verify_query = "[^"]*?WHERE username = '%\{SQL-User-Name\}'/.test(text))
    throw new Error(`${main}: simul_verify_query is neither the 3.2.1 nor the fixed form`);
}

/** mods-enabled/sql: rlm_sql_sqlite on `db`, Debian's sqlite dialect queries (corrected). */
export function sqlModule(db: string): string {
  return `sql {
\tdialect = "sqlite"
\tdriver = "rlm_sql_sqlite"
\tsqlite {
\t\tfilename = "${db}"
\t\t# milliseconds a connection waits for another's lock (sqlippool takes an exclusive one)
\t\tbusy_timeout = 10000
\t}
\tradius_db = "radius"
\tacct_table1 = "radacct"
\tacct_table2 = "radacct"
\tpostauth_table = "radpostauth"
\tauthcheck_table = "radcheck"
\tgroupcheck_table = "radgroupcheck"
\tauthreply_table = "radreply"
\tgroupreply_table = "radgroupreply"
\tusergroup_table = "radusergroup"
\tdelete_stale_sessions = yes
\tread_clients = no
\tclient_table = "nas"
\tgroup_attribute = "SQL-Group"
\tpool {
\t\tstart = 1
\t\tmin = 1
\t\tmax = 32
\t\tspare = 4
\t\tuses = 0
\t\tretry_delay = 1
\t\tlifetime = 0
\t\tidle_timeout = 60
\t}
\t$INCLUDE \${modconfdir}/\${.:name}/main/\${dialect}/queries.conf
}
`;
}

/** mods-enabled/sqlippool: leases keyed by NAS-IP-Address + NAS-Port, the pool named by control:Pool-Name. */
export function sqlippoolModule(leaseSeconds: number): string {
  return `sqlippool {
\tsql_module_instance = "sql"
\tdialect = "sqlite"
\tippool_table = "radippool"
\tlease_duration = ${leaseSeconds}
\tpool_name = "Pool-Name"
\tattribute_name = Framed-IP-Address
\treq_attribute_name = Framed-IP-Address
\tpool_key = "%{NAS-Port}"
\tallocate_clear_timeout = 1
\t$INCLUDE \${modconfdir}/sql/ippool/\${dialect}/queries.conf
}
`;
}

/** Creates `db` from FreeRADIUS's schema files (main + ippool) under `raddb`, then the pools. */
export async function createDatabase(raddb: string, db: string, opts: FreeRadiusSqlOptions): Promise<void> {
  const schema = (p: string) => join(raddb, 'mods-config', 'sql', p, 'sqlite', 'schema.sql');
  await run(['sqlite3', '-bail', db, `.read ${schema('main')}`, `.read ${schema('ippool')}`], {
    timeoutMs: 30_000,
  });
  const pools = Object.entries(opts.pools ?? {});
  if (pools.length) {
    await sqlite(db, `BEGIN; ${pools.flatMap(([n, a]) => poolStatements(n, a)).join(' ')} COMMIT;`);
  }
}
