/**
 * Migration from pptpd: reads a pptpd.conf (pptpd.conf(5), the options of
 * pptpd(8)) and the pppd options file it names (`option FILE`, pppd(8)) and
 * gives the equivalent server config of `config.ts`, plus one warning line
 * for every option that pptp-ts does not honour, so that
 * `pptp-ts serve --pptpd-conf /etc/pptpd.conf` runs an existing pptpd set-up
 * and says what it left out (docs/migration.md).
 *
 * Pure: text in, `{ config, json, warnings }` out; reading the files is the
 * caller's. Every option is in one of three tables below: mapped to a config
 * key, honoured as it is (what the option asks for is what pptp-ts does
 * anyway: `nobsdcomp`, `lock`, ...), or named in a warning with the reason.
 * An option in neither pptpd's nor pppd's lists is warned about as unknown.
 */
import { ipv4ToString, parseIpv4 } from '../wire/bytes.js';
import { ConfigError, type ServerConfig, validateServerConfig } from './config.js';

/** What {@link convertPptpd} needs: the files' texts and where they came from. */
export interface PptpdInput {
  /** Text of pptpd.conf. */
  readonly conf: string;
  /** Text of the pppd options file that `option` names (undefined: the file has none, or it was not read). */
  readonly options?: string;
  /** The name the warnings use for the options file (default: what `option` says, else `options`). */
  readonly optionsName?: string;
  /** The chap-secrets file the server reads (default /etc/ppp/chap-secrets, as pppd). */
  readonly secrets?: string;
}

/** The result: the validated config, the same as JSON for `--print-config`, and the warnings. */
export interface PptpdConversion {
  readonly config: ServerConfig;
  /** The keys the conversion set (what `--print-config` prints; `serve --config` on it gives `config`). */
  readonly json: Record<string, unknown>;
  /** One line each: `pptpd.conf: option 'bcrelay' is not supported (ignored)`. */
  readonly warnings: string[];
  /** The `option` file pptpd.conf names, if any (for the caller to read). */
  readonly optionFile?: string;
}

/** pptpd's default `connections` (pptpd.conf(5): "The default is 100"). */
export const PPTPD_DEFAULT_CONNECTIONS = 100;
/** Most addresses an ip-specification may expand to (a /16). */
const MAX_SPEC_ADDRESSES = 65536;

/**
 * Expands a pptpd ip-specification (pptpd.conf(5) NOTES): comma-separated
 * items, each four octets, any of which may be a range `n-m`
 * (`192.168.0.234-238`, `192.168.0-255.2`), in the order written.
 */
export function expandIpSpecification(spec: string): number[] {
  const out: number[] = [];
  for (const item of spec.split(',')) {
    if (item === '') throw new ConfigError(`'${spec}': empty item (no spaces are allowed in the list)`);
    const octets = item.split('.');
    if (octets.length !== 4) throw new ConfigError(`'${item}' is not an address or a range of addresses`);
    const ranges = octets.map((o) => {
      const m = /^(\d{1,3})(?:-(\d{1,3}))?$/.exec(o);
      const lo = Number(m?.[1]);
      const hi = m?.[2] === undefined ? lo : Number(m[2]);
      if (!m || lo > 255 || hi > 255)
        throw new ConfigError(`'${item}': '${o}' is not 0-255 or a range of them`);
      // pptpd.conf: "No shortcuts in ranges! ie. 234-8 does not mean 234 to 238".
      if (hi < lo) throw new ConfigError(`'${item}': range '${o}' ends before it starts`);
      return [lo, hi] as const;
    });
    const count = ranges.reduce((n, [lo, hi]) => n * (hi - lo + 1), 1);
    if (out.length + count > MAX_SPEC_ADDRESSES)
      throw new ConfigError(`'${spec}': more than ${MAX_SPEC_ADDRESSES} addresses`);
    const [a, b, c, d] = ranges as unknown as [
      readonly [number, number],
      readonly [number, number],
      readonly [number, number],
      readonly [number, number],
    ];
    for (let o1 = a[0]; o1 <= a[1]; o1++)
      for (let o2 = b[0]; o2 <= b[1]; o2++)
        for (let o3 = c[0]; o3 <= c[1]; o3++)
          for (let o4 = d[0]; o4 <= d[1]; o4++) out.push(((o1 << 24) | (o2 << 16) | (o3 << 8) | o4) >>> 0);
  }
  return out;
}

