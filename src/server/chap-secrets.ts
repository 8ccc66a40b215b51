/**
 * A pppd-format secrets file (`/etc/ppp/chap-secrets`, same format as
 * `pap-secrets`), parsed and looked up the way pppd's `scan_authfile` does:
 *
 * ```
 * # client     server    secret          acceptable IP addresses
 * alice        *         "correct horse"  10.0.0.10
 * "bob smith"  pptp-ts   s3cret           *
 * *            pptp-ts   @/etc/ppp/guest  10.0.0.0/28 !10.0.0.1
 * ```
 *
 * - Words are separated by white space; `"..."` or `'...'` quote, `\` escapes
 *   the next character, `#` at the start of a word starts a comment.
 * - `client` and `server` match the peer's name and our name exactly, or are
 *   the wildcard `*`. The most specific entry wins (exact client beats
 *   wildcard client, then exact server beats wildcard server); among equals
 *   the first in the file.
 * - A secret starting with `@` names a file whose first line is the secret.
 * - Addresses: `*` (or nothing) = any address from the pool; `-` = no address
 *   at all (the session is refused); `a.b.c.d` = a fixed address (the first
 *   one listed is assigned to the user); `a.b.c.d/n` = any pool address in
 *   that subnet; `!a.b.c.d[/n]` = never this one. Host names are not
 *   resolved: they are rejected with the line number.
 */

import { ipv4ToString, parseIpv4 } from '../wire/bytes.js';

export interface Ipv4Net {
  readonly address: number;
  readonly prefixLength: number;
}

/** What addresses a user may have (from the fourth and later columns). */
export interface AddressPolicy {
  /** `-`: no address may be given; the session is refused. */
  readonly none: boolean;
  /** Fixed addresses in file order; the first is assigned. */
  readonly fixed: readonly number[];
  /** Subnets the pool address must fall in; empty = anywhere. */
  readonly allow: readonly Ipv4Net[];
  /** Addresses or subnets that must never be assigned. */
  readonly deny: readonly Ipv4Net[];
}

export interface SecretEntry {
  /** The client name, or `undefined` for the wildcard `*` (a quoted `"*"` is a literal name, as in pppd). */
  readonly client: string | undefined;
  /** Our name as the server, or `undefined` for the wildcard. */
  readonly server: string | undefined;
  /** The secret itself (already read from the file when given as `@file`). Never log it. */
  readonly secret: string;
  readonly addresses: AddressPolicy;
  /** 1-based line number in the file, for messages. */
  readonly line: number;
}

/** A parse error naming the file and line. */
export class SecretsFileError extends Error {
  override readonly name = 'SecretsFileError';
}

export interface ParseOptions {
  /** File name for messages. */
  readonly fileName?: string;
  /** Reads an `@file` secret; defaults to refusing them. */
  readonly readSecretFile?: (path: string) => string;
}

interface Word {
  text: string;
  line: number;
  /** True when the word had quotes (so `"*"` is not a wildcard, as in pppd). */
  quoted: boolean;
}

/** Splits the file into lines of words, honouring quotes, escapes and comments. */
function tokenize(text: string, fileName: string): Word[][] {
  const lines: Word[][] = [];
  let current: Word[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  const endLine = () => {
    if (current.length) lines.push(current);
    current = [];
  };
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') {
      endLine();
      line++;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    // A word: runs of unquoted chars and quoted strings glued together.
    let word = '';
    let quoted = false;
    const startLine = line;
    while (i < n) {
      const d = text[i]!;
      if (d === ' ' || d === '\t' || d === '\r' || d === '\n') break;
      if (d === '\\') {
        if (i + 1 >= n) throw new SecretsFileError(`${fileName}:${line}: backslash at end of file`);
        word += text[i + 1];
        i += 2;
        continue;
      }
      if (d === '"' || d === "'") {
        quoted = true;
        const close = d;
        i++;
        while (i < n && text[i] !== close) {
          if (text[i] === '\\' && i + 1 < n) {
            word += text[i + 1];
            i += 2;
            continue;
          }
          if (text[i] === '\n') line++;
          word += text[i];
          i++;
        }
        if (i >= n) throw new SecretsFileError(`${fileName}:${startLine}: unterminated quote`);
        i++;
        continue;
      }
      word += d;
      i++;
    }
    current.push({ text: word, line: startLine, quoted });
  }
  endLine();
  return lines;
}

function parseNet(text: string, where: string): Ipv4Net {
  const [addr, len, ...rest] = text.split('/');
  const a = parseIpv4(addr ?? '');
  if (a === undefined || rest.length) {
    throw new SecretsFileError(
      `${where}: '${text}' is not an IPv4 address or subnet (host names are not resolved)`,
    );
  }
  if (len === undefined) return { address: a, prefixLength: 32 };
  const p = Number(len);
  if (!/^\d{1,2}$/.test(len) || p > 32)
    throw new SecretsFileError(`${where}: bad prefix length in '${text}'`);
  return { address: a, prefixLength: p };
}

