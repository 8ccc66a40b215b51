/**
 * The demo's DNS server: a tiny authoritative server for one zone
 * (`example.test`), built on the `dns-packet` codec and `node:dgram`. It
 * runs in the demo's DNS host, behind the PPTP server, so the client's
 * query has to cross the tunnel to reach it (the demo's DNS example).
 *
 * What it answers (RFC 1034 §4.3.2, reduced to one zone without
 * delegations or CNAMEs):
 *  - a name in the zone that has records of the asked type: those records,
 *    with AA set;
 *  - a name in the zone without that type: NOERROR and no answers
 *    ("NODATA"), the zone's SOA in the authority section (RFC 2308 §2.2);
 *  - a name in the zone that does not exist: NXDOMAIN, the SOA in the
 *    authority section (RFC 2308 §2.1);
 *  - a name outside the zone: REFUSED (it is not a recursive server);
 *  - anything it cannot read: FORMERR when the 12-byte header is there to
 *    take the ID from, silence otherwise; responses are never answered.
 *
 * `answerQuery` is pure (bytes in, bytes out) so it is tested without
 * sockets; `runDnsServer` is the `pptp-ts demo dns-server` command.
 */
import { createSocket } from 'node:dgram';
import dnsPacket from 'dns-packet';
import { u16 } from '../../wire/bytes.js';
import { commandArgs, usageError } from '../args.js';

/** One resource record of the zone. Names are absolute, without the trailing dot. */
export type ZoneRecord =
  | { readonly name: string; readonly type: 'A'; readonly ttl: number; readonly data: string }
  | { readonly name: string; readonly type: 'NS'; readonly ttl: number; readonly data: string }
  | {
      readonly name: string;
      readonly type: 'SOA';
      readonly ttl: number;
      readonly data: {
        readonly mname: string;
        readonly rname: string;
        readonly serial: number;
        readonly refresh: number;
        readonly retry: number;
        readonly expire: number;
        readonly minimum: number;
      };
    };

/** A zone: its origin and its records (the SOA among them). */
export interface Zone {
  readonly origin: string;
  readonly records: readonly ZoneRecord[];
}

/** The demo's addresses on the LAN behind the PPTP server (see docs/demo.md). */
export const DEMO_DNS_ADDRESS = '10.88.0.53';
export const DEMO_WWW_ADDRESS = '10.88.0.80';
export const DEMO_QUERY_NAME = 'www.example.test';

/**
 * The demo zone. `example.test` is reserved for testing (RFC 2606 §2), so it
 * can never collide with a real name.
 */
export function demoZone(dns = DEMO_DNS_ADDRESS, www = DEMO_WWW_ADDRESS): Zone {
  const origin = 'example.test';
  return {
    origin,
    records: [
      {
        name: origin,
        type: 'SOA',
        ttl: 300,
        data: {
          mname: `ns.${origin}`,
          rname: `hostmaster.${origin}`,
          serial: 2024060101,
          refresh: 3600,
          retry: 600,
          expire: 86400,
          minimum: 60,
        },
      },
      { name: origin, type: 'NS', ttl: 300, data: `ns.${origin}` },
      { name: `ns.${origin}`, type: 'A', ttl: 300, data: dns },
      { name: `www.${origin}`, type: 'A', ttl: 300, data: www },
    ],
  };
}

/** Response codes used here (RFC 1035 §4.1.1 RCODE). */
enum Rcode {
  NoError = 0,
  /** "Format error - The name server was unable to interpret the query." */
  FormErr = 1,
  /** "Name Error - ... the domain name referenced in the query does not exist." */
  NxDomain = 3,
  /** "Not Implemented - The name server does not support the requested kind of query." */
  NotImp = 4,
  /** "Refused - The name server refuses to perform the specified operation for policy reasons." */
  Refused = 5,
}

/** Header flag bits (RFC 1035 §4.1.1), as dns-packet's `flags` carries them (QR is its `type`). */
const FLAG_AA = 1 << 10;
const FLAG_RD = 1 << 8;
const HEADER_LENGTH = 12;

const lower = (name: string): string => name.toLowerCase().replace(/\.$/, '');

function inZone(zone: Zone, name: string): boolean {
  const n = lower(name);
  const o = lower(zone.origin);
  return n === o || n.endsWith(`.${o}`);
}

function soaOf(zone: Zone): ZoneRecord | undefined {
  return zone.records.find((r) => r.type === 'SOA');
}

function toAnswer(r: ZoneRecord, name = r.name): dnsPacket.Answer {
  // The record keeps the owner name as asked (same letters as the question), as servers do.
  return { name, type: r.type, class: 'IN', ttl: r.ttl, data: r.data } as dnsPacket.Answer;
}

