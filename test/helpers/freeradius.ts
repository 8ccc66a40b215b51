/**
 * A FreeRADIUS 3.2 (Debian `freeradius`) for tests: a copy of
 * /etc/freeradius/3.0 in a scratch directory, rewritten to use its own log
 * and run directories, one virtual server listening on 127.0.0.1 at free
 * ports, our clients.conf and users file, no EAP (it needs certificates a
 * fresh install lacks). Started as `freeradius -f -d DIR -l stdout`, stopped
 * by PID, the directory removed, even when the test fails.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const FREERADIUS_INSTALL = 'apt-get install -y freeradius freeradius-utils';

export interface FreeRadiusOptions {
  readonly secret: string;
  /** The `files` module's users file (mods-config/files/authorize). */
  readonly users: string;
  /** clients.conf `require_message_authenticator`. Default yes. */
  readonly requireMessageAuthenticator?: boolean;
  /**
   * Put a Message-Authenticator in every Access reply (post-auth `update
   * reply`). FreeRADIUS before 3.2.5 signs a reply only when it carries the
   * attribute. Default yes.
   */
  readonly replyMessageAuthenticator?: boolean;
  /** Run inside this network namespace (`ip netns exec`), e.g. beside a `pptp-ts serve` under test. */
  readonly netns?: string;
  /** How long it may take to be ready, ms (default 15 s; a loaded machine needs more). */
  readonly readyTimeoutMs?: number;
}

export interface FreeRadius {
  readonly dir: string;
  readonly authPort: number;
  readonly acctPort: number;
  /** stdout + stderr of the server so far. */
  output(): string;
  /** The `detail` module's accounting records (all files under radacct/). */
  accountingDetail(): string;
  stop(): Promise<void>;
}

/** Fails with the install line when the binaries are missing. */
export function requireFreeRadius(): void {
  for (const bin of ['freeradius', 'radclient']) {
    const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0) throw new Error(`${bin} is not installed (${FREERADIUS_INSTALL})`);
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

function site(authPort: number, acctPort: number, replyMa: boolean): string {
  const ma = replyMa ? '\t\tupdate reply {\n\t\t\t&Message-Authenticator := 0x00\n\t\t}\n' : '';
  return `server test {
listen {
\ttype = auth
\tipaddr = 127.0.0.1
\tport = ${authPort}
}
listen {
\ttype = acct
\tipaddr = 127.0.0.1
\tport = ${acctPort}
}
authorize {
\tchap
\tmschap
\tfiles
\tpap
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
}
post-auth {
${ma.replace(/^\t/gm, '')}\tPost-Auth-Type REJECT {
\t\tupdate reply {
\t\t\tReply-Message := "Wrong password for %{User-Name}"
\t\t}
${ma}\t}
}
}
`;
}

export async function startFreeRadius(opts: FreeRadiusOptions): Promise<FreeRadius> {
  requireFreeRadius();
  const dir = mkdtempSync(join(tmpdir(), `pptp-ts-freeradius-${process.pid}-`));
  let child: ChildProcess | undefined;
  let out = '';
  const stop = async () => {
    if (child && child.exitCode === null && child.signalCode === null && child.pid) {
      const c = child;
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      process.kill(c.pid!, 'SIGTERM');
      const t = setTimeout(() => {
        if (c.exitCode === null && c.signalCode === null) process.kill(c.pid!, 'SIGKILL');
      }, 3000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
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
    writeFileSync(conf, text);
    for (const f of readdirSync(join(raddb, 'sites-enabled'))) rmSync(join(raddb, 'sites-enabled', f));
    rmSync(join(raddb, 'mods-enabled', 'eap'), { force: true });
    const authPort = await freeUdpPort();
    let acctPort = await freeUdpPort();
    while (acctPort === authPort) acctPort = await freeUdpPort();
    writeFileSync(
      join(raddb, 'sites-enabled', 'test'),
      site(authPort, acctPort, opts.replyMessageAuthenticator !== false),
    );
    writeFileSync(
      join(raddb, 'clients.conf'),
      `client local {\n\tipaddr = 127.0.0.1\n\tsecret = ${opts.secret}\n\trequire_message_authenticator = ${
        opts.requireMessageAuthenticator === false ? 'no' : 'yes'
      }\n}\n`,
    );
    writeFileSync(join(raddb, 'mods-config', 'files', 'authorize'), opts.users);
    const argv = ['freeradius', '-f', '-d', raddb, '-l', 'stdout'];
    // `ip netns exec` execs the command: the PID stays the one to stop.
    const cmd = opts.netns ? ['ip', 'netns', 'exec', opts.netns, ...argv] : argv;
    child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const c = child;
    await new Promise<void>((resolve, reject) => {
      const ms = opts.readyTimeoutMs ?? 15_000;
      const t = setTimeout(() => reject(new Error(`freeradius did not start within ${ms / 1000} s:\n${out}`)), ms);
      const check = () => {
        if (/Ready to process requests/.test(out)) {
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
    return {
      dir,
      authPort,
      acctPort,
      output: () => out,
      accountingDetail: () => {
        const r = spawnSync('sh', ['-c', `cat ${join(dir, 'log', 'radacct')}/*/* 2>/dev/null`], {
          encoding: 'utf8',
          timeout: 10_000,
        });
        return r.stdout;
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
