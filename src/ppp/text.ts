/**
 * Peer-supplied text (Terminate-Request data, RFC 1570 Identification,
 * authentication messages) made safe for logs and error messages: printable
 * ASCII kept, every other byte shown as '.', length capped. The bytes are
 * hostile input; never print them raw.
 */
export function peerText(b: Uint8Array, max = 200): string {
  let s = '';
  const n = Math.min(b.length, max);
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.';
  }
  return n < b.length ? `${s}…` : s;
}
