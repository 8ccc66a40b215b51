/**
 * `pptp-ts demo` (= `npm run demo`): the classic DNS-through-PPTP example, live. It
 * builds three network namespaces (a client host, a server host, and a DNS
 * host behind the server), runs `pptp-ts serve` and `pptp-ts connect` there
 * with MS-CHAPv2 + MPPE-128, resolves a name and pings through the tunnel
 * while capturing the outer link, then shows with `pptp-ts decode`'s
 * dissector the handshake and the DNS request and response layer by layer
 * (outer IPv4 → GRE → PPP → MPPE → decrypted PPP → IPv4 → UDP → DNS), and
 * removes everything it made. docs/demo.md has the picture and the output.
 *
 *   pptp-ts demo [--keep] [--verbose] [--pcap FILE]
 *   pptp-ts demo resolve [NAME] [--server ADDR]    the stub resolver (runs in a namespace)
 *   pptp-ts demo dns-server [--listen ADDR]        the DNS server (runs in a namespace)
 *   pptp-ts demo clean DIR                         remove a world left by --keep
 *
 * Every wait is bounded; clean-up runs on success, failure and Ctrl-C
 * (and, synchronously, on any other exit); a failure ends with one line
 * saying why and a non-zero exit code.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { decodeCapture } from '../decode/index.js';
import { renderPacketText } from '../decode/render.js';
import type { DecodedPacket } from '../decode/tree.js';
import { type Capture, startCapture } from '../io/capture.js';
import { ip } from '../io/ip.js';
import { loadAddon } from '../io/native.js';
import { DEMO_QUERY_NAME, runDnsServer } from './demo/dns-server.js';
import { factRows, Printer, printTimeline, styleFor } from './demo/format.js';
import { icmpEcho } from './demo/ping.js';
import {
  Daemon,
  DemoAborted,
  DemoError,
  describeExit,
  hasSocketOnPort,
  run,
  runIn,
  sleep,
  waitFor,
} from './demo/process.js';
import { type Resolution, runResolve } from './demo/resolver.js';
import { type DemoStory, tellStory } from './demo/story.js';
import { cleanKeptWorld, type DemoPlan, DemoWorld, demoPlan } from './demo/world.js';

export const DEMO_USAGE = `usage: pptp-ts demo [--keep] [--verbose] [--pcap FILE]

Builds a small world of network namespaces (a client host, a server host and
a DNS host behind the server), starts pptp-ts serve and pptp-ts connect there
(MS-CHAPv2 + MPPE-128), resolves ${DEMO_QUERY_NAME} and pings through the
tunnel while capturing the outer link, then prints the handshake and the DNS
request and response layer by layer, decrypted. Removes everything it made.
Needs root.

  --keep         leave the world running to explore (prints how to remove it)
  --verbose      show every command, the daemons' PIDs and their logs
  --pcap FILE    also save the capture of the outer link to FILE (and the
                 run's one-off password to FILE.password, for pptp-ts decode)
  -h, --help

helpers (they run inside the demo's namespaces):
  pptp-ts demo resolve [NAME] [--server ADDR] [--json]
  pptp-ts demo dns-server [--listen ADDR] [--port N]
  pptp-ts demo clean DIR     remove a world left by --keep
`;

/** Bounds of the demo's waits, ms. */
const TIMEOUTS = {
  daemonReady: 15_000,
  tunnelUp: 40_000,
  connectBanner: 3_000,
  resolve: 20_000,
  pingReplies: 2_000,
  hangUp: 10_000,
} as const;

const BIN = fileURLToPath(new URL('../../bin/pptp-ts.js', import.meta.url));

/** argv to run `pptp-ts ARGS` in a child (same node, same entry point). */
function pptpTs(...args: string[]): string[] {
  return [process.execPath, BIN, ...args];
}

interface DemoFlags {
  keep: boolean;
  verbose: boolean;
  pcap: string | undefined;
}