/** True when `address` lies in `net`. */
export function inNet(address: number, net: Ipv4Net): boolean {
  if (net.prefixLength === 0) return true;
  const shift = 32 - net.prefixLength;
  return address >>> shift === net.address >>> shift;
}

function parseAddresses(words: readonly Word[], where: string): AddressPolicy {
  const fixed: number[] = [];
  const allow: Ipv4Net[] = [];
  const deny: Ipv4Net[] = [];
  let none = false;
  for (const w of words) {
    const t = w.text;
    if (!w.quoted && t === '*') continue;
    if (!w.quoted && t === '-') {
      none = true;
      continue;
    }
    if (t.startsWith('!')) {
      deny.push(parseNet(t.slice(1), where));
      continue;
    }
    const net = parseNet(t, where);
    if (net.prefixLength === 32) fixed.push(net.address);
    else allow.push(net);
  }
  if (none && (fixed.length || allow.length)) {
    throw new SecretsFileError(`${where}: '-' (no address) cannot be combined with addresses`);
  }
  return { none, fixed, allow, deny };
}

/** Parses a secrets file. Throws {@link SecretsFileError} naming the file and line. */
export function parseSecrets(text: string, opts: ParseOptions = {}): SecretEntry[] {
  const fileName = opts.fileName ?? 'secrets';
  const out: SecretEntry[] = [];
  for (const words of tokenize(text, fileName)) {
    const line = words[0]!.line;
    const where = `${fileName}:${line}`;
    if (words.length < 3) {
      throw new SecretsFileError(
        `${where}: expected 'client server secret [addresses...]', got ${words.length} word(s)`,
      );
    }
    const [client, server, secretWord] = words as [Word, Word, Word];
    let secret = secretWord.text;
    if (!secretWord.quoted && secret.startsWith('@')) {
      const path = secret.slice(1);
      if (!opts.readSecretFile) throw new SecretsFileError(`${where}: '@file' secrets are not allowed here`);
      try {
        secret = (opts.readSecretFile(path).split('\n')[0] ?? '').replace(/\r$/, '');
      } catch (e) {
        throw new SecretsFileError(`${where}: cannot read secret file ${path}: ${(e as Error).message}`);
      }
    }
    const wild = (w: Word) => !w.quoted && w.text === '*';
    out.push({
      client: wild(client) ? undefined : client.text,
      server: wild(server) ? undefined : server.text,
      secret,
      addresses: parseAddresses(words.slice(3), where),
      line,
    });
  }
  return out;
}

/** A secrets list's entries by client name, each list in file order; `*` clients apart. */
interface SecretIndex {
  readonly length: number;
  readonly byClient: Map<string, SecretEntry[]>;
  readonly anyClient: SecretEntry[];
}

/** One index per secrets list (a reload makes a new list), built at its first lookup. */
const indexes = new WeakMap<readonly SecretEntry[], SecretIndex>();

function indexFor(entries: readonly SecretEntry[]): SecretIndex {
  const known = indexes.get(entries);
  if (known && known.length === entries.length) return known;
  const byClient = new Map<string, SecretEntry[]>();
  const anyClient: SecretEntry[] = [];
  for (const e of entries) {
    if (e.client === undefined) anyClient.push(e);
    else {
      const list = byClient.get(e.client);
      if (list) list.push(e);
      else byClient.set(e.client, [e]);
    }
  }
  const ix = { length: entries.length, byClient, anyClient };
  indexes.set(entries, ix);
  return ix;
}

/** The first of `list` for `server` by name, else the first for any server (`*`). */
function bestForServer(list: readonly SecretEntry[] | undefined, server: string): SecretEntry | undefined {
  let wildcard: SecretEntry | undefined;
  for (const e of list ?? []) {
    if (e.server === server) return e;
    if (e.server === undefined) wildcard ??= e;
  }
  return wildcard;
}

/**
 * Finds the entry for `client` (the peer's name) authenticating to `server`
 * (our name), as pppd does: a line naming the client beats a `*` client, then
 * a line naming the server beats a `*` server, and the first line wins a tie.
 * Returns undefined when no line matches. A lookup reads an index of the list
 * built once (a login storm against 10,000 users made the linear scan a
 * tenth of the set-up time).
 */
export function lookupSecret(
  entries: readonly SecretEntry[],
  client: string,
  server: string,
): SecretEntry | undefined {
  const ix = indexFor(entries);
  return bestForServer(ix.byClient.get(client), server) ?? bestForServer(ix.anyClient, server);
}

/** Human-readable form of an address policy (for logs; contains no secret). */
export function describeAddressPolicy(p: AddressPolicy): string {
  if (p.none) return 'no address';
  const parts = [
    ...p.fixed.map(ipv4ToString),
    ...p.allow.map((n) => `${ipv4ToString(n.address)}/${n.prefixLength}`),
    ...p.deny.map((n) => `!${ipv4ToString(n.address)}/${n.prefixLength}`),
  ];
  return parts.length ? parts.join(' ') : 'any';
}
