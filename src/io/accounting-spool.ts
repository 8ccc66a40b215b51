/**
 * The accounting spool (`radius.accounting-queue.path`, docs/radius.md
 * "Accounting"): the records a RADIUS server has not acknowledged yet, kept
 * on disk so that a restart loses none.
 *
 * The file is JSON lines, appended and fsync'd one event at a time:
 * `{"add":{...record...}}` when a record enters the queue, `{"del":ID}`
 * when it leaves (answered, superseded or dropped). Loading replays the
 * lines; a line that does not parse (a write cut short by a crash) is
 * skipped and counted. The file is rewritten with only the live records
 * (temporary file, fsync, rename, fsync of the directory: atomic) when it
 * is opened and whenever dead lines outnumber live ones by far, so it stays
 * proportional to the queue.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RadiusAttribute } from '../wire/radius/index.js';

/** A record as the spool keeps it (the accounting engine's `AcctRecord`). */
export interface SpoolRecord {
  readonly id: number;
  readonly kind: string;
  readonly sessionId: string;
  readonly createdAt: number;
  readonly attributes: readonly RadiusAttribute[];
}

interface StoredRecord {
  id: number;
  kind: string;
  sessionId: string;
  createdAt: number;
  /** [type, hex value] */
  attributes: [number, string][];
}

/** Dead lines tolerated before a rewrite, beyond twice the live ones. */
export const SPOOL_COMPACT_SLACK = 1000;

function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function encode(r: SpoolRecord): StoredRecord {
  return {
    id: r.id,
    kind: r.kind,
    sessionId: r.sessionId,
    createdAt: r.createdAt,
    attributes: r.attributes.map((a) => [a.type, toHex(a.value)]),
  };
}

function decode(v: unknown): SpoolRecord | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Partial<StoredRecord>;
  if (
    typeof o.id !== 'number' ||
    !Number.isSafeInteger(o.id) ||
    typeof o.kind !== 'string' ||
    typeof o.sessionId !== 'string' ||
    typeof o.createdAt !== 'number' ||
    !Number.isFinite(o.createdAt) ||
    !Array.isArray(o.attributes)
  ) {
    return undefined;
  }
  const attributes: RadiusAttribute[] = [];
  for (const a of o.attributes as unknown[]) {
    if (!Array.isArray(a) || a.length !== 2) return undefined;
    const [type, value] = a as [unknown, unknown];
    if (typeof type !== 'number' || !Number.isInteger(type) || type < 1 || type > 255) return undefined;
    if (typeof value !== 'string' || value.length > 506 || !/^(?:[0-9a-f]{2})*$/.test(value))
      return undefined;
    attributes.push({ type, value: new Uint8Array(Buffer.from(value, 'hex')) });
  }
  return { id: o.id, kind: o.kind, sessionId: o.sessionId, createdAt: o.createdAt, attributes };
}

export interface SpoolLoad {
  readonly spool: AccountingSpool;
  /** The records that were in the queue, in id order. */
  readonly records: SpoolRecord[];
  /** Lines that did not parse (skipped). */
  readonly corrupt: number;
}

export class AccountingSpool {
  private fd = -1;
  private readonly live = new Map<number, SpoolRecord>();
  private dead = 0;

  private constructor(
    readonly path: string,
    records: readonly SpoolRecord[],
    private readonly slack: number,
  ) {
    for (const r of records) this.live.set(r.id, r);
    this.fd = -1;
    this.rewrite();
  }

  /** Reads what an earlier run left (if anything) and opens the file for appending. Throws on I/O errors. */
  static open(path: string, opts: { readonly compactSlack?: number } = {}): SpoolLoad {
    const found = new Map<number, SpoolRecord>();
    let corrupt = 0;
    if (existsSync(path)) {
      const text = readFileSync(path, 'utf8');
      for (const line of text.split('\n')) {
        if (line.length === 0) continue;
        let v: unknown;
        try {
          v = JSON.parse(line);
        } catch {
          corrupt++;
          continue;
        }
        const o = v as { add?: unknown; del?: unknown };
        if (typeof o === 'object' && o !== null && typeof o.del === 'number') {
          found.delete(o.del);
          continue;
        }
        const r = typeof o === 'object' && o !== null ? decode(o.add) : undefined;
        if (r) found.set(r.id, r);
        else corrupt++;
      }
    }
    const records = [...found.values()].sort((a, b) => a.id - b.id);
    const spool = new AccountingSpool(path, records, opts.compactSlack ?? SPOOL_COMPACT_SLACK);
    return { spool, records, corrupt };
  }

  /** Records in the file now. */
  get size(): number {
    return this.live.size;
  }

  add(r: SpoolRecord): void {
    this.live.set(r.id, r);
    this.append({ add: encode(r) });
  }

  remove(id: number): void {
    if (!this.live.delete(id)) return;
    this.dead++;
    if (this.dead > 2 * this.live.size + this.slack) this.rewrite();
    else this.append({ del: id });
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }

  private append(v: unknown): void {
    if (this.fd < 0) return;
    writeSync(this.fd, `${JSON.stringify(v)}\n`);
    fsyncSync(this.fd);
  }

  /** Only the live records, atomically: temporary file, fsync, rename, fsync of the directory. */
  private rewrite(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      const lines: string[] = [];
      for (const r of this.live.values()) lines.push(JSON.stringify({ add: encode(r) }));
      if (lines.length) writeSync(fd, `${lines.join('\n')}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    const dir = openSync(dirname(this.path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    this.dead = 0;
    this.fd = openSync(this.path, 'a', 0o600);
  }
}