/** Addresses as a pool spec of `config.ts`: runs of consecutive addresses as `a-b`, in order. */
export function poolSpecOf(addresses: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < addresses.length; ) {
    let j = i;
    while (j + 1 < addresses.length && addresses[j + 1] === addresses[j]! + 1) j++;
    const a = ipv4ToString(addresses[i]!);
    parts.push(i === j ? a : `${a}-${ipv4ToString(addresses[j]!)}`);
    i = j + 1;
  }
  return parts.join(',');
}

// ─── pptpd.conf ─────────────────────────────────────────────────────────────

/** pptpd.conf keywords pptp-ts cannot honour, and why (one warning each). */
const PPTPD_UNSUPPORTED: Readonly<Record<string, string>> = {
  logwtmp: 'is not supported (ignored): sessions are logged by pptp-ts itself, not to wtmp',
  bcrelay: 'is not supported (ignored): broadcasts are not relayed to clients',
  delegate: 'is not supported (ignored): pptp-ts allocates client addresses from remoteip itself',
  stimeout:
    'is not supported (ignored): pptp-ts bounds the whole handshake instead (limits.handshake-timeout, 30 s)',
  vrf: 'is not supported (ignored): run pptp-ts inside the VRF (ip vrf exec) instead',
  pidfile: 'is not supported (ignored): pptp-ts writes no pid file (run it under systemd or a supervisor)',
  speed: 'is not needed (ignored): there is no tty/pty pair',
  ppp: 'is not needed (ignored): pptp-ts runs PPP itself, no pppd',
};

/** pptpd.conf keywords that take no argument. */
const PPTPD_FLAGS = new Set(['logwtmp', 'debug', 'delegate', 'noipparam']);

interface PptpdSettings {
  option?: string;
  localip?: string;
  remoteip?: string;
  listen?: string;
  connections?: number;
  debug?: boolean;
}

function parsePptpdConf(text: string, warn: (s: string) => void): PptpdSettings {
  const s: PptpdSettings = {};
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) continue;
    const [key, ...rest] = line.split(/\s+/);
    const value = rest.join(' ');
    const k = key!.toLowerCase();
    const where = `pptpd.conf line ${i + 1}`;
    const need = (): string => {
      if (!value) throw new ConfigError(`${where}: '${k}' needs a value`);
      return value;
    };
    if (PPTPD_FLAGS.has(k) && value) throw new ConfigError(`${where}: '${k}' takes no value`);
    switch (k) {
      case 'option':
        s.option = need();
        break;
      case 'localip':
        s.localip = need();
        break;
      case 'remoteip':
        s.remoteip = need();
        break;
      case 'listen':
        if (parseIpv4(need()) === undefined)
          throw new ConfigError(`${where}: listen '${value}' is not an IPv4 address`);
        s.listen = value;
        break;
      case 'connections': {
        const n = Number(need());
        if (!/^\d+$/.test(value) || n < 1 || n > 100000)
          throw new ConfigError(`${where}: connections '${value}' is not a number in 1..100000`);
        s.connections = n;
        break;
      }
      case 'debug':
        s.debug = true;
        break;
      case 'noipparam':
        break; // honoured: pptp-ts passes hooks no ipparam (pptpd's default is the client's address)
      default:
        if (k in PPTPD_UNSUPPORTED) warn(`pptpd.conf: option '${k}' ${PPTPD_UNSUPPORTED[k]}`);
        else warn(`pptpd.conf: option '${k}' is unknown (ignored)`);
    }
  }
  return s;
}

/** The pppd options file a pptpd.conf names (`option FILE`), to read before {@link convertPptpd}. */
export function pptpdOptionFile(conf: string): string | undefined {
  return parsePptpdConf(conf, () => {}).option;
}

// ─── pppd options ───────────────────────────────────────────────────────────