/** A response with only a header (and the ID taken from the query's first two bytes). */
function bareResponse(id: number, rcode: Rcode, rd: boolean): Uint8Array {
  const out = dnsPacket.encode({
    type: 'response',
    id,
    flags: rcode | (rd ? FLAG_RD : 0),
    questions: [],
    answers: [],
  });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * The answer to one query datagram, or `undefined` when it must not be
 * answered. Never throws.
 */
export function answerQuery(zone: Zone, query: Uint8Array): Uint8Array | undefined {
  // RFC 1035 §4.1.1: without the whole header there is no ID to answer to.
  if (query.length < HEADER_LENGTH) return undefined;
  const id = u16(query, 0);
  const rd = (query[2]! & 0x01) !== 0; // RD is the low bit of the third byte
  // "QR: A one bit field that specifies whether this message is a query (0), or a response (1)."
  if ((query[2]! & 0x80) !== 0) return undefined;
  let q: dnsPacket.DecodedPacket;
  try {
    q = dnsPacket.decode(Buffer.from(query.buffer, query.byteOffset, query.byteLength));
  } catch {
    return bareResponse(id, Rcode.FormErr, rd);
  }
  const opcode = (q as { opcode?: string }).opcode ?? 'QUERY';
  if (opcode !== 'QUERY') return bareResponse(id, Rcode.NotImp, rd);
  // RFC 1035 §4.1.2: the question section "contains QDCOUNT (usually 1) entries"; this server
  // reads exactly one, as common servers do, and calls anything else a format error.
  const questions = q.questions ?? [];
  if (questions.length !== 1) return bareResponse(id, Rcode.FormErr, rd);
  const question = questions[0]!;
  const respond = (rcode: Rcode, answers: dnsPacket.Answer[], authorities: dnsPacket.Answer[]) => {
    const out = dnsPacket.encode({
      type: 'response',
      id,
      flags: rcode | (rd ? FLAG_RD : 0) | (rcode === Rcode.Refused ? 0 : FLAG_AA),
      questions: [question],
      answers,
      authorities,
    });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  };
  if ((question.class ?? 'IN') !== 'IN' || !inZone(zone, question.name)) {
    return respond(Rcode.Refused, [], []);
  }
  const owned = zone.records.filter((r) => lower(r.name) === lower(question.name));
  const soa = soaOf(zone);
  const negative = soa ? [toAnswer(soa)] : [];
  if (owned.length === 0) return respond(Rcode.NxDomain, [], negative);
  const matching = owned.filter((r) => r.type === question.type);
  if (matching.length === 0) return respond(Rcode.NoError, [], negative);
  return respond(
    Rcode.NoError,
    matching.map((r) => toAnswer(r, question.name)),
    [],
  );
}

/** A running server. */
export interface DnsServer {
  /** The bound address and port. */
  readonly address: string;
  readonly port: number;
  /** Counters: queries answered, datagrams dropped. */
  readonly stats: { answered: number; dropped: number };
  close(): Promise<void>;
}

/** Serves `zone` on UDP `address:port` (port 0 picks a free one). */
export function startDnsServer(
  zone: Zone,
  address: string,
  port = 53,
  onQuery?: (from: string, query: Uint8Array, answer: Uint8Array | undefined) => void,
): Promise<DnsServer> {
  const socket = createSocket({ type: 'udp4' });
  const stats = { answered: 0, dropped: 0 };
  socket.on('message', (msg, rinfo) => {
    const query = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
    const answer = answerQuery(zone, query);
    onQuery?.(`${rinfo.address}:${rinfo.port}`, query, answer);
    if (!answer) {
      stats.dropped++;
      return;
    }
    stats.answered++;
    socket.send(answer, rinfo.port, rinfo.address);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.off('error', reject);
      // A send error (e.g. no route back) must not end the server.
      socket.on('error', () => {});
      const bound = socket.address();
      resolve({
        address: bound.address,
        port: bound.port,
        stats,
        close: () => new Promise<void>((r) => socket.close(() => r())),
      });
    });
  });
}

const USAGE = `usage: pptp-ts demo dns-server [--listen ADDR] [--port N]

Serves the demo zone example.test (www.example.test A ${DEMO_WWW_ADDRESS},
ns.example.test A ${DEMO_DNS_ADDRESS}) over UDP until SIGINT/SIGTERM.
`;

function describe(q: Uint8Array): string {
  try {
    const p = dnsPacket.decode(Buffer.from(q.buffer, q.byteOffset, q.byteLength));
    const question = p.questions?.[0];
    return question ? `${question.name} ${question.type}` : 'no question';
  } catch {
    return `${q.length} unreadable bytes`;
  }
}

function rcodeOf(a: Uint8Array | undefined): string {
  if (!a) return 'dropped';
  return (['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'][a[3]! & 0x0f] ??
    'rcode') as string;
}

/** `pptp-ts demo dns-server`: runs until SIGINT/SIGTERM; logs one line per query on stdout. */
export async function runDnsServer(argv: string[]): Promise<number> {
  const args = commandArgs(
    argv,
    {
      options: {
        listen: { type: 'string' },
        port: { type: 'string' },
      },
    },
    USAGE,
    usageError('demo dns-server', USAGE),
  );
  if (typeof args === 'number') return args;
  const { values } = args;
  const port = Number(values.port ?? 53);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`pptp-ts demo dns-server: bad --port ${values.port}\n`);
    return 2;
  }
  const zone = demoZone();
  let server: DnsServer;
  try {
    server = await startDnsServer(zone, values.listen ?? '0.0.0.0', port, (from, q, a) => {
      process.stdout.write(`query from ${from}: ${describe(q)} -> ${rcodeOf(a)}\n`);
    });
  } catch (e) {
    process.stderr.write(`pptp-ts demo dns-server: cannot listen: ${(e as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`listening on ${server.address}:${server.port}, zone ${zone.origin}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  process.stdout.write(`stopped: ${server.stats.answered} answered, ${server.stats.dropped} dropped\n`);
  return 0;
}
