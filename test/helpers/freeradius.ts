/**
 * A FreeRADIUS 3.2 (Debian `freeradius`) for tests: a copy of
 * /etc/freeradius/3.0 in a scratch directory, rewritten to use its own log
 * and run directories, one virtual server, our clients.conf and users file,
 * no EAP (it needs certificates a fresh install lacks), no `-X` (its debug
 * output slows the server under load). Started as
 * `freeradius -f -d DIR -l stdout`, stopped by PID, the directory removed,
 * even when the test fails.
 *
 * By default it listens on 127.0.0.1 at free ports. With `netns` it runs
 * inside that network namespace (spawned by the lab, so the lab's clean-up
 * kills it too) on the given address at 1812/1813 (and 3799 with `coa`),
 * reachable from the lab's other namespaces. With `sql` users, accounting,
 * Simultaneous-Use and an address pool live in SQLite
 * (test/helpers/freeradius-sql.ts).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createDatabase,
  type FreeRadiusSql,
  type FreeRadiusSqlOptions,
  fixDebianQueries,
  SQLITE_INSTALL,
  sqlHandle,
  sqlippoolModule,
  sqlModule,
} from './freeradius-sql.js';
import type { NetnsLab, Spawned } from './netns.js';

export const FREERADIUS_INSTALL = 'apt-get install -y freeradius freeradius-utils';

export interface FreeRadiusOptions {
  readonly secret: string;
  /** The `files` module's users file (mods-config/files/authorize). Default empty. */
  readonly users?: string;
  /** clients.conf `require_message_authenticator`. Default yes. */
  readonly requireMessageAuthenticator?: boolean;
  /**
   * Put a Message-Authenticator in every Access reply (post-auth `update
   * reply`). FreeRADIUS before 3.2.5 signs a reply only when it carries the
   * attribute. Default yes.
   */
  readonly replyMessageAuthenticator?: boolean;
  /** Users, accounting, Simultaneous-Use and an address pool in SQLite. */
  readonly sql?: FreeRadiusSqlOptions;
  /**
   * Run inside `ns` of `lab`, listening on `address` (one of the namespace's own) at the standard ports.
   * Any lab that spawns into a namespace will do (the bench's own lab too).
   */
  readonly netns?: {
    readonly lab: Pick<NetnsLab, 'spawn'>;
    readonly ns: string;
    readonly address: string;
  };
  /**
   * radiusd.conf `log { auth = yes }`: one `Auth: (N) Login OK: [user...] (from client ... port P cli C)`
   * or `Login incorrect` line per Access-Request in {@link FreeRadius.output}. Default no.
   */
  readonly logAuth?: boolean;
  /**
   * The NAS addresses or prefixes clients.conf accepts (all with `secret`).
   * Default 127.0.0.1, or 0.0.0.0/0 inside a namespace.
   */
  readonly clients?: readonly string[];
  /**
   * Also listen for CoA-Request and Disconnect-Request (RFC 5176) at `coaPort`
   * and ACK them, or NAK with Error-Cause Session-Context-Not-Found when
   * User-Name is `unknown-session`: a stand-in NAS for DAS-client tests.
   */
  readonly coa?: boolean;
  /** How long it may take to be ready, ms (default 60 s: a loaded machine is slow to start it). */
  readonly readyTimeoutMs?: number;
}

export interface FreeRadius {
  readonly dir: string;
  /** The address it listens on. */
  readonly host: string;
  /** The freeradius process (inside the namespace with `netns`). */
  readonly pid: number;
  readonly authPort: number;
  readonly acctPort: number;
  /** With `coa`: the CoA/Disconnect port. */
  readonly coaPort?: number;
  /** With `sql`: the database. */
  readonly sql?: FreeRadiusSql;
  /** stdout + stderr of the server so far. */
  output(): string;
  /** The `detail` module's accounting records (all files under radacct/). */
  accountingDetail(): string;
  /** Stops the server and keeps its directory and ports (an outage); {@link resume} starts it again. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/** Fails with the install line when the binaries are missing. */
export function requireFreeRadius(sql = false): void {
  for (const bin of ['freeradius', 'radclient', ...(sql ? ['sqlite3'] : [])]) {
    const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0)
      throw new Error(`${bin} is not installed (${bin === 'sqlite3' ? SQLITE_INSTALL : FREERADIUS_INSTALL})`);
  }
}

