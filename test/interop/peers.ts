/**
 * The Linux PPTP peers inside a lab VM (docs/interop.md): pptpd (server,
 * RFC 2637 PAC), pppd + pptp-linux (client, PNS), and dnsmasq (the DNS
 * server pushed through IPCP, RFC 1877). Every pppd option the lab uses is
 * written here: the image's /etc/ppp/options is empty, so Debian's defaults
 * cannot leak in.
 *
 * A {@link PppPolicy} says what one side allows; the same policy type
 * configures pppd on either side, so a case reads as "pptp-ts proposes X,
 * pppd requires Y".
 *
 * Options (pppd 2.4.9, as Debian bookworm ships it):
 *   require-mschap-v2 / refuse-pap / refuse-chap / refuse-mschap / refuse-mschap-v2 / refuse-eap
 *   require-mppe-128 / require-mppe-40 / require-mppe / nomppe / mppe-stateful / nomppe-stateful
 *   +ipv6 / noipv6, noccp, nobsdcomp, nodeflate, novj, mtu, mru, lcp-echo-*
 */
import { shq, type Vm } from './lab.js';

/** Addresses inside the tunnel (TEST-NET-2, RFC 5737). */
export const TUNNEL_NET = {
  /** pptpd's end of every tunnel (`localip`), also the DNS server it pushes. */
  serverAddress: '198.51.100.1',
  /** Addresses pptpd hands out (`remoteip`). */
  poolStart: '198.51.100.10',
  poolRange: '198.51.100.10-99',
  /** A name dnsmasq answers, and its address (TEST-NET-3), for DNS-through-the-tunnel checks. */
  dnsName: 'peer.lab.test',
  dnsAnswer: '203.0.113.7',
} as const;

export type AuthProtocol = 'mschap-v2' | 'mschap' | 'chap' | 'pap' | 'eap';

/**
 * MPPE (RFC 3078) as one side allows it:
 *   require-128 / require-40 / require-any — MPPE is required (128-bit, 40-bit, either);
 *   allow — not asked for, accepted if the peer asks;
 *   off — refused (`nomppe`).
 */
export type MppePolicy = 'require-128' | 'require-40' | 'require-any' | 'allow' | 'off';

export interface PppPolicy {
  /**
   * Authentication protocols. For an authenticator (pptpd's pppd): the
   * first one is required of the peer. For the authenticated side: the only
   * ones it accepts (the rest are refused). Default ['mschap-v2'].
   */
  auth?: AuthProtocol[];
  /** Default 'require-128'. */
  mppe?: MppePolicy;
  /** Allow stateful MPPE (`mppe-stateful`; RFC 3078 §3.1: the H bit clear). Default false (stateless only). */
  stateful?: boolean;
  /** Negotiate IPv6CP (RFC 5072): link-local addresses. Default false. */
  ipv6?: boolean;
  /** LCP echo interval in seconds (0: none). Default 0. */
  lcpEchoIntervalS?: number;
  lcpEchoFailure?: number;
  mtu?: number;
  mru?: number;
  /** More pppd options, one per entry, verbatim. */
  extra?: string[];
}

const ALL_AUTH: AuthProtocol[] = ['pap', 'chap', 'mschap', 'mschap-v2', 'eap'];

/** pppd options for MPPE, compression, IPv6CP and LCP shared by both roles. */
function commonOptions(p: PppPolicy): string[] {
  const mppe = p.mppe ?? 'require-128';
  const o: string[] = [];
  switch (mppe) {
    case 'require-128':
      o.push('require-mppe-128');
      break;
    case 'require-40':
      o.push('require-mppe-40');
      break;
    case 'require-any':
      o.push('require-mppe');
      break;
    case 'allow':
      break;
    case 'off':
      o.push('nomppe');
      break;
  }
  if (p.stateful) {
    if (mppe === 'off') throw new TypeError('stateful MPPE with MPPE off');
    o.push('mppe-stateful');
  } else if (mppe !== 'off') {
    o.push('nomppe-stateful');
  }
  // MPPE is the only CCP method in the lab (as in Debian's pptpd-options).
  // Everything else (ACFC, PFC, VJ in IPCP) stays at pppd's defaults, so the
  // peer meets what real installations propose.
  o.push('nobsdcomp', 'nodeflate');
  o.push(p.ipv6 ? '+ipv6' : 'noipv6');
  if (p.lcpEchoIntervalS)
    o.push(`lcp-echo-interval ${p.lcpEchoIntervalS}`, `lcp-echo-failure ${p.lcpEchoFailure ?? 3}`);
  if (p.mtu) o.push(`mtu ${p.mtu}`);
  if (p.mru) o.push(`mru ${p.mru}`);
  o.push('debug');
  return o.concat(p.extra ?? []);
}