/** The PPP settings the options file can change, starting from pppd's defaults. */
interface PppSettings {
  name?: string;
  msDns: string[];
  msWins: string[];
  require: Set<Auth>;
  refuse: Set<Auth>;
  /** MPPE: undefined = not required (pppd's default); else the strengths allowed. */
  mppe?: Set<40 | 128>;
  nomppe: boolean;
  stateful: boolean;
  lcpEchoInterval?: number;
  lcpEchoFailure?: number;
  mtu?: number;
  mru?: number;
  debug: boolean;
  ipv6?: boolean;
  ipUp?: string;
  ipDown?: string;
  stripDomain?: boolean;
  /** `local:remote` on its own: the local part. */
  localAddress?: string;
}

type Auth = 'pap' | 'chap' | 'mschap' | 'mschap-v2';

/** Options that ask for what pptp-ts does anyway: accepted without a word. */
const PPPD_HONOURED: Readonly<Record<string, string>> = {
  auth: 'pptp-ts always authenticates the peer',
  nodefaultroute: 'the server never sets a default route',
  noproxyarp: 'no proxy ARP entries are made',
  lock: 'no serial device to lock',
  nolock: 'no serial device to lock',
  nologfd: 'pppd logging is not used',
  nobsdcomp: 'BSD-Compress is never negotiated',
  nodeflate: 'Deflate is never negotiated',
  novj: 'Van Jacobson compression is never negotiated',
  novjccomp: 'Van Jacobson compression is never negotiated',
  noipx: 'IPX is not supported',
  'refuse-eap': 'EAP is never accepted',
  'hide-password': 'passwords are never logged',
  noktune: 'no kernel tuning is done',
  nodetach: 'pptp-ts serve stays in the foreground',
  'mppe-stateless': 'stateless is the default',
  'nomppe-stateful': 'stateless is the default',
};