/** A UDP port free right now on 127.0.0.1. */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve());
  });
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/**
 * sqlippool answers an Interim-Update whose lease it cannot find (a session
 * without a pool address) with `notfound`, which would end the accounting
 * section with `notfound`: no Accounting-Response, and the NAS retries the
 * record for ever. Priority 1 keeps the `ok` of `sql`, which did record it.
 */
const ACCT_SQL = '\tsql\n\tsqlippool {\n\t\tnotfound = 1\n\t}\n';

interface SiteOptions {
  readonly host: string;
  readonly authPort: number;
  readonly acctPort: number;
  readonly coaPort?: number;
  readonly replyMa: boolean;
  readonly sql: boolean;
}

function site(o: SiteOptions): string {
  const ma = o.replyMa ? '\t\tupdate reply {\n\t\t\t&Message-Authenticator := 0x00\n\t\t}\n' : '';
  const listen = (type: string, port: number) =>
    `listen {\n\ttype = ${type}\n\tipaddr = ${o.host}\n\tport = ${port}\n}\n`;
  // An exhausted pool (sqlippool: notfound) turns the Accept into a Reject;
  // a user without Pool-Name (noop) is accepted without an address.
  const ippool = o.sql
    ? `\tsqlippool {
\t\tnotfound = 1
\t}
\tif (notfound) {
\t\tupdate reply {
\t\t\tReply-Message := "No address left in pool %{control:Pool-Name}"
\t\t}
\t\treject
\t}
`
    : '';
  const coa =
    o.coaPort === undefined
      ? ''
      : `recv-coa {
\tif (&User-Name == "unknown-session") {
\t\tupdate reply {
\t\t\t&Error-Cause := Session-Context-Not-Found
\t\t}
\t\treject
\t}
\tok
}
send-coa {
\tok
}
`;
  return `server test {
${listen('auth', o.authPort)}${listen('acct', o.acctPort)}${o.coaPort === undefined ? '' : listen('coa', o.coaPort)}authorize {
\tchap
\tmschap
\tfiles
${o.sql ? '\tsql\n' : ''}\tpap
}
authenticate {
\tAuth-Type PAP {
\t\tpap
\t}
\tAuth-Type CHAP {
\t\tchap
\t}
\tAuth-Type MS-CHAP {
\t\tmschap
\t}
}
preacct {
\tacct_unique
}
accounting {
\tdetail
${o.sql ? ACCT_SQL : ''}}
${o.sql ? 'session {\n\tsql\n}\n' : ''}post-auth {
${ippool}${ma.replace(/^\t/gm, '')}\tPost-Auth-Type REJECT {
\t\tupdate reply {
\t\t\tReply-Message ${o.sql ? '=' : ':='} "Wrong password for %{User-Name}"
\t\t}
${ma}\t}
}
${coa}}
`;
}

