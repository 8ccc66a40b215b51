/**
 * FreeRADIUS's `radclient` as the RADIUS client of a test: a NAS sending
 * Access- and Accounting-Requests to a RADIUS server, or a Dynamic
 * Authorization Client (RFC 5176) sending Disconnect-Request and CoA-Request
 * to a NAS. Any number of requests go out in one run (`-p` of them at once),
 * optionally from inside a network namespace; every request gets its reply
 * back, matched by Identifier and source port in `-x` output.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NetnsLab, run } from './netns.js';

export type RadclientCommand = 'auth' | 'acct' | 'coa' | 'disconnect' | 'status';

/** Attributes by dictionary name; strings go quoted, so enum names ("Start") and addresses work too. */
export type RadAttrs = Readonly<Record<string, string | number>>;

export interface RadclientOptions {
  /** host:port */
  readonly server: string;
  readonly command: RadclientCommand;
  readonly secret: string;
  readonly requests: readonly RadAttrs[];
  /** Run radclient inside this namespace. */
  readonly netns?: { readonly lab: NetnsLab; readonly ns: string };
  /** Seconds per try (default 3) and tries (default 3). */
  readonly timeoutS?: number;
  readonly tries?: number;
  /** Requests in flight at once (default 20). */
  readonly parallel?: number;
  /**
   * Add `Message-Authenticator = 0x00` (radclient then signs the request).
   * Default: yes for auth, coa, disconnect and status.
   */
  readonly messageAuthenticator?: boolean;
}

export interface RadReply {
  /** e.g. Access-Accept, Accounting-Response, Disconnect-NAK. */
  readonly code: string;
  /** In packet order, quotes removed. */
  readonly attributes: readonly (readonly [string, string])[];
  get(name: string): string | undefined;
}

export interface RadclientResult {
  readonly request: RadAttrs;
  /** Undefined when no reply came (radclient gave up). */
  readonly reply?: RadReply;
}

function quote(v: string | number): string {
  if (typeof v === 'number') return String(v);
  return `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function requestText(attrs: RadAttrs, ma: boolean): string {
  const lines = Object.entries(attrs).map(([k, v]) => {
    if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(k)) throw new TypeError(`bad attribute name: ${k}`);
    return `${k} = ${quote(v)}`;
  });
  if (ma && !('Message-Authenticator' in attrs)) lines.push('Message-Authenticator = 0x00');
  return `${lines.join('\n')}\n`;
}

export interface Block {
  readonly kind: 'Sent' | 'Received';
  readonly code: string;
  readonly key: string;
  readonly attributes: [string, string][];
}

/** `-x` output → packet blocks. Key: Identifier + our (the client's) port. */
export function parseRadclientOutput(text: string): Block[] {
  const blocks: Block[] = [];
  let cur: Block | undefined;
  for (const line of text.split('\n')) {
    const m = /^(Sent|Received) (\S+) Id (\d+) from ([^ ]+) to ([^ ]+) length \d+/.exec(line);
    if (m) {
      const ours = m[1] === 'Sent' ? m[4]! : m[5]!;
      const port = ours.slice(ours.lastIndexOf(':') + 1);
      cur = { kind: m[1] as Block['kind'], code: m[2]!, key: `${m[3]}/${port}`, attributes: [] };
      blocks.push(cur);
      continue;
    }
    const a = /^\t(\S+) = (.*)$/.exec(line);
    if (a && cur) {
      let v = a[2]!;
      if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
      cur.attributes.push([a[1]!, v]);
    } else {
      cur = undefined;
    }
  }
  return blocks;
}

/**
 * Pairs `-x` packet blocks with the requests, which radclient sends in file
 * order: a Sent whose Identifier and port are outstanding with the same
 * attributes is a retransmission; otherwise it is the next request (an
 * Identifier is free again once its request was answered or given up). A
 * Received answers the outstanding request with its Identifier and port.
 * Undefined when radclient did not send `count` requests.
 */
export function matchReplies(blocks: readonly Block[], count: number): (RadReply | undefined)[] | undefined {
  const replies: (RadReply | undefined)[] = new Array(count).fill(undefined);
  const outstanding = new Map<string, { index: number; attributes: string }>();
  let next = 0;
  for (const b of blocks) {
    const attributes = JSON.stringify(b.attributes);
    if (b.kind === 'Sent') {
      if (outstanding.get(b.key)?.attributes === attributes) continue;
      if (next >= count) throw new Error(`radclient sent more than ${count} requests`);
      outstanding.set(b.key, { index: next++, attributes });
    } else {
      const o = outstanding.get(b.key);
      if (o === undefined) throw new Error(`radclient printed a reply to no request (${b.key})`);
      outstanding.delete(b.key);
      replies[o.index] = reply(b);
    }
  }
  return next === count ? replies : undefined;
}

function reply(b: Block): RadReply {
  return {
    code: b.code,
    attributes: b.attributes,
    get: (name) => b.attributes.find(([k]) => k === name)?.[1],
  };
}

/** Sends every request; resolves with one result per request, in order. */
export async function radclient(o: RadclientOptions): Promise<RadclientResult[]> {
  if (o.requests.length === 0) return [];
  const ma = o.messageAuthenticator ?? o.command !== 'acct';
  const dir = mkdtempSync(join(tmpdir(), `pptp-ts-radclient-${process.pid}-`));
  try {
    const file = join(dir, 'requests');
    writeFileSync(file, o.requests.map((r) => requestText(r, ma)).join('\n'));
    const timeoutS = o.timeoutS ?? 3;
    const tries = o.tries ?? 3;
    const argv = [
      'radclient',
      '-x',
      '-f',
      file,
      '-p',
      String(o.parallel ?? 20),
      '-t',
      String(timeoutS),
      '-r',
      String(tries),
      o.server,
      o.command,
      o.secret,
    ];
    // Bounded: every request may wait timeoutS per try, in batches of `parallel`.
    const timeoutMs = (Math.ceil(o.requests.length / (o.parallel ?? 20)) * timeoutS * tries + 10) * 1000;
    const r = o.netns
      ? await o.netns.lab.exec(o.netns.ns, argv, { allowFail: true, timeoutMs })
      : await run(argv, { allowFail: true, timeoutMs });
    if (r.signal) throw new Error(`radclient killed (${r.signal}): ${r.stderr}`);
    const replies = matchReplies(parseRadclientOutput(r.stdout), o.requests.length);
    if (replies === undefined) {
      throw new Error(`radclient did not send all ${o.requests.length} requests: ${r.stderr}\n${r.stdout}`);
    }
    const results: RadclientResult[] = o.requests.map((request, i) => {
      const reply = replies[i];
      return reply ? { request, reply } : { request };
    });
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A Dynamic Authorization Client (RFC 5176): sends Disconnect-Request or
 * CoA-Request to `server` (host:port, normally 3799) and returns the reply
 * (Disconnect-ACK/NAK, CoA-ACK/NAK), or undefined when none came.
 */
export async function dasRequest(o: {
  readonly server: string;
  readonly kind: 'disconnect' | 'coa';
  readonly secret: string;
  readonly attributes: RadAttrs;
  readonly netns?: { readonly lab: NetnsLab; readonly ns: string };
  readonly timeoutS?: number;
  readonly tries?: number;
}): Promise<RadReply | undefined> {
  const [res] = await radclient({
    server: o.server,
    command: o.kind,
    secret: o.secret,
    requests: [o.attributes],
    ...(o.netns ? { netns: o.netns } : {}),
    timeoutS: o.timeoutS ?? 2,
    tries: o.tries ?? 2,
    parallel: 1,
  });
  return res?.reply;
}