/** Options pptp-ts does not honour: the reason, and how many arguments to skip. */
const PPPD_UNSUPPORTED: Readonly<Record<string, readonly [number, string]>> = {
  proxyarp: [
    0,
    'is not needed (ignored): pptp-ts routes the pool through its own interface; if the pool is inside a LAN subnet, turn on proxy ARP on the LAN interface (sysctl net.ipv4.conf.IF.proxy_arp=1)',
  ],
  defaultroute: [0, 'is not supported (ignored): a server does not route its default through a client'],
  dump: [0, 'is not supported (ignored): use pptp-ts serve --pptpd-conf FILE --print-config'],
  dryrun: [0, 'is not supported (ignored): use pptp-ts serve --pptpd-conf FILE --print-config'],
  noauth: [0, 'is not supported (ignored): pptp-ts always authenticates the peer'],
  'require-eap': [0, 'is not supported (ignored): EAP is not implemented'],
  noccp: [0, 'is not supported (ignored): CCP carries MPPE; use nomppe to turn encryption off'],
  nopcomp: [0, 'is not supported (ignored): Protocol-Field-Compression is negotiated as the peer asks'],
  noaccomp: [
    0,
    'is not supported (ignored): Address-and-Control-Field-Compression is negotiated as the peer asks',
  ],
  'ipcp-accept-local': [0, 'is not supported (ignored): the local address is always localip'],
  'ipcp-accept-remote': [
    0,
    'is not supported (ignored): client addresses always come from remoteip or chap-secrets',
  ],
  usepeerdns: [0, 'is a client option (ignored)'],
  persist: [0, 'is a client option (ignored)'],
  demand: [0, 'is a client option (ignored)'],
  updetach: [0, 'is not supported (ignored): pptp-ts serve stays in the foreground'],
  'show-password': [0, 'is not supported (ignored): passwords are never logged'],
  ktune: [0, 'is not supported (ignored): set net.ipv4.ip_forward yourself'],
  local: [0, 'has no meaning without a serial line (ignored)'],
  modem: [0, 'has no meaning without a serial line (ignored)'],
  crtscts: [0, 'has no meaning without a serial line (ignored)'],
  nocrtscts: [0, 'has no meaning without a serial line (ignored)'],
  'default-asyncmap': [0, 'has no meaning on PPTP, which is synchronous (ignored)'],
  passive: [0, 'is not supported (ignored)'],
  silent: [0, 'is not supported (ignored)'],
  'receive-all': [0, 'is not supported (ignored)'],
  'lcp-echo-adaptive': [0, 'is not supported (ignored): echoes are sent every lcp-echo-interval'],
  noip: [0, 'is not supported (ignored): IPCP is always run'],
  bsdcomp: [1, 'is not supported (ignored): BSD-Compress is never negotiated'],
  deflate: [1, 'is not supported (ignored): Deflate is never negotiated'],
  asyncmap: [1, 'has no meaning on PPTP, which is synchronous (ignored)'],
  'vj-max-slots': [1, 'is not supported (ignored): Van Jacobson compression is never negotiated'],
  kdebug: [1, 'is not supported (ignored): there is no kernel PPP driver'],
  logfile: [1, 'is not supported (ignored): pptp-ts logs to stderr (or journald)'],
  ipparam: [1, 'is not supported (ignored)'],
  linkname: [1, 'is not supported (ignored)'],
  domain: [1, 'is not supported (ignored): name is used as written'],
  remotename: [1, 'is a client option (ignored)'],
  user: [1, 'is a client option (ignored)'],
  password: [1, 'is a client option (ignored)'],
  maxfail: [1, 'is a client option (ignored)'],
  holdoff: [1, 'is a client option (ignored)'],
  idle: [1, 'is not supported (ignored): sessions are not ended for idleness'],
  maxconnect: [1, 'is not supported (ignored): sessions have no time limit'],
  netmask: [1, 'is not supported (ignored): the tunnel is point-to-point'],
  plugin: [1, 'is not supported (ignored): pptp-ts loads no pppd plugins (no RADIUS through radius.so)'],
  file: [1, 'is not followed (ignored): put its options in the file pptpd.conf names'],
  call: [1, 'is not followed (ignored)'],
  unit: [1, 'is not supported (ignored): see interface.name'],
  ifname: [1, 'is not supported (ignored): see interface.name'],
  'connect-delay': [1, 'is not supported (ignored)'],
  'lcp-max-configure': [1, 'is not supported (ignored): RFC 1661 defaults are used'],
  'lcp-max-failure': [1, 'is not supported (ignored): RFC 1661 defaults are used'],
  'lcp-max-terminate': [1, 'is not supported (ignored): RFC 1661 defaults are used'],
  'lcp-restart': [1, 'is not supported (ignored): RFC 1661 defaults are used'],
  'ipcp-max-configure': [1, 'is not supported (ignored): RFC 1661 defaults are used'],
  'ipcp-max-failure': [1, 'is not supported (ignored): RFC 1661 defaults are used'],
  'ipcp-max-terminate': [1, 'is not supported (ignored): RFC 1661 defaults are used'],
  'ipcp-restart': [1, 'is not supported (ignored): RFC 1661 defaults are used'],
  'chap-interval': [1, 'is not supported (ignored): the peer is authenticated once'],
  'chap-max-challenge': [1, 'is not supported (ignored)'],
  'chap-restart': [1, 'is not supported (ignored)'],
  'pap-max-authreq': [1, 'is not supported (ignored)'],
  'pap-restart': [1, 'is not supported (ignored)'],
  'pap-timeout': [1, 'is not supported (ignored)'],
  'ip-pre-up-script': [1, 'is not supported (ignored): use ip-up-script'],
  'auth-up-script': [1, 'is not supported (ignored)'],
  'auth-down-script': [1, 'is not supported (ignored)'],
  'ipv6-up-script': [1, 'is not supported (ignored)'],
  'ipv6-down-script': [1, 'is not supported (ignored)'],
};

/** Splits a pppd options file into words (pppd(8) "OPTIONS FILES": `#` comments, quotes, backslash escapes). */
export function pppdWords(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    let w = '';
    let quote: string | undefined;
    while (i < text.length) {
      const ch = text[i]!;
      if (quote) {
        if (ch === quote) quote = undefined;
        else if (ch === '\\' && i + 1 < text.length) w += text[++i];
        else w += ch;
      } else if (ch === '"' || ch === "'") quote = ch;
      else if (ch === '\\' && i + 1 < text.length) w += text[++i];
      else if (/\s/.test(ch)) break;
      else w += ch;
      i++;
    }
    if (quote) throw new ConfigError(`unterminated ${quote} quote`);
    out.push(w);
  }
  return out;
}

