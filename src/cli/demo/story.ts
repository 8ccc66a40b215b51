/**
 * What the demo tells from its capture of the outer link: the packets
 * `pptp-ts decode` dissected (src/decode/), turned into
 *  - the handshake, one line per control message, in order: TCP to port
 *    1723, SCCRQ … OCRP, LCP, MS-CHAPv2, CCP, IPCP (and the teardown after
 *    the data), leaving out keep-alives and acks;
 *  - the tunnel's parameters as the wire shows them: call IDs, what LCP,
 *    CHAP, CCP and IPCP agreed;
 *  - a count of the data packets, by what they carried once decrypted;
 *  - the frames of the DNS query for the demo's name and its response.
 * Pure: packets in, a {@link DemoStory} out. Nothing here reads a field by
 * position; everything goes by the dissector's JSON keys (`layerJson`).
 */
import { layerJson } from '../../decode/render.js';
import type { DecodedPacket, Field, Layer } from '../../decode/tree.js';

/** One control message of the handshake or teardown. */
export interface ControlEvent {
  readonly frame: number;
  readonly seconds: number;
  /** Who sent it: by its outer source address. */
  readonly from: 'client' | 'server' | 'other';
  /** PPTP, LCP, CHAP, PAP, CCP, IPCP, IPv6CP, or TCP. */
  readonly protocol: string;
  /** `Start-Control-Connection-Request (SCCRQ)`, `Configure-Ack`... */
  readonly message: string;
  /** Short texts: options, call IDs, names, results. */
  readonly details: readonly string[];
}

/** The tunnel's parameters, as the capture shows them. */
export interface TunnelFacts {
  /** The call ID each side chose (RFC 2637 §2.7/2.8): the other side's GRE packets carry it as the key. */
  clientCallId?: number;
  serverCallId?: number;
  /** Authentication protocol the server asked for in its acknowledged LCP Configure-Request. */
  auth?: string;
  /** The user name in the CHAP Response. */
  user?: string;
  /** The authenticator's verdict (the CHAP Success or Failure message). */
  authResult?: string;
  /** What CCP agreed for MPPE (`stateless, 128-bit`). */
  mppe?: string;
  /** IPCP: the acknowledged addresses and DNS servers. */
  clientAddress?: string;
  serverAddress?: string;
  dns: string[];
  /** LCP: the MRU each side asked for and the other acknowledged. */
  clientMru?: number;
  serverMru?: number;
}

/** Counts of the packets between the handshake and the teardown. */
export interface DataCounts {
  /** GRE packets carrying MPPE (encrypted data). */
  encrypted: number;
  /** Of those, how many `pptp-ts decode` decrypted. */
  decrypted: number;
  /** Tunnelled IP packets seen in the clear (decrypted, or sent without MPPE) by what they carry (`DNS`, `ICMP`...). */
  readonly kinds: Map<string, number>;
  /** GRE acknowledgement-only packets (RFC 2637 §4.4). */
  ackOnly: number;
  /** LCP and PPTP echo keep-alives. */
  keepAlives: number;
}

export interface DemoStory {
  readonly handshake: ControlEvent[];
  /** Control messages between data packets. */
  readonly middle: ControlEvent[];
  readonly teardown: ControlEvent[];
  readonly data: DataCounts;
  readonly facts: TunnelFacts;
  /** The decrypted DNS query for the name, and the response with the same ID. */
  dnsQuery?: DecodedPacket;
  dnsResponse?: DecodedPacket;
  /** Frames the dissector returned. */
  frames: number;
}

export interface StoryOptions {
  /** Outer addresses of the two ends. */
  readonly clientOuter: string;
  readonly serverOuter: string;
  /** The name the demo resolved. */
  readonly queryName: string;
}

type Json = ReturnType<typeof layerJson>;

const CONTROL_PROTOCOLS = new Set(['LCP', 'CHAP', 'PAP', 'CCP', 'IPCP', 'IPv6CP']);
/** LCP codes that are keep-alives, not negotiation (RFC 1661 §5.8, §5.9). */
const LCP_KEEPALIVE_CODES = new Set([9, 10, 11]);
/** PPTP Echo-Request/Reply (RFC 2637 §2.4, §2.5). */
const PPTP_ECHO_TYPES = new Set([5, 6]);

/** `Configure-Request (1)` → `Configure-Request`. */
function withoutNumber(s: string): string {
  return s.replace(/\s*\((?:0x)?[0-9a-f]+\)$/i, '');
}

function field(l: Layer, key: string): Field | undefined {
  return l.fields.find((f) => f.key === key);
}

function fieldText(l: Layer, key: string): string | undefined {
  const f = field(l, key);
  return f?.text ? f.text : undefined;
}

/** Short names for the options every PPTP session negotiates (RFC 1661 §6.5, §6.6). */
const SHORT_OPTION_NAMES: Readonly<Record<string, string>> = {
  'Protocol-Field-Compression': 'PFC',
  'Address-and-Control-Field-Compression': 'ACFC',
  'Authentication-Protocol': 'Auth',
};