/** `pptp-ts demo ...`: returns the exit code. */
export async function runDemo(argv: string[]): Promise<number> {
  const sub = argv[0];
  if (sub === 'resolve') return runResolve(argv.slice(1));
  if (sub === 'dns-server') return runDnsServer(argv.slice(1));
  if (sub === 'clean') {
    if (argv.length !== 2) {
      process.stderr.write('usage: pptp-ts demo clean DIR\n');
      return 2;
    }
    return cleanKeptWorld(argv[1]!, (l) => process.stdout.write(`${l}\n`));
  }
  let flags: DemoFlags;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        keep: { type: 'boolean' },
        verbose: { type: 'boolean', short: 'v' },
        pcap: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(DEMO_USAGE);
      return 0;
    }
    flags = { keep: values.keep === true, verbose: values.verbose === true, pcap: values.pcap };
  } catch (e) {
    process.stderr.write(`pptp-ts demo: ${(e as Error).message}\n${DEMO_USAGE}`);
    return 2;
  }
  const why = await preflight();
  if (why) {
    process.stderr.write(`pptp-ts demo: ${why}\n`);
    return 1;
  }
  return new DemoRun(flags, new Printer(process.stdout, styleFor(process.stdout))).run();
}

/** Why the demo cannot run here, or undefined when it can. */
async function preflight(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'needs Linux (network namespaces, TUN, raw sockets)';
  if (process.getuid?.() !== 0) {
    return 'not root: the demo creates network namespaces, TUN interfaces and raw sockets (try: sudo npm run demo)';
  }
  const r = await run(['ip', 'netns', 'list'], 5000);
  if (r.code !== 0) {
    return `iproute2's \`ip netns\` does not work here (${r.stderr.trim() || describeExit(r)}): apt-get install iproute2`;
  }
  try {
    loadAddon();
  } catch (e) {
    return (e as Error).message.replace(/^pptp-ts /, '');
  }
  if (!existsSync('/dev/net/tun')) return 'no /dev/net/tun: this kernel has no TUN driver (modprobe tun)';
  return undefined;
}

/** One run of the demo. */
class DemoRun {
  private readonly plan: DemoPlan = demoPlan();
  private world: DemoWorld | undefined;
  private capture: Capture | undefined;
  private readonly abort = new AbortController();
  private interruptedBy: NodeJS.Signals | undefined;
  private readonly daemons: { dns?: Daemon; serve?: Daemon; connect?: Daemon } = {};
  private password = '';
  private readonly started = performance.now();

  constructor(
    private readonly flags: DemoFlags,
    private readonly out: Printer,
  ) {}

  private trace = (line: string): void => {
    if (this.flags.verbose) this.out.line(this.out.style.dim(`    $ ${line}`));
  };

  private readonly onSignal = (sig: NodeJS.Signals): void => {
    if (this.interruptedBy) {
      // A second Ctrl-C: no more waiting.
      this.world?.removeNow();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGHUP' ? 1 : 15));
    }
    this.interruptedBy = sig;
    this.abort.abort();
  };

  private readonly onExit = (): void => {
    // Last resort (an exception escaped, process.exit was called): never leave the world behind.
    this.world?.removeNow();
  };

  private checkAbort(): void {
    if (this.abort.signal.aborted) throw new DemoAborted('interrupted');
  }