export async function startFreeRadius(opts: FreeRadiusOptions): Promise<FreeRadius> {
  requireFreeRadius(opts.sql !== undefined);
  const dir = mkdtempSync(join(tmpdir(), `pptp-ts-freeradius-${process.pid}-`));
  let child: ChildProcess | undefined;
  let inNs: Spawned | undefined;
  let out = '';
  /** Output of namespaced runs that have ended (pause). */
  let earlier = '';
  // If the test process ends without stop() (a crash, a signal), the server
  // and its directory still go (a lab's own hook kills a namespaced one).
  const onExit = () => {
    if (child?.pid && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {}
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', onExit);
  /** Ends the running server, keeping its directory and ports (an outage when resumed later). */
  const halt = async () => {
    if (inNs) {
      const s = inNs;
      inNs = undefined;
      await s.kill();
      earlier += s.stdout() + s.stderr();
    } else if (child && child.exitCode === null && child.signalCode === null && child.pid) {
      const c = child;
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      process.kill(c.pid!, 'SIGTERM');
      const t = setTimeout(() => {
        if (c.exitCode === null && c.signalCode === null) process.kill(c.pid!, 'SIGKILL');
      }, 3000);
      await exited;
      clearTimeout(t);
    }
  };
  const stop = async () => {
    process.off('exit', onExit);
    await halt();
    rmSync(dir, { recursive: true, force: true });
  };
  let launch = async (): Promise<void> => {};
  try {
    const raddb = join(dir, 'raddb');
    cpSync('/etc/freeradius/3.0', raddb, { recursive: true, verbatimSymlinks: true });
    mkdirSync(join(dir, 'log'));
    mkdirSync(join(dir, 'run'));
    const conf = join(raddb, 'radiusd.conf');
    const text = readFileSync(conf, 'utf8')
      .replace(/^raddbdir = .*$/m, `raddbdir = ${raddb}`)
      .replace(/^logdir = .*$/m, `logdir = ${join(dir, 'log')}`)
      .replace(/^run_dir = .*$/m, `run_dir = ${join(dir, 'run')}`)
      // Stay the user that started it: the scratch directory is ours.
      .replace(/^\s*(user|group) = freerad\s*$/gm, '');
    writeFileSync(conf, opts.logAuth ? text.replace(/^([ \t]*)auth = no[ \t]*$/m, '$1auth = yes') : text);
    for (const f of readdirSync(join(raddb, 'sites-enabled'))) rmSync(join(raddb, 'sites-enabled', f));
    rmSync(join(raddb, 'mods-enabled', 'eap'), { force: true });
    let host = '127.0.0.1';
    let authPort = 1812;
    let acctPort = 1813;
    let coaPort: number | undefined = opts.coa ? 3799 : undefined;
    if (opts.netns) {
      host = opts.netns.address;
    } else {
      const taken = new Set<number>();
      const pick = async () => {
        let p = await freeUdpPort();
        while (taken.has(p)) p = await freeUdpPort();
        taken.add(p);
        return p;
      };
      authPort = await pick();
      acctPort = await pick();
      if (opts.coa) coaPort = await pick();
    }
    writeFileSync(
      join(raddb, 'sites-enabled', 'test'),
      site({
        host,
        authPort,
        acctPort,
        ...(coaPort === undefined ? {} : { coaPort }),
        replyMa: opts.replyMessageAuthenticator !== false,
        sql: opts.sql !== undefined,
      }),
    );
    const clients = opts.clients ?? [opts.netns ? '0.0.0.0/0' : '127.0.0.1'];
    writeFileSync(
      join(raddb, 'clients.conf'),
      clients
        .map(
          (ip, i) =>
            `client ${i === 0 ? 'local' : `nas${i}`} {\n\tipaddr = ${ip}\n\tsecret = ${opts.secret}\n\trequire_message_authenticator = ${
              opts.requireMessageAuthenticator === false ? 'no' : 'yes'
            }\n}\n`,
        )
        .join(''),
    );
    writeFileSync(join(raddb, 'mods-config', 'files', 'authorize'), opts.users ?? '');
    let sql: FreeRadiusSql | undefined;
    if (opts.sql) {
      const db = join(dir, 'radius.sqlite');
      fixDebianQueries(raddb);
      writeFileSync(join(raddb, 'mods-enabled', 'sql'), sqlModule(db));
      writeFileSync(join(raddb, 'mods-enabled', 'sqlippool'), sqlippoolModule(opts.sql.leaseSeconds ?? 3600));
      await createDatabase(raddb, db, opts.sql);
      sql = sqlHandle(db);
    }
    const argv = ['freeradius', '-f', '-d', raddb, '-l', 'stdout'];
    const startMs = opts.readyTimeoutMs ?? 60_000;
    launch = async () => {
      if (opts.netns) {
        const s = opts.netns.lab.spawn(opts.netns.ns, argv);
        inNs = s;
        await s.waitFor(/Ready to process requests/, startMs).catch((e: Error) => {
          throw new Error(`freeradius did not start in ${opts.netns!.ns}: ${e.message}\n${s.stdout()}`);
        });
        return;
      }
      const from = out.length;
      child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.stderr!.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const c = child;
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`freeradius did not start within ${startMs / 1000} s:\n${out}`)),
          startMs,
        );
        const check = () => {
          if (/Ready to process requests/.test(out.slice(from))) {
            clearTimeout(t);
            resolve();
          }
        };
        c.stdout!.on('data', check);
        c.once('exit', (code) => {
          clearTimeout(t);
          reject(new Error(`freeradius exited (${code}) before it was ready:\n${out}`));
        });
      });
    };
    await launch();
    return {
      dir,
      host,
      get pid() {
        return inNs ? inNs.pid : child!.pid!;
      },
      authPort,
      acctPort,
      ...(coaPort === undefined ? {} : { coaPort }),
      ...(sql ? { sql } : {}),
      output: () => earlier + (inNs ? inNs.stdout() + inNs.stderr() : out),
      accountingDetail: () => {
        const r = spawnSync('sh', ['-c', `cat ${join(dir, 'log', 'radacct')}/*/* 2>/dev/null`], {
          encoding: 'utf8',
          timeout: 10_000,
        });
        return r.stdout;
      },
      pause: halt,
      resume: () => launch(),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