const AUTH_OF: Readonly<Record<string, Auth>> = {
  pap: 'pap',
  chap: 'chap',
  mschap: 'mschap',
  'mschap-v2': 'mschap-v2',
};

function parsePppdOptions(text: string, file: string, warn: (s: string) => void): PppSettings {
  const s: PppSettings = {
    msDns: [],
    msWins: [],
    require: new Set(),
    refuse: new Set(),
    nomppe: false,
    stateful: false,
    debug: false,
  };
  const words = pppdWords(text);
  const int = (opt: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (v === undefined || !/^\d+$/.test(v) || n < min || n > max)
      throw new ConfigError(`${file}: ${opt} '${v ?? ''}' is not a number in ${min}..${max}`);
    return n;
  };
  const addr = (opt: string, v: string | undefined): string => {
    if (v === undefined || parseIpv4(v) === undefined)
      throw new ConfigError(`${file}: ${opt} '${v ?? ''}' is not an IPv4 address`);
    return v;
  };
  const allowMppe = (...bits: (40 | 128)[]) => {
    s.mppe ??= new Set();
    for (const b of bits) s.mppe.add(b);
  };
  for (let i = 0; i < words.length; i++) {
    const opt = words[i]!;
    const arg = () => {
      const v = words[++i];
      if (v === undefined) throw new ConfigError(`${file}: option '${opt}' needs a value`);
      return v;
    };
    // pppd(8): "+pap" = require-pap, "-pap" = refuse-pap, and so on.
    const plusMinus = /^([+-])(pap|chap|mschap|mschap-v2)$/.exec(opt);
    const req = /^require-(pap|chap|mschap|mschap-v2)$/.exec(opt);
    const ref = /^refuse-(pap|chap|mschap|mschap-v2)$/.exec(opt);
    if (plusMinus || req || ref) {
      const auth = AUTH_OF[(plusMinus?.[2] ?? req?.[1] ?? ref?.[1])!]!;
      if (req || plusMinus?.[1] === '+') {
        s.require.add(auth);
        s.refuse.delete(auth);
      } else {
        s.refuse.add(auth);
        s.require.delete(auth);
      }
      continue;
    }
    switch (opt) {
      case 'name':
        s.name = arg();
        break;
      case 'ms-dns':
        if (s.msDns.length === 2)
          warn(`${file}: option 'ms-dns' given more than twice: the third is ignored`);
        else s.msDns.push(addr(opt, arg()));
        break;
      case 'ms-wins':
        if (s.msWins.length === 2)
          warn(`${file}: option 'ms-wins' given more than twice: the third is ignored`);
        else s.msWins.push(addr(opt, arg()));
        break;
      case 'require-mppe':
        allowMppe(40, 128);
        s.nomppe = false;
        break;
      case 'require-mppe-40':
        allowMppe(40);
        s.nomppe = false;
        break;
      case 'require-mppe-128':
        allowMppe(128);
        s.nomppe = false;
        break;
      case 'nomppe':
        s.nomppe = true;
        s.mppe = undefined;
        break;
      case 'nomppe-40':
        s.mppe?.delete(40);
        break;
      case 'nomppe-128':
        s.mppe?.delete(128);
        break;
      case 'mppe-stateful':
        s.stateful = true;
        break;
      case 'mppe': {
        // The older syntax: "mppe required,stateless,no40,no56".
        for (const w of arg().split(',')) {
          if (w === 'required') allowMppe(40, 128);
          else if (w === 'stateless') s.stateful = false;
          else if (w === 'stateful') s.stateful = true;
          else if (w === 'no40') s.mppe?.delete(40);
          else if (w === 'no128') s.mppe?.delete(128);
          else if (w !== 'no56')
            warn(
              `${file}: option 'mppe ${w}' is not supported (ignored): only required, stateless, stateful, no40, no56, no128`,
            );
        }
        break;
      }
      case 'lcp-echo-interval':
        s.lcpEchoInterval = int(opt, arg(), 0, 86400);
        break;
      case 'lcp-echo-failure':
        s.lcpEchoFailure = int(opt, arg(), 0, 100);
        break;
      case 'mtu':
      case 'mru': {
        const n = int(opt, arg(), 64, 65535);
        const clamped = Math.min(1500, Math.max(576, n));
        if (clamped !== n)
          warn(`${file}: option '${opt} ${n}' is outside 576..1500: pptp-ts uses ${clamped}`);
        if (opt === 'mtu') s.mtu = clamped;
        else s.mru = clamped;
        break;
      }
      case 'debug':
        s.debug = true;
        break;
      case '+ipv6':
        s.ipv6 = true;
        break;
      case '-ipv6':
      case 'noipv6':
        s.ipv6 = false;
        break;
      case 'ip-up-script':
        s.ipUp = arg();
        break;
      case 'ip-down-script':
        s.ipDown = arg();
        break;
      case 'chapms-strip-domain':
        s.stripDomain = true;
        break;
      default: {
        if (opt in PPPD_HONOURED) break;
        const unsupported = PPPD_UNSUPPORTED[opt];
        if (unsupported) {
          const [arity, why] = unsupported;
          const shown = arity ? `${opt} ${words.slice(i + 1, i + 1 + arity).join(' ')}` : opt;
          i += arity;
          warn(`${file}: option '${shown}' ${why}`);
          break;
        }
        // pppd(8): "local_IP_address:remote_IP_address" on its own.
        const pair = /^(\d+\.\d+\.\d+\.\d+)?:(\d+\.\d+\.\d+\.\d+)?$/.exec(opt);
        if (pair) {
          if (pair[1]) s.localAddress = addr('local address', pair[1]);
          if (pair[2])
            warn(
              `${file}: option '${opt}': the remote address is not used (ignored): clients get addresses from remoteip`,
            );
          break;
        }
        // pppd(8): a bare number is the serial line speed; a path is the device.
        if (/^\d+$/.test(opt) || opt.startsWith('/dev/')) {
          warn(`${file}: option '${opt}' has no meaning without a serial line (ignored)`);
          break;
        }
        warn(`${file}: option '${opt}' is unknown (ignored)`);
      }
    }
  }
  return s;
}