/** pppd options for the authenticator (the server side). */
export function serverPppOptions(p: PppPolicy, serverName: string, dns?: string): string[] {
  const auth = p.auth ?? ['mschap-v2'];
  if (auth.length !== 1) throw new TypeError('the authenticator requires exactly one protocol');
  const o = [`name ${serverName}`, 'auth', `require-${auth[0]}`];
  for (const a of ALL_AUTH) if (a !== auth[0]) o.push(`refuse-${a}`);
  if (dns) o.push(`ms-dns ${dns}`);
  o.push('nodefaultroute', 'noproxyarp');
  return o.concat(commonOptions(p));
}

/** pppd options for the authenticated side (the client). */
export function clientPppOptions(p: PppPolicy, user: string, remoteName: string): string[] {
  const allow = new Set(p.auth ?? ['mschap-v2']);
  const o = [`name ${user}`, `remotename ${remoteName}`, 'noauth'];
  for (const a of ALL_AUTH) if (!allow.has(a)) o.push(`refuse-${a}`);
  o.push('nodefaultroute', 'usepeerdns');
  return o.concat(commonOptions(p));
}

export interface ChapSecret {
  client: string;
  server?: string;
  secret: string;
  /** Allowed address(es); default `*`. */
  address?: string;
}

/**
 * A pppd chap-secrets file (also used for PAP and MS-CHAP). `*` stays a bare
 * wildcard (a quoted `"*"` would be a literal name); other words are quoted
 * only when they contain white space, quotes, `#` or a backslash.
 */