  async run(): Promise<number> {
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const s of signals) process.on(s, this.onSignal);
    process.on('exit', this.onExit);
    let code = 0;
    try {
      await this.live();
    } catch (e) {
      code = this.report(e);
    } finally {
      await this.stopCapture().catch(() => undefined);
      if (this.world) {
        if (this.flags.keep && code === 0) this.keepWorld();
        else if (!(await this.cleanUp()) && code === 0) code = 1;
      }
      for (const s of signals) process.off(s, this.onSignal);
      process.off('exit', this.onExit);
    }
    return code;
  }

  /** Prints why the run failed; returns the exit code. */
  private report(e: unknown): number {
    const out = this.out;
    if (e instanceof DemoAborted || this.interruptedBy) {
      out.line();
      out.step(`interrupted (${this.interruptedBy ?? 'aborted'}): cleaning up`, '', false);
      const sig = this.interruptedBy;
      return 128 + (sig === 'SIGHUP' ? 1 : sig === 'SIGTERM' ? 15 : 2);
    }
    // One line for the reason; whatever else the error said (an `ip` error's stderr) goes below it.
    const [reason = 'failed', ...more] = (e instanceof Error ? e.message : String(e)).trim().split('\n');
    const details = [...more, ...(e instanceof DemoError ? e.details : [])];
    out.line();
    out.step(reason, '', false);
    if (details.length)
      out.block(
        details.map((d) => out.style.dim(d)),
        6,
      );
    if (!(e instanceof DemoError) && e instanceof Error && e.stack && this.flags.verbose) {
      out.block(e.stack.split('\n').slice(1), 6);
    }
    // The one-line reason also goes to stderr, for scripts.
    process.stderr.write(`pptp-ts demo: ${reason}\n`);
    return 1;
  }

  /** Sections 1-3 (live), then 4-6 (from the capture). */
  private async live(): Promise<void> {
    const p = this.plan;
    const out = this.out;
    out.line(
      out.style.bold('pptp-ts demo: a PPTP tunnel between network namespaces, and a DNS query through it'),
    );
    this.drawWorld();

    out.heading('1. Build the world');
    this.world = new DemoWorld(p, this.trace);
    await this.world.build();
    out.step(`namespaces ${p.clientNs}, ${p.serverNs}, ${p.dnsNs}; two veth links`);
    this.checkAbort();
    this.capture = startCapture({
      ifname: p.clientIf,
      netns: p.clientNs,
      file: this.world.file('outer.pcap'),
    });
    out.step(`capturing the client's ${p.clientIf} (the "internet" link)`, 'AF_PACKET, no tcpdump needed');
    this.writeConfigs();
    out.step(`server config, chap-secrets (user "${p.user}") and password file`, this.world.dir);

    out.heading('2. Start the hosts');
    this.daemons.dns = await this.startDaemon('dns-server', p.dnsNs, [
      'demo',
      'dns-server',
      '--listen',
      p.dnsAddress,
    ]);
    await this.waitListening(this.daemons.dns, 'udp', 53);
    out.step(`DNS server on ${p.dnsAddress}:53`, `zone example.test, pid ${this.daemons.dns.pid}`);
    this.daemons.serve = await this.startDaemon('serve', p.serverNs, [
      'serve',
      '--config',
      this.world.file('server.json'),
    ]);
    await this.waitListening(this.daemons.serve, 'tcp', 1723);
    out.step(`pptp-ts serve on ${p.serverAddress}:1723`, `pid ${this.daemons.serve.pid}`);
    this.daemons.connect = await this.startDaemon('connect', p.clientNs, [
      'connect',
      p.serverAddress,
      '--user',
      p.user,
      '--password-file',
      this.world.file('password'),
      '--ifname',
      p.clientIfname,
      '--route',
      p.lanCidr,
    ]);
    out.step(
      `pptp-ts connect ${p.serverAddress} --user ${p.user} --route ${p.lanCidr}`,
      `pid ${this.daemons.connect.pid}`,
    );
    const upAfter = await this.waitTunnel();
    out.step(`tunnel up after ${upAfter.toFixed(1)} s`);
    const banner = await this.connectBanner();
    if (banner.length)
      out.block(
        banner.map((l) => out.style.dim(l)),
        6,
      );

    out.heading('3. Through the tunnel');
    const answer = await this.resolveName();
    const a = answer.answers.map((r) => `${r.type} ${r.data}`).join(', ');
    out.rows([
      [
        'resolve',
        `${answer.name}  →  ${a}   (${answer.rcode}${answer.authoritative ? ', authoritative' : ''}, ${answer.rttMs.toFixed(1)} ms from ${answer.server})`,
      ],
      ['ping', await this.ping(answer)],
    ]);

    out.heading('4. What the wire saw');
    await this.hangUp();
    const packets = this.decode();
    const story = tellStory(packets, {
      clientOuter: p.clientAddress,
      serverOuter: p.serverAddress,
      queryName: DEMO_QUERY_NAME,
    });
    this.printStory(story);
    out.line();
    if (this.flags.pcap) {
      // The password is this run's throw-away one; with it `pptp-ts decode` decrypts the capture later.
      const pcap = this.flags.pcap;
      copyFileSync(this.world.file('outer.pcap'), pcap);
      copyFileSync(this.world.file('password'), `${pcap}.password`);
      out.line(
        out.style.dim(`  Saved: ${pcap}, and the demo account's password in ${pcap}.password. Every frame:`),
      );
      out.line(out.style.dim(`    pptp-ts decode --password-file ${pcap}.password ${pcap}`));
    } else if (!this.flags.keep) {
      out.line(
        out.style.dim('  Every frame of the capture: run with --pcap FILE (or --keep), then pptp-ts decode.'),
      );
    }
    if (this.flags.verbose) this.printLogs();
  }

  /** The picture of the world (docs/demo.md has the same). */
  private drawWorld(): void {
    const p = this.plan;
    const col = (t: string) => t.padEnd(20);
    const link = ' ──────── ';
    const tunnel = ' ════════ ';
    const gap = ' '.repeat(link.length);
    const tunnelNet = p.tunnelServerAddress.replace(/\.\d+$/, '.x');
    this.out.line();
    this.out.block([
      `${col('client host')}${gap}${col('server host')}${gap}DNS host`,
      `${col(`${p.clientIf}  ${p.clientAddress}`)}${link}${col(`${p.serverInetIf}  ${p.serverAddress}`)}`,
      `${col('')}${gap}${col(`${p.serverLanIf}   ${p.serverLanAddress}`)}${link}${p.dnsIf}  ${p.dnsAddress}  (DNS)`,
      `${col('')}${gap}${col('')}${gap}${' '.repeat(p.dnsIf.length)}  ${p.wwwAddress}  (www)`,
      `${col(`${p.clientIfname}  ${tunnelNet}`)}${tunnel}${col(`${p.serverIfname} ${p.tunnelServerAddress}`)}`,
      '',
      `────  veth links: the "internet" ${p.clientAddress.replace(/\.\d+$/, '.0')}/${p.internetPrefix} and the LAN ${p.lanCidr}`,
      `════  the PPTP tunnel (TCP 1723 and GRE over the internet link); the client routes ${p.lanCidr} into it`,
    ]);
  }

  /** server.json, chap-secrets and the password file, in the temp dir (mode 0600). */
  private writeConfigs(): void {
    const p = this.plan;
    const w = this.world!;
    // A fresh password per run; the decoder gets it from the same file to decrypt MPPE.
    this.password = randomBytes(12).toString('base64url');
    writeFileSync(w.file('password'), `${this.password}\n`, { mode: 0o600 });
    writeFileSync(
      w.file('chap-secrets'),
      `# client\tserver\tsecret\tIP addresses\n${p.user}\t*\t"${this.password}"\t*\n`,
      { mode: 0o600 },
    );
    const config = {
      listen: p.serverAddress,
      'local-ip': p.tunnelServerAddress,
      pool: p.tunnelPool,
      secrets: w.file('chap-secrets'),
      'ms-dns': [p.dnsAddress],
      interface: { mode: 'shared', name: p.serverIfname },
    };
    writeFileSync(w.file('server.json'), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  }

  private async startDaemon(name: string, netns: string, args: string[]): Promise<Daemon> {
    const argv = pptpTs(...args);
    this.trace(`ip netns exec ${netns} ${argv.join(' ')}`);
    const d = this.world!.adopt(
      await Daemon.start(name, netns, argv, this.world!.file(`${name}.out`), this.world!.file(`${name}.log`)),
    );
    this.trace(`${name}: pid ${d.pid}, output in ${d.outFile} and ${d.logFile}`);
    return d;
  }

  /** Throws with the daemon's last words if it is no longer running. */
  private alive(d: Daemon): void {
    const s = d.exitStatus;
    if (s) throw new DemoError(`${d.name} exited (${describeExit(s)})`, d.tail());
  }

  private waitListening(d: Daemon, proto: 'tcp' | 'udp', port: number): Promise<true> {
    return waitFor(
      `${d.name} to listen on ${proto.toUpperCase()} ${port}`,
      () => {
        this.alive(d);
        return hasSocketOnPort(d.pid, proto, port) ? true : undefined;
      },
      { timeoutMs: TIMEOUTS.daemonReady, signal: this.abort.signal },
    ).catch((e: unknown) => {
      if (e instanceof DemoError && e.details.length === 0) throw new DemoError(e.message, d.tail());
      throw e;
    });
  }

  /**
   * Waits until the client host routes the DNS server's address into the
   * tunnel (what `--route` adds once IPCP is up). Returns seconds waited.
   */
  private async waitTunnel(): Promise<number> {
    const p = this.plan;
    const connect = this.daemons.connect!;
    const t0 = performance.now();
    try {
      await waitFor(
        'the tunnel to come up',
        async () => {
          this.alive(connect);
          this.alive(this.daemons.serve!);
          const r = await ip(['-j', 'route', 'get', p.dnsAddress], { netns: p.clientNs }).catch(() => '');
          const dev = (JSON.parse(r || '[]') as { dev?: string }[])[0]?.dev;
          return dev && dev !== p.clientIf ? true : undefined;
        },
        { timeoutMs: TIMEOUTS.tunnelUp, intervalMs: 200, signal: this.abort.signal },
      );
    } catch (e) {
      if (e instanceof DemoError && e.details.length === 0) {
        throw new DemoError(e.message, [...connect.tail(), ...this.daemons.serve!.tail()]);
      }
      throw e;
    }
    return (performance.now() - t0) / 1000;
  }

  /** What `pptp-ts connect` printed when the tunnel came up (it prints right after adding the routes). */
  private async connectBanner(): Promise<string[]> {
    const connect = this.daemons.connect!;
    const lines = () =>
      connect
        .output()
        .split('\n')
        .filter((l) => l.trim() !== '');
    await waitFor('connect to report', () => (lines().length >= 2 ? true : undefined), {
      timeoutMs: TIMEOUTS.connectBanner,
      signal: this.abort.signal,
    }).catch((e: unknown) => {
      if (e instanceof DemoAborted) throw e;
    });
    return lines();
  }

  /** The stub resolver, run in the client host. */
  private async resolveName(): Promise<Resolution> {
    const p = this.plan;
    this.checkAbort();
    const argv = pptpTs('demo', 'resolve', DEMO_QUERY_NAME, '--server', p.dnsAddress, '--json');
    this.trace(`ip netns exec ${p.clientNs} ${argv.join(' ')}`);
    const r = await runIn(p.clientNs, argv, TIMEOUTS.resolve, this.abort.signal);
    this.checkAbort();
    let res: Resolution | undefined;
    try {
      res = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as Resolution;
    } catch {
      res = undefined;
    }
    if (!res || r.code !== 0 || res.answers.length === 0) {
      const why = r.stderr.trim().split('\n').at(-1) || (res ? `${res.rcode}, no answer` : describeExit(r));
      throw new DemoError(`resolving ${DEMO_QUERY_NAME} through the tunnel failed: ${why}`, [
        ...this.daemons.connect!.tail(5),
        ...this.daemons.dns!.tail(5),
      ]);
    }
    return res;
  }

  /**
   * Pings the resolved address from the client host with our own ICMP echo
   * (src/cli/demo/ping.ts: a raw socket in the client's namespace, so no
   * `ping` binary is needed); returns the summary line.
   */
  private async ping(answer: Resolution): Promise<string> {
    const p = this.plan;
    const target = answer.answers.find((a) => a.type === 'A')?.data ?? p.wwwAddress;
    this.checkAbort();
    this.trace(`ICMP echo ×3 to ${target} from ${p.clientNs} (raw socket, protocol 1)`);
    const r = await icmpEcho({
      netns: p.clientNs,
      target,
      count: 3,
      intervalMs: 200,
      waitMs: TIMEOUTS.pingReplies,
      signal: this.abort.signal,
    });
    this.checkAbort();
    if (r.received === 0) {
      throw new DemoError(`ping ${target} through the tunnel got no reply`, [
        `${r.transmitted} packets transmitted, 0 received, 100% packet loss`,
        ...this.daemons.connect!.tail(5),
      ]);
    }
    const ms = (x: number) => x.toFixed(3);
    const min = Math.min(...r.rttsMs);
    const max = Math.max(...r.rttsMs);
    const avg = r.rttsMs.reduce((a, b) => a + b, 0) / r.rttsMs.length;
    return `${target}  →  ${r.received}/${r.transmitted} replies, rtt min/avg/max ${ms(min)}/${ms(avg)}/${ms(max)} ms`;
  }

  /**
   * Ends the session the way a user does (SIGTERM to `pptp-ts connect`), so
   * the capture holds the teardown too, then stops the capture. With
   * `--keep` the tunnel stays up and the capture ends here.
   */
  private async hangUp(): Promise<void> {
    const out = this.out;
    if (!this.flags.keep) {
      const connect = this.daemons.connect!;
      const s = await connect.stop(TIMEOUTS.hangUp);
      if (!s) throw new DemoError('pptp-ts connect did not exit after SIGTERM and SIGKILL', connect.tail());
      if (s.code !== 0) throw new DemoError(`pptp-ts connect ended with ${describeExit(s)}`, connect.tail());
      // The server's last segments (its FIN) follow the client's exit by a round trip.
      await sleep(300, this.abort.signal);
    }
    const stats = await this.stopCapture();
    const hung = this.flags.keep ? 'the tunnel stays up (--keep)' : 'connect hung up (SIGTERM), exit 0';
    out.line(out.style.dim(`  ${hung}; ${stats?.kept ?? 0} frames captured on ${this.plan.clientIf}`));
  }

  private async stopCapture(): Promise<{ kept: number } | undefined> {
    const c = this.capture;
    this.capture = undefined;
    return c ? c.stop() : undefined;
  }

  /** The capture through `pptp-ts decode`'s dissector, with the password so MPPE is decrypted. */
  private decode(): DecodedPacket[] {
    const bytes = readFileSync(this.world!.file('outer.pcap'));
    const capture = decodeCapture(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
      password: this.password,
    });
    const packets = [...capture];
    if (capture.error) throw new DemoError(`the capture is unreadable: ${capture.error.message}`);
    return packets;
  }

  private printStory(story: DemoStory): void {
    const p = this.plan;
    const out = this.out;
    out.line();
    out.line(`  The handshake, as captured on the client's ${p.clientIf}:`);
    out.line();
    printTimeline(out, story);
    out.line();
    out.line('  The tunnel it set up:');
    out.line();
    out.rows(factRows(story.facts, { client: p.clientAddress, server: p.serverAddress }), 4);
    const q = story.dnsQuery;
    const r = story.dnsResponse;
    if (!q || !r) {
      throw new DemoError(
        `the capture has no decrypted DNS ${q ? 'response' : 'query'} for ${DEMO_QUERY_NAME} (${story.frames} frames)`,
      );
    }
    out.heading(`5. The DNS request, layer by layer (frame ${q.frameNumber})`);
    out.block(renderPacketText(q).split('\n'));
    out.heading(`6. The DNS response, layer by layer (frame ${r.frameNumber})`);
    out.block(renderPacketText(r).split('\n'));
  }

  private printLogs(): void {
    const out = this.out;
    for (const d of this.world?.daemonList ?? []) {
      out.heading(`${d.name} (pid ${d.pid}) output and log`);
      out.block([...d.output().trimEnd().split('\n'), ...d.log().trimEnd().split('\n')].filter(Boolean));
    }
  }

  /** Removes the world; false when something could not be removed (each is listed). */
  private async cleanUp(): Promise<boolean> {
    const out = this.out;
    const w = this.world!;
    out.heading('Clean-up');
    const names = w.daemonList.filter((d) => d.running).map((d) => d.name);
    const spaces = w.namespaceNames.length;
    const problems = await w.remove();
    if (problems.length) {
      for (const pr of problems) out.step(pr, '', false);
      process.stderr.write(`pptp-ts demo: could not remove everything: ${problems.join('; ')}\n`);
    } else {
      const stopped = names.length ? `stopped ${names.join(', ')}; ` : '';
      out.step(`${stopped}removed ${spaces} namespaces and ${w.dir}`);
    }
    out.line(out.style.dim(`  done in ${((performance.now() - this.started) / 1000).toFixed(1)} s`));
    return problems.length === 0;
  }

  /** `--keep`: leave it all up and say how to look around and how to remove it. */
  private keepWorld(): void {
    const p = this.plan;
    const out = this.out;
    const w = this.world!;
    w.keep();
    out.heading('The world stays up (--keep)');
    out.line('  Look around:');
    out.block(
      [
        `ip netns exec ${p.clientNs} ip addr show ${p.clientIfname}`,
        `ip netns exec ${p.clientNs} ping ${p.wwwAddress}`,
        `ip netns exec ${p.clientNs} ${pptpTs('demo', 'resolve', DEMO_QUERY_NAME).join(' ')}`,
        `ip netns exec ${p.serverNs} tcpdump -ni ${p.serverInetIf}     (if installed)`,
        `${pptpTs('decode', '--password-file', w.file('password'), w.file('outer.pcap')).join(' ')}`,
      ],
      4,
    );
    out.line(`  Processes: ${w.daemonList.map((d) => `${d.name} ${d.pid}`).join(', ')}; files in ${w.dir}`);
    out.line('  Remove it all with:');
    out.block([`${pptpTs('demo', 'clean', w.dir).join(' ')}`], 4);
  }
}