// ─── Putting it together ────────────────────────────────────────────────────

const AUTH_KEYS: Readonly<Record<Auth, string>> = {
  pap: 'require-pap',
  chap: 'require-chap',
  mschap: 'require-mschap',
  'mschap-v2': 'require-mschap-v2',
};

/**
 * Converts pptpd.conf (and its options file) to a server config. Throws
 * {@link ConfigError} with one line saying what to fix when the files
 * cannot make a working server (no addresses, a malformed value, no
 * authentication method left).
 */
export function convertPptpd(input: PptpdInput): PptpdConversion {
  const warnings: string[] = [];
  const warn = (s: string) => warnings.push(s);
  const conf = parsePptpdConf(input.conf, warn);
  const optionsName = input.optionsName ?? conf.option ?? 'options';
  if (conf.option !== undefined && input.options === undefined)
    throw new ConfigError(`pptpd.conf: option file ${conf.option} was not read`);
  if (conf.option === undefined && input.options === undefined)
    warn(
      "pptpd.conf: no 'option' file: pppd would read /etc/ppp/options; pptp-ts uses its defaults (MS-CHAPv2, MPPE-128 required)",
    );
  const ppp = input.options === undefined ? undefined : parsePppdOptions(input.options, optionsName, warn);

  // Addresses: pptp-ts gives every session the same local address and a pool of remote ones.
  const connections = conf.connections ?? PPTPD_DEFAULT_CONNECTIONS;
  let local: string | undefined;
  if (conf.localip !== undefined) {
    const all = expandIpSpecification(conf.localip);
    local = ipv4ToString(all[0]!);
    if (all.length > 1)
      warn(
        `pptpd.conf: localip lists ${all.length} addresses: pptp-ts uses one local address for every session (${local})`,
      );
  } else if (ppp?.localAddress) {
    local = ppp.localAddress;
  }
  if (local === undefined || conf.remoteip === undefined) {
    throw new ConfigError(
      `pptpd.conf: ${local === undefined ? 'localip' : 'remoteip'} is not set: pptp-ts allocates addresses itself and needs both (e.g. 'localip 192.168.0.1' and 'remoteip 192.168.0.234-238,192.168.0.245')`,
    );
  }
  const remote = expandIpSpecification(conf.remoteip);
  // pptpd.conf: "If you give more IP addresses than the value of connections,
  // it will start at the beginning of the list and go until it gets
  // connections IPs. Others will be ignored."
  const pool = remote.slice(0, connections);
  if (remote.length > connections)
    warn(
      `pptpd.conf: remoteip lists ${remote.length} addresses: only the first ${connections} are used, as pptpd does (connections ${connections})`,
    );

  const json: Record<string, unknown> = {
    ...(conf.listen ? { listen: conf.listen } : {}),
    ...(ppp?.name ? { name: ppp.name } : {}),
    'local-ip': local,
    pool: poolSpecOf(pool),
    secrets: input.secrets ?? '/etc/ppp/chap-secrets',
  };
  if (ppp?.msDns.length) json['ms-dns'] = ppp.msDns;
  if (ppp?.msWins.length) json['ms-wins'] = ppp.msWins;
  json.limits = { 'max-sessions': connections };
  if (ppp) json.ppp = pppKeys(ppp, optionsName, warn);
  if (ppp?.ipUp || ppp?.ipDown)
    json.hooks = {
      ...(ppp.ipUp ? { 'ip-up': ppp.ipUp } : {}),
      ...(ppp.ipDown ? { 'ip-down': ppp.ipDown } : {}),
    };
  if (conf.debug || ppp?.debug) json.log = { level: 'debug' };
  const config = validateServerConfig(json, 'pptpd.conf');
  return { config, json, warnings, ...(conf.option !== undefined ? { optionFile: conf.option } : {}) };
}

