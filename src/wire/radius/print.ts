/**
 * A one-attribute-per-line printer for RADIUS packets (logs, `decode`). It
 * never throws: values whose size does not fit their type print as hex, and
 * hidden values (User-Password, MS-MPPE keys) print as hex since only the
 * shared secret reveals them.
 */

import { fromUtf8, ipv4ToString, toHex, u32 } from '../bytes.js';
import {
  MICROSOFT_ATTRIBUTES,
  RADIUS_ATTRIBUTES,
  RadiusAttr,
  type RadiusAttributeInfo,
  VENDOR_MICROSOFT,
} from './attributes.js';
import { decodeAttributes, type RadiusAttribute, RadiusCode, type RadiusPacket } from './packet.js';

const CODE_NAMES: Record<number, string> = {
  [RadiusCode.AccessRequest]: 'Access-Request',
  [RadiusCode.AccessAccept]: 'Access-Accept',
  [RadiusCode.AccessReject]: 'Access-Reject',
  [RadiusCode.AccountingRequest]: 'Accounting-Request',
  [RadiusCode.AccountingResponse]: 'Accounting-Response',
  [RadiusCode.AccessChallenge]: 'Access-Challenge',
  [RadiusCode.StatusServer]: 'Status-Server',
  [RadiusCode.StatusClient]: 'Status-Client',
  [RadiusCode.DisconnectRequest]: 'Disconnect-Request',
  [RadiusCode.DisconnectAck]: 'Disconnect-ACK',
  [RadiusCode.DisconnectNak]: 'Disconnect-NAK',
  [RadiusCode.CoaRequest]: 'CoA-Request',
  [RadiusCode.CoaAck]: 'CoA-ACK',
  [RadiusCode.CoaNak]: 'CoA-NAK',
};

/** "Access-Request", or "Code-N" for an unknown code. */
export function radiusCodeName(code: number): string {
  return CODE_NAMES[code] ?? `Code-${code}`;
}

/** Printable text: JSON-quoted, so control characters and quotes are escaped. */
function quoted(b: Uint8Array): string {
  return JSON.stringify(fromUtf8(b));
}

function formatValue(info: RadiusAttributeInfo | undefined, v: Uint8Array): string {
  if (!info) return `0x${toHex(v)}`;
  switch (info.type) {
    case 'text':
      return quoted(v);
    case 'integer':
    case 'time': {
      if (v.length !== 4) return `0x${toHex(v)} (bad size)`;
      const n = u32(v, 0);
      const name = info.values?.[n];
      if (info.type === 'time') return `${n} (${new Date(n * 1000).toISOString()})`;
      return name ? `${name} (${n})` : String(n);
    }
    case 'address':
      return v.length === 4 ? ipv4ToString(u32(v, 0)) : `0x${toHex(v)} (bad size)`;
    case 'tagged-integer': {
      if (v.length !== 4) return `0x${toHex(v)} (bad size)`;
      const n = u32(v, 0) & 0xffffff;
      const name = info.values?.[n];
      return `${name ? `${name} (${n})` : n}${v[0] ? ` tag ${v[0]}` : ''}`;
    }
    case 'tagged-text':
      return v.length > 0 && v[0]! <= 0x1f
        ? `${quoted(v.subarray(1))}${v[0] ? ` tag ${v[0]}` : ''}`
        : quoted(v);
    default:
      return `0x${toHex(v)}`;
  }
}

function formatVendor(v: Uint8Array): string[] {
  if (v.length < 5) return [`Vendor-Specific = 0x${toHex(v)} (malformed)`];
  const vendor = u32(v, 0);
  let subs: RadiusAttribute[];
  try {
    subs = decodeAttributes(v.subarray(4), 'Vendor-Specific');
  } catch {
    return [`Vendor-Specific vendor ${vendor} = 0x${toHex(v.subarray(4))} (unparsed)`];
  }
  return subs.map((s) => {
    const info = vendor === VENDOR_MICROSOFT ? MICROSOFT_ATTRIBUTES.get(s.type) : undefined;
    const name = info?.name ?? `Vendor-${vendor}-Attr-${s.type}`;
    return `${name} = ${formatValue(info, s.value)}`;
  });
}

/** One line per attribute after a header line. */
export function stringifyRadius(p: RadiusPacket): string {
  const lines = [`${radiusCodeName(p.code)} id ${p.identifier} authenticator ${toHex(p.authenticator)}`];
  for (const a of p.attributes) {
    if (a.type === RadiusAttr.VendorSpecific) {
      for (const l of formatVendor(a.value)) lines.push(`  ${l}`);
      continue;
    }
    const info = RADIUS_ATTRIBUTES.get(a.type);
    lines.push(`  ${info?.name ?? `Attr-${a.type}`} = ${formatValue(info, a.value)}`);
  }
  return lines.join('\n');
}
