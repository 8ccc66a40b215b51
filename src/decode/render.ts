/**
 * Rendering of {@link DecodedPacket}s: the text of `pptp-ts decode` (one
 * block per frame, one line per layer, groups such as options and DNS
 * records on their own indented lines, long lines wrapped) and the JSON of
 * `pptp-ts decode --json` (one object per frame).
 */

import type { Timestamp } from '../capture/types.js';
import type { DecodedPacket, Field, Layer, Scalar } from './tree.js';

/** Width of the layer-name column. */
const NAME_WIDTH = 9;
/** Column where a layer's fields start. */
const FIELD_COLUMN = 2 + NAME_WIDTH + 1;
/** Lines are wrapped before this many columns where fields allow. */
const LINE_WIDTH = 110;

/** `YYYY-MM-DD HH:MM:SS.ffffff` in UTC (nanoseconds when the stamp has them); raw seconds when out of Date's range. */
export function formatTimestamp(t: Timestamp, sep = ' '): string {
  const ms = t.seconds * 1000;
  const frac9 = String(t.nanoseconds).padStart(9, '0');
  const frac = t.nanoseconds % 1000 === 0 ? frac9.slice(0, 6) : frac9;
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return `${t.seconds}.${frac}s`;
  const iso = new Date(ms).toISOString(); // 2024-06-01T10:15:02.000Z
  return `${iso.slice(0, 10)}${sep}${iso.slice(11, 19)}.${frac}`;
}

/** Inline texts of a field list: scalar fields with non-empty text. */
function inlineTexts(fields: readonly Field[]): string[] {
  const out: string[] = [];
  for (const f of fields) if (!f.children && f.text !== '') out.push(f.text ?? `${f.key} ${String(f.value)}`);
  return out;
}

/** Joins items with two spaces, wrapping into lines that start at `indent`. */
function wrap(items: readonly string[], first: string, indent: number): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  const pad = ' '.repeat(indent);
  for (const it of items) {
    if (!empty && line.length + 2 + it.length > LINE_WIDTH) {
      lines.push(line);
      line = pad + it;
    } else {
      line += (empty ? '' : '  ') + it;
    }
    empty = false;
  }
  lines.push(line);
  return lines;
}

function groupLines(f: Field, indent: number, out: string[]): void {
  const children = f.children ?? [];
  if (f.list) {
    if (f.text) out.push(' '.repeat(indent) + f.text);
    const childIndent = f.text ? indent + 2 : indent;
    for (const c of children) {
      if (c.children) groupLines(c, childIndent, out);
      else if (c.text !== '') out.push(' '.repeat(childIndent) + (c.text ?? String(c.value)));
    }
    return;
  }
  const items = f.text !== undefined ? [f.text] : inlineTexts(children);
  if (items.some((t) => t)) out.push(...wrap(items, ' '.repeat(indent), indent + 2));
  for (const c of children) if (c.children) groupLines(c, indent + 2, out);
}

/** The text lines of one layer. */
export function layerLines(l: Layer): string[] {
  const out: string[] = [];
  const head = `  ${l.protocol.padEnd(NAME_WIDTH)} `;
  const inline = inlineTexts(l.fields);
  const bad = l.malformed;
  const badText = bad ? `[malformed] ${bad.code}: ${bad.detail}` : undefined;
  if (inline.length) out.push(...wrap(inline, head, FIELD_COLUMN));
  else out.push(head + (badText ?? l.note ?? '').trimEnd());
  for (const f of l.fields) if (f.children) groupLines(f, FIELD_COLUMN, out);
  const pad = ' '.repeat(FIELD_COLUMN);
  if (bad) {
    if (inline.length) out.push(pad + badText!);
    if (bad.reference) out.push(`${pad}  ${bad.reference}`);
    if (bad.hex) out.push(`${pad}  bytes: ${bad.hex}`);
  }
  if (l.note && (inline.length || bad)) out.push(pad + l.note);
  return out.map((s) => s.trimEnd());
}

/** The text block of one frame (no trailing newline). */
export function renderPacketText(p: DecodedPacket): string {
  const size =
    p.capturedLength === p.originalLength
      ? `${p.originalLength} bytes`
      : `${p.originalLength} bytes (${p.capturedLength} captured)`;
  const rel = `+${p.relativeSeconds.toFixed(6)}s`;
  const head = `Frame ${p.frameNumber}  ${formatTimestamp(p.timestamp)} UTC  ${rel}  ${size}  ${p.link}`;
  return [head, ...p.layers.flatMap(layerLines)].join('\n');
}

type Json = Scalar | Json[] | { [k: string]: Json };

function fieldValue(f: Field): Json {
  if (!f.children) return f.value ?? null;
  if (f.list) return f.children.map((c) => fieldValue(c));
  return fieldsObject(f.children);
}

function fieldsObject(fields: readonly Field[]): { [k: string]: Json } {
  const o: { [k: string]: Json } = {};
  for (const f of fields) o[f.key] = fieldValue(f);
  return o;
}

/** One layer as a JSON object: `{"layer": "IPv4", ...fields, "malformed"?: {...}, "note"?: "..."}`. */
export function layerJson(l: Layer): { [k: string]: Json } {
  const o: { [k: string]: Json } = { layer: l.protocol, ...fieldsObject(l.fields) };
  if (l.malformed) {
    const m: { [k: string]: Json } = { code: l.malformed.code, detail: l.malformed.detail };
    if (l.malformed.reference) m.reference = l.malformed.reference;
    if (l.malformed.hex) m.hex = l.malformed.hex;
    o.malformed = m;
  }
  if (l.note) o.note = l.note;
  return o;
}

/** One frame as a JSON object (what `--json` prints, one per line). */
export function packetJson(p: DecodedPacket): { [k: string]: Json } {
  return {
    frame: p.frameNumber,
    time: `${formatTimestamp(p.timestamp, 'T')}Z`,
    epoch: `${p.timestamp.seconds}.${String(p.timestamp.nanoseconds).padStart(9, '0')}`,
    relative: Number(p.relativeSeconds.toFixed(9)),
    length: p.originalLength,
    captured: p.capturedLength,
    interface: p.interfaceId,
    link: p.link,
    layers: p.layers.map(layerJson),
  };
}