export function chapSecrets(entries: readonly ChapSecret[]): string {
  const word = (s: string) =>
    s === '*' || /^[^\s"'#\\]+$/.test(s) ? s : `"${s.replace(/(["\\])/g, '\\$1')}"`;
  return `${entries.map((e) => `${word(e.client)} ${word(e.server ?? '*')} ${word(e.secret)} ${e.address ?? '*'}`).join('\n')}\n`;
}

export interface PptpdOptions {
  /** Users; default one: `lab` / `lab-secret`. */
  users?: ChapSecret[];
  /** pppd `name` of the server (what the client's `remotename` matches). Default `pptpd`. */
  serverName?: string;
  localIp?: string;
  remoteIp?: string;
  /** DNS server pushed with IPCP (`ms-dns`); default the server's tunnel address. null: none. */
  dns?: string | null;
  ppp?: PppPolicy;
}

/** The default account on both sides. */
export const LAB_USER = { name: 'lab', password: 'lab-secret' } as const;

/** pptpd (RFC 2637 PAC) in a VM, with its per-call pppd. */
export class Pptpd {
  static readonly DAEMON = 'pptpd';
  /** pppd's own log file (all calls). */
  static readonly PPP_LOG = '/var/log/lab/pptpd-pppd.log';

  private constructor(readonly vm: Vm) {}

  /** Writes the configuration and starts pptpd in the foreground; resolves once port 1723 listens. */
  static async start(vm: Vm, opts: PptpdOptions = {}): Promise<Pptpd> {
    const serverName = opts.serverName ?? 'pptpd';
    const dns = opts.dns === undefined ? (opts.localIp ?? TUNNEL_NET.serverAddress) : opts.dns;
    const users = opts.users ?? [{ client: LAB_USER.name, secret: LAB_USER.password }];
    const pppOptions = [
      ...serverPppOptions(opts.ppp ?? {}, serverName, dns ?? undefined),
      `logfile ${Pptpd.PPP_LOG}`,
    ];
    await vm.writeFile('/etc/ppp/chap-secrets', chapSecrets(users), 0o600);
    await vm.writeFile('/etc/ppp/pptpd-options', `${pppOptions.join('\n')}\n`);
    await vm.writeFile(
      '/etc/pptpd.conf',
      [
        'option /etc/ppp/pptpd-options',
        `localip ${opts.localIp ?? TUNNEL_NET.serverAddress}`,
        `remoteip ${opts.remoteIp ?? TUNNEL_NET.poolRange}`,
        '',
      ].join('\n'),
    );
    await vm.run(`mkdir -p /var/log/lab && : > ${Pptpd.PPP_LOG}`);
    await vm.startDaemon(Pptpd.DAEMON, 'exec pptpd --fg --debug --conf /etc/pptpd.conf');
    await vm.waitFor("ss -Hltn 'sport = :1723' | grep -q LISTEN", 'pptpd to listen on 1723', 10_000);
    return new Pptpd(vm);
  }

  /** pptpd's and pppd's syslog lines. */
  async syslog(): Promise<string> {
    return (await this.vm.syslog())
      .split('\n')
      .filter((l) => / (pptpd|pppd)\[\d+\]:/.test(l))
      .join('\n');
  }

  /** The per-call pppd's log (negotiation details with `debug`). */
  async pppLog(): Promise<string> {
    return (await this.vm.readFile(Pptpd.PPP_LOG)).toString('utf8');
  }

  /** Stops pptpd and everything it started (its calls' pppd). */
  async stop(): Promise<void> {
    await this.vm.stopDaemon(Pptpd.DAEMON, 'TERM', 3000);
  }
}

export interface PptpClientOptions {
  /** The PPTP server's address (pptp-linux dials TCP 1723 there). */
  server: string;
  user?: string;
  password?: string;
  /** The server's name as in chap-secrets / `remotename` (default `*`: any). */
  remoteName?: string;
  ppp?: PppPolicy;
  /** PPP unit number: the interface is `ppp<unit>` (default 0). */
  unit?: number;
  /** Name of this connection (daemon and log names); default `pptp`. */
  name?: string;
}

/** What an up PPP link looks like from pppd's log. */
export interface PppLinkInfo {
  ifname: string;
  localAddress?: string;
  remoteAddress?: string;
  localLinkLocal?: string;
  remoteLinkLocal?: string;
  /** pppd's line, e.g. `MPPE 128-bit stateless compression enabled`; undefined without CCP. */
  mppe?: string;
}

/** pppd + pptp-linux (RFC 2637 PNS) in a VM, userspace GRE over the kernel's ppp_generic/ppp_mppe. */
export class PptpClient {
  readonly name: string;
  readonly ifname: string;
  readonly logFile: string;

  private constructor(
    readonly vm: Vm,
    name: string,
    unit: number,
  ) {
    this.name = name;
    this.ifname = `ppp${unit}`;
    this.logFile = `/var/log/lab/${name}-pppd.log`;
  }

  /** Writes the peer file and secrets and starts `pppd call NAME nodetach`. */
  static async start(vm: Vm, opts: PptpClientOptions): Promise<PptpClient> {
    const name = opts.name ?? 'pptp';
    if (!/^[a-z0-9-]{1,16}$/.test(name)) throw new TypeError(`bad client name: ${name}`);
    const unit = opts.unit ?? 0;
    const user = opts.user ?? LAB_USER.name;
    const c = new PptpClient(vm, name, unit);
    const remoteName = opts.remoteName ?? '*';
    if (!/^[A-Za-z0-9.:-]+$/.test(opts.server)) throw new TypeError(`bad server address: ${opts.server}`);
    const options = [
      `pty "pptp ${opts.server} --nolaunchpppd --loglevel 1"`,
      `unit ${unit}`,
      `linkname ${name}`,
      ...clientPppOptions(opts.ppp ?? {}, user, remoteName === '*' ? 'pptp-server' : remoteName),
      'nodetach',
      'maxfail 1',
      `logfile ${c.logFile}`,
    ];
    await vm.writeFile(`/etc/ppp/peers/${name}`, `${options.join('\n')}\n`);
    await vm.writeFile(
      '/etc/ppp/chap-secrets',
      chapSecrets([{ client: user, server: remoteName, secret: opts.password ?? LAB_USER.password }]),
      0o600,
    );
    await vm.run(`mkdir -p /var/log/lab && : > ${c.logFile}`);
    await vm.startDaemon(name, `exec pppd call ${name}`);
    return c;
  }

  /** pppd's log so far. */
  async log(): Promise<string> {
    return (await this.vm.readFile(this.logFile)).toString('utf8');
  }

  /**
   * Waits until IPCP (and IPv6CP, with `ipv6`) is up; rejects early if pppd
   * exits, with its log in the message.
   */
  async waitUp(opts: { timeoutMs?: number; ipv6?: boolean } = {}): Promise<PppLinkInfo> {
    const want = opts.ipv6 ? 'remote LL address' : 'remote IP address';
    const r = await this.vm.exec(
      `until grep -q ${shq(want)} ${this.logFile}; do [ -s /run/lab/${this.name}.exit ] && exit 9; sleep 0.2; done`,
      { timeoutMs: opts.timeoutMs ?? 30_000 },
    );
    if (r.code !== 0) {
      const why = r.code === 9 ? 'pppd exited' : 'timed out';
      throw new Error(`${this.vm.name}: ${this.name} not up (${why})\n${await this.log()}`);
    }
    return this.linkInfo();
  }

  /** Parses the negotiated link from pppd's log. */
  async linkInfo(): Promise<PppLinkInfo> {
    const log = await this.log();
    const m = (re: RegExp) => re.exec(log)?.[1];
    return {
      ifname: m(/Using interface (\S+)/) ?? this.ifname,
      localAddress: m(/local {2}IP address (\S+)/),
      remoteAddress: m(/remote IP address (\S+)/),
      localLinkLocal: m(/local {2}LL address (\S+)/),
      remoteLinkLocal: m(/remote LL address (\S+)/),
      mppe: m(/^(MPPE .* enabled)$/m),
    };
  }

  /** Waits for pppd to exit by itself (e.g. authentication failed); resolves with its exit status. */
  waitExit(timeoutMs = 30_000): Promise<number> {
    return this.vm.waitDaemonExit(this.name, timeoutMs);
  }

  /** Hangs up (SIGTERM to pppd: LCP Terminate, then pptp clears the call); resolves with pppd's exit status. */
  stop(graceMs = 8000): Promise<number | null> {
    return this.vm.stopDaemon(this.name, 'TERM', graceMs);
  }
}

/** pppd exit statuses (pppd(8), EXIT STATUS). */
export const PPPD_EXIT = {
  /** Detached, or the link was terminated at the peer's request. */
  ok: 0,
  /** Terminated by SIGINT, SIGTERM or SIGHUP. */
  signalled: 5,
  /** PPP negotiation failed: no network protocol came up (e.g. MPPE required but refused). */
  negotiationFailed: 10,
  /** The peer failed to authenticate itself to us. */
  peerAuthFailed: 11,
  /** The peer stopped answering LCP Echo-Requests. */
  peerDead: 15,
  /** The "modem" hung up: here, pptp-linux closed the pty (call or control connection gone). */
  hangup: 16,
  /** We failed to authenticate ourselves to the peer (MS-CHAP E=691). */
  authToPeerFailed: 19,
} as const;

/** dnsmasq in a VM: answers {@link TUNNEL_NET.dnsName} on every address (tunnel ones included). */
export class Dnsmasq {
  static readonly DAEMON = 'dnsmasq';
  private constructor(readonly vm: Vm) {}

  static async start(
    vm: Vm,
    records: Record<string, string> = { [TUNNEL_NET.dnsName]: TUNNEL_NET.dnsAnswer },
  ) {
    const args = ['--keep-in-foreground', '--no-resolv', '--no-hosts', '--user=root', '--log-queries'];
    // Without --interface it binds the wildcard address, so it also answers
    // on ppp interfaces that come up later.
    // --local: names are answered here only (NODATA for other types, never REFUSED).
    for (const [name, addr] of Object.entries(records))
      args.push(`--local=/${name}/`, `--address=/${name}/${addr}`);
    args.push('--log-facility=-');
    await vm.startDaemon(Dnsmasq.DAEMON, `exec dnsmasq ${args.map(shq).join(' ')}`);
    await vm.waitFor("ss -Hlun 'sport = :53' | grep -q .", 'dnsmasq to listen on 53', 10_000);
    return new Dnsmasq(vm);
  }

  /** dnsmasq's log (one line per query with --log-queries). */
  log(): Promise<string> {
    return this.vm.daemonLog(Dnsmasq.DAEMON);
  }
}