/** The `ppp` keys for what the options file said, with pppd's meaning of the auth and MPPE options. */
function pppKeys(s: PppSettings, file: string, warn: (s: string) => void): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // pppd: with no require-* option every method the peer may use is allowed, less the refused ones.
  const methods: Auth[] = ['mschap-v2', 'mschap', 'chap', 'pap'];
  let allowed = s.require.size
    ? methods.filter((m) => s.require.has(m))
    : methods.filter((m) => !s.refuse.has(m));
  if (!s.nomppe && allowed.some((m) => m === 'pap' || m === 'chap')) {
    const dropped = allowed.filter((m) => m === 'pap' || m === 'chap');
    allowed = allowed.filter((m) => m !== 'pap' && m !== 'chap');
    warn(
      `${file}: ${dropped.map((m) => m.toUpperCase()).join(' and ')} not offered: MPPE keys come from MS-CHAP (add nomppe to allow ${dropped.length > 1 ? 'them' : 'it'}, unencrypted)`,
    );
  }
  if (!allowed.length) throw new ConfigError(`${file}: every authentication method is refused`);
  for (const m of methods) out[AUTH_KEYS[m]] = allowed.includes(m);
  if (s.nomppe) {
    out.nomppe = true;
    out['require-mppe-128'] = false;
    out['require-mppe-40'] = false;
  } else {
    if (s.mppe && s.mppe.size === 0)
      throw new ConfigError(`${file}: MPPE is required but every key length is refused`);
    out['require-mppe-128'] = s.mppe?.has(128) ?? false;
    out['require-mppe-40'] = s.mppe?.has(40) ?? false;
    if (s.stateful) out['mppe-stateful'] = true;
  }
  // pppd matches "DOMAIN\\user" as written unless chapms-strip-domain says otherwise.
  out['ms-ignore-domain'] = s.stripDomain === true;
  if (s.mtu !== undefined) out.mtu = s.mtu;
  if (s.mru !== undefined) out.mru = s.mru;
  if (s.lcpEchoInterval !== undefined) out['lcp-echo-interval'] = s.lcpEchoInterval;
  if (s.lcpEchoFailure !== undefined) out['lcp-echo-failure'] = s.lcpEchoFailure;
  if (s.ipv6 !== undefined) out.ipv6 = s.ipv6;
  return out;
}

/** Options honoured without a config key, with why (for the docs' table and the tests). */
export const PPPD_HONOURED_OPTIONS = PPPD_HONOURED;
/** Options named in a warning (for the docs' table and the tests). */
export const PPPD_UNSUPPORTED_OPTIONS = PPPD_UNSUPPORTED;
/** pptpd.conf keywords named in a warning. */
export const PPTPD_UNSUPPORTED_OPTIONS = PPTPD_UNSUPPORTED;