/**
 * The option lines of an LCP/IPCP/CCP/IPv6CP packet, kept short for a
 * summary: no type numbers, no protocol numbers (`Auth: CHAP MS-CHAPv2`,
 * `MRU: 1400`, `ACFC`).
 */
function optionTexts(l: Layer): string[] {
  const opts = field(l, 'options');
  return (opts?.children ?? []).map((c) => {
    const text = (c.text ?? '').replace(/ \(\d+\)(?=:|$)/, '').replace(/ \(0x[0-9a-f]+\)/g, '');
    const [name = '', ...rest] = text.split(':');
    const short = SHORT_OPTION_NAMES[name];
    return short ? [short, ...rest].join(':') : text;
  });
}

function senderOf(p: DecodedPacket, opts: StoryOptions): ControlEvent['from'] {
  const ip = p.layers.find((l) => l.protocol === 'IPv4');
  const src = ip ? layerJson(ip).source : undefined;
  if (src === opts.clientOuter) return 'client';
  if (src === opts.serverOuter) return 'server';
  return 'other';
}

/** The control message a layer carries, or undefined for data and keep-alives. */
function controlEvent(l: Layer, j: Json, base: Omit<ControlEvent, 'protocol' | 'message' | 'details'>) {
  if (l.protocol === 'PPTP') {
    if (PPTP_ECHO_TYPES.has(j.messageType as number)) return undefined;
    const details = ['callId', 'peerCallId', 'resultCode', 'errorCode', 'reason']
      .map((k) => fieldText(l, k))
      .filter((t): t is string => t !== undefined);
    return { ...base, protocol: 'PPTP', message: fieldText(l, 'messageType') ?? 'PPTP', details };
  }
  if (CONTROL_PROTOCOLS.has(l.protocol)) {
    if (l.protocol === 'LCP' && LCP_KEEPALIVE_CODES.has(j.code as number)) return undefined;
    const message = withoutNumber(fieldText(l, 'code') ?? `code ${String(j.code)}`);
    const details: string[] = [];
    if (l.protocol === 'CHAP' || l.protocol === 'PAP') {
      for (const k of ['algorithm', 'name', 'peerId', 'message']) {
        const t = fieldText(l, k);
        if (t) details.push(k === 'algorithm' ? withoutNumber(t) : t);
      }
    } else if (j.code !== 2) {
      // A Configure-Ack repeats the Request it acknowledges (RFC 1661 §5.2): no need to say it twice.
      details.push(...optionTexts(l));
    }
    return { ...base, protocol: l.protocol, message, details };
  }
  return undefined;
}

function isKeepAlive(l: Layer, j: Json): boolean {
  return (
    (l.protocol === 'LCP' && LCP_KEEPALIVE_CODES.has(j.code as number)) ||
    (l.protocol === 'PPTP' && PPTP_ECHO_TYPES.has(j.messageType as number))
  );
}

/** What a decrypted packet carried, for the data counts: the innermost interesting layer. */
function dataKind(layers: readonly Layer[], from: number): string {
  const inner = layers.slice(from).map((l) => l.protocol);
  for (const k of ['DNS', 'ICMP', 'ICMPv6', 'TCP', 'UDP', 'IPv6', 'IPv4']) if (inner.includes(k)) return k;
  return inner.at(-1) ?? 'PPP';
}

function option(j: Json, name: string): Record<string, unknown> | undefined {
  const list = j.options;
  if (!Array.isArray(list)) return undefined;
  return list.find((o) => (o as Record<string, unknown>)?.name === name) as
    | Record<string, unknown>
    | undefined;
}

/** Tells the story of a capture (see the module comment). */
export function tellStory(packets: Iterable<DecodedPacket>, opts: StoryOptions): DemoStory {
  const story: DemoStory = {
    handshake: [],
    middle: [],
    teardown: [],
    data: { encrypted: 0, decrypted: 0, kinds: new Map(), ackOnly: 0, keepAlives: 0 },
    facts: { dns: [] },
    frames: 0,
  };
  // Control messages seen after the first data packet: the teardown if no data follows them.
  let afterData: ControlEvent[] = [];
  let sawData = false;
  // The last Configure-Request each side sent, per protocol: an Ack of it fixes the facts.
  const lastRequest = new Map<string, Json>();
  let queryId: number | undefined;
  const want = opts.queryName.toLowerCase();

  for (const p of packets) {
    story.frames++;
    const from = senderOf(p, opts);
    const base = { frame: p.frameNumber, seconds: p.relativeSeconds, from };
    let isData = false;
    p.layers.forEach((l, i) => {
      const j = layerJson(l);
      if (l.protocol === 'TCP' && i + 1 === p.layers.length) {
        // A bare segment: only the connection's opening and closing are part of the story.
        const flags = String(j.flags ?? '');
        if (/SYN|FIN|RST/.test(flags)) {
          const ev: ControlEvent = {
            ...base,
            protocol: 'TCP',
            message: `[${flags.replace(/,/g, ' ')}]`,
            details: [`${String(j.sourcePort)} → ${String(j.destinationPort)}`],
          };
          (sawData ? afterData : story.handshake).push(ev);
        }
        return;
      }
      if (l.protocol === 'GRE' && j.acknowledgmentOnly === true) story.data.ackOnly++;
      if (isKeepAlive(l, j)) story.data.keepAlives++;
      if (l.protocol === 'MPPE') {
        isData = true;
        story.data.encrypted++;
        if (p.layers.slice(i + 1).some((x) => x.protocol === 'PPP')) story.data.decrypted++;
      }
      if (
        (l.protocol === 'IPv4' || l.protocol === 'IPv6') &&
        p.layers.slice(0, i).some((x) => x.protocol === 'GRE')
      ) {
        // An IP packet inside the tunnel (decrypted, or sent without MPPE).
        isData = true;
        const kind = dataKind(p.layers, i);
        story.data.kinds.set(kind, (story.data.kinds.get(kind) ?? 0) + 1);
      }
      const ev = controlEvent(l, j, base);
      if (ev) (sawData ? afterData : story.handshake).push(ev);
      collectFacts(story.facts, l, j, from, lastRequest);
      if (l.protocol === 'DNS') {
        const q = Array.isArray(j.questions) ? (j.questions[0] as Record<string, unknown>) : undefined;
        const name = typeof q?.name === 'string' ? q.name.toLowerCase() : '';
        if (name !== want) return;
        if (j.type === 'query' && !story.dnsQuery) {
          story.dnsQuery = p;
          queryId = j.id as number;
        } else if (j.type === 'response' && story.dnsQuery && !story.dnsResponse && j.id === queryId) {
          story.dnsResponse = p;
        }
      }
    });
    if (isData) {
      sawData = true;
      // Control traffic between data packets (a CCP Reset-Request, a late IPv6CP) is neither
      // handshake nor teardown.
      story.middle.push(...afterData);
      afterData = [];
    }
  }
  story.teardown.push(...afterData);
  return story;
}

function collectFacts(
  facts: TunnelFacts,
  l: Layer,
  j: Json,
  from: ControlEvent['from'],
  lastRequest: Map<string, Json>,
): void {
  if (l.protocol === 'PPTP') {
    if (j.name === 'OCRQ' && from === 'client') facts.clientCallId = j.callId as number;
    if (j.name === 'OCRP' && from === 'server') facts.serverCallId = j.callId as number;
    return;
  }
  if (l.protocol === 'CHAP') {
    // The first exchange is the one that set up the tunnel.
    if (j.code === 2 && typeof j.name === 'string') facts.user ??= j.name;
    if ((j.code === 3 || j.code === 4) && from === 'server') {
      const verdict = j.code === 3 ? 'Success' : 'Failure';
      facts.authResult ??= typeof j.message === 'string' ? `${verdict}: "${j.message}"` : verdict;
    }
    return;
  }
  if (!CONTROL_PROTOCOLS.has(l.protocol)) return;
  // RFC 1661 §5.2: a Configure-Ack repeats the Configure-Request it acknowledges, so the
  // Ack's options are what the *sender of the request* will use.
  if (j.code === 1) {
    lastRequest.set(`${l.protocol}/${from}`, j);
    return;
  }
  if (j.code !== 2) return;
  const requester = from === 'client' ? 'server' : from === 'server' ? 'client' : 'other';
  if (requester === 'other') return;
  switch (l.protocol) {
    case 'LCP': {
      const mru = option(j, 'MRU')?.mru;
      if (typeof mru === 'number') {
        if (requester === 'client') facts.clientMru = mru;
        else facts.serverMru = mru;
      }
      const authField = field(l, 'options')?.children?.find((c) =>
        c.children?.some((x) => x.key === 'name' && x.value === 'Authentication-Protocol'),
      );
      if (authField?.text && requester === 'server') {
        facts.auth = authField.text.replace(/^[^:]*:\s*/, '');
      }
      break;
    }
    case 'CCP': {
      const mppe = field(l, 'options')?.children?.find((c) =>
        c.children?.some((x) => x.key === 'name' && x.value === 'MPPE/MPPC'),
      );
      const m = mppe?.text ? /\(([^)]*)\)\s*$/.exec(mppe.text) : null;
      if (m) facts.mppe = m[1];
      break;
    }
    case 'IPCP': {
      const addr = option(j, 'IP-Address')?.address;
      if (typeof addr === 'string') {
        if (requester === 'client') facts.clientAddress = addr;
        else facts.serverAddress = addr;
      }
      if (requester === 'client') {
        const dns = [option(j, 'Primary-DNS-Address'), option(j, 'Secondary-DNS-Address')]
          .map((o) => o?.address)
          .filter((a): a is string => typeof a === 'string' && a !== '0.0.0.0');
        if (dns.length) facts.dns = dns;
      }
      break;
    }
  }
}
