/**
 * The dissector behind `pptp-ts decode`: feed it captured frames in file
 * order, get back a {@link DecodedPacket} for each PPTP-related one (every
 * GRE packet, and every TCP segment to or from port 1723 that carries
 * control-connection bytes or opens/closes it), or for every frame with
 * `all`.
 *
 * It is stateful because PPTP is: fragmented IPv4 datagrams are put back
 * together first (`capture/ip-reassembly.ts`); control messages are
 * reassembled from the TCP stream per direction
 * (`capture/tcp-reassembly.ts`), split into messages (`pptp.ts`), and
 * shown in the frame that completes them; PPP
 * sessions remember what LCP and CCP agreed (to read MS-CHAP Responses and
 * annotate MPPE); GRE sequence numbers are tracked per call to point out
 * loss and reordering. Memory is bounded by the reassembler's limits and
 * the trackers' caps.
 *
 * Total: `dissect()` never throws. A layer that cannot be decoded is shown
 * malformed with the decoder's `WireError` detail, and the next frame is
 * decoded as usual.
 */

import {
  decodeIpv4Packet,
  decodeIpv6Packet,
  decodeTcpSegment,
  IpProtocol,
  type TcpSegment,
} from '../capture/inet.js';
import { Ipv4Reassembler } from '../capture/ip-reassembly.js';
import { decodeLinkFrame, LINK_TYPE_NAMES, type LinkFrame } from '../capture/link.js';
import {
  TcpReassembler,
  type TcpReassemblyLimits,
  type TcpStreamEvent,
  tcpFlowName,
} from '../capture/tcp-reassembly.js';
import type { CapturedPacket, Timestamp } from '../capture/types.js';
import { u16 } from '../wire/bytes.js';
import { WireErrorCode } from '../wire/errors.js';
import { PPTP_TCP_PORT } from '../wire/pptp/index.js';
import { GreSequenceTracker, greLayer } from './gre.js';
import { dataLayer, dissectTransport, ipv4Layer, ipv6Layer, linkLayer, tcpLayer } from './inet.js';
import { ETHER_TYPE_NAMES, named } from './names.js';
import { dissectPpp, type PppSessionState } from './ppp.js';
import { PptpStreamSplitter } from './pptp.js';
import { type DecodedPacket, type Layer, malformedLayer } from './tree.js';

/** Options of {@link Dissector}. */
export interface DissectorOptions {
  /** Return every frame, not only PPTP-related ones. */
  readonly all?: boolean;
  /** Show PAP passwords (hidden by default). */
  readonly showSecrets?: boolean;
  /** The account's password, to decrypt MPPE after an MS-CHAP exchange in the capture. Never shown. */
  readonly password?: string;
  /** Caps of the TCP reassembler (defaults: 1 MiB / 1024 segments per direction, 4096 directions). */
  readonly tcpLimits?: Partial<TcpReassemblyLimits>;
}

/** Counters for the summary line. */
export interface DissectorStats {
  frames: number;
  shown: number;
  /** Frames whose link header could not be read (short frame or unsupported link type). */
  linkErrors: number;
  /** Link types met that this tool cannot read, with how many frames each. */
  readonly unsupportedLinkTypes: Map<number, number>;
  /** PPTP control messages decoded (including malformed ones). */
  pptpMessages: number;
  greFrames: number;
  /** Layers shown malformed. */
  malformedLayers: number;
  /**
   * Problems with the whole capture or the options rather than one packet
   * (a wrong password), each once, in the order found; a caller reports the
   * new ones as they appear.
   */
  readonly warnings: string[];
}

/** Where a frame came from, carried as the TCP reassembler's tag. */
type FrameInfo = Omit<DecodedPacket, 'layers'>;

/** Decoder errors that a snap-length cut explains: the bytes simply are not there. */
const CUT_CODES: ReadonlySet<string> = new Set([WireErrorCode.Truncated, WireErrorCode.LengthTooLarge]);

/**
 * A frame cut by the capture's snap length (captured < on the wire): a layer
 * that stopped because its bytes ran out is not malformed, it was cut. It
 * keeps the fields read before the cut and says so; when no layer stopped,
 * the last one carries the remark.
 */
export function markCut(layers: Layer[], captured: number, original: number): Layer[] {
  const text = `[truncated by capture: ${captured} of ${original} bytes]`;
  let marked = false;
  const out = layers.map((l) => {
    if (!l.malformed || !CUT_CODES.has(l.malformed.code)) return l;
    marked = true;
    const { malformed: _m, ...rest } = l;
    return { ...rest, note: l.note ? `${text} ${l.note}` : text };
  });
  if (!marked && out.length) {
    const last = out[out.length - 1]!;
    out[out.length - 1] = { ...last, note: last.note ? `${last.note}; ${text}` : text };
  }
  return out;
}

/** Upper bound on the PPP sessions remembered (one per pair of outer addresses). */
const MAX_SESSIONS = 4096;

export class Dissector {
  readonly stats: DissectorStats = {
    frames: 0,
    shown: 0,
    linkErrors: 0,
    unsupportedLinkTypes: new Map(),
    pptpMessages: 0,
    greFrames: 0,
    malformedLayers: 0,
    warnings: [],
  };
  private readonly warn = (message: string): void => {
    if (!this.stats.warnings.includes(message) && this.stats.warnings.length < 16)
      this.stats.warnings.push(message);
  };
  private first: Timestamp | undefined;
  private readonly tcp: TcpReassembler<FrameInfo>;
  private readonly splitters = new Map<string, PptpStreamSplitter>();
  private readonly sessions = new Map<string, PppSessionState>();
  private readonly greSeq = new GreSequenceTracker();
  private readonly fragments = new Ipv4Reassembler();

  constructor(private readonly opts: DissectorOptions = {}) {
    this.tcp = new TcpReassembler<FrameInfo>(opts.tcpLimits);
  }

  /** Decodes one frame; `undefined` when it is not PPTP-related (and `all` is off). Never throws. */
  dissect(p: CapturedPacket): DecodedPacket | undefined {
    this.stats.frames++;
    const info = this.frameInfo(p);
    let layers: Layer[] | undefined;
    try {
      layers = this.layersOf(p, info);
    } catch (e) {
      // Every decoder below catches its own errors; reaching here is a bug in
      // the dissector itself. Show it instead of dying, so the capture still reads.
      layers = [malformedLayer('Frame', e, p.data)];
    }
    if (!layers) return undefined;
    if (p.data.length < p.originalLength) layers = markCut(layers, p.data.length, p.originalLength);
    return this.emit(info, layers);
  }

  /**
   * End of the capture: control-connection bytes still held behind a TCP
   * hole are delivered (the hole declared lost), each in a record for the
   * frame that carried them.
   */
  finish(): DecodedPacket[] {
    return this.tcpRecords(this.tcp.finish());
  }

  private emit(info: FrameInfo, layers: Layer[]): DecodedPacket {
    this.stats.shown++;
    for (const l of layers) if (l.malformed) this.stats.malformedLayers++;
    return { ...info, layers };
  }

  private frameInfo(p: CapturedPacket): FrameInfo {
    this.first ??= p.timestamp;
    const relativeSeconds =
      p.timestamp.seconds - this.first.seconds + (p.timestamp.nanoseconds - this.first.nanoseconds) / 1e9;
    return {
      frameNumber: p.frameNumber,
      timestamp: p.timestamp,
      relativeSeconds,
      capturedLength: p.data.length,
      originalLength: p.originalLength,
      interfaceId: p.interfaceId,
      link: LINK_TYPE_NAMES[p.linkType] ?? `link type ${p.linkType}`,
    };
  }

  /** The layers of one frame, or `undefined` to skip it. */
  private layersOf(p: CapturedPacket, info: FrameInfo): Layer[] | undefined {
    const all = this.opts.all === true;
    let frame: LinkFrame;
    try {
      frame = decodeLinkFrame(p.linkType, p.data, p.fcsLength);
    } catch (e) {
      this.stats.linkErrors++;
      if (!(p.linkType in LINK_TYPE_NAMES)) {
        this.stats.unsupportedLinkTypes.set(
          p.linkType,
          (this.stats.unsupportedLinkTypes.get(p.linkType) ?? 0) + 1,
        );
      }
      return all ? [malformedLayer(info.link, e, p.data)] : undefined;
    }
    const layers: Layer[] = [];
    const link = linkLayer(frame);
    if (link) layers.push(link);
    if (!frame.network) {
      if (!all) return undefined;
      const type = frame.header.kind === 'ethernet' ? frame.header.etherType : undefined;
      layers.push(
        dataLayer(
          frame.payload,
          type === undefined ? undefined : `EtherType ${named(ETHER_TYPE_NAMES, type, 4)} is not dissected`,
        ),
      );
      return layers;
    }
    return (
      this.ipLayers(frame.network, frame.payload, layers, info) ??
      (all ? this.fallback(frame, layers) : undefined)
    );
  }

  /** For `all`: whatever IP and above can be shown. */
  private fallback(frame: LinkFrame, layers: Layer[]): Layer[] {
    const out = layers.slice(0, frame.header.kind === 'raw' ? 0 : 1);
    const b = frame.payload;
    try {
      if (frame.network === 'ipv4') {
        const ip = decodeIpv4Packet(b);
        out.push(ipv4Layer(ip));
        if (ip.fragmentOffset === 0 && !ip.moreFragments)
          dissectTransport(ip.protocol, ip.payload, ip.missing, ip, out);
      } else {
        const ip = decodeIpv6Packet(b);
        out.push(ipv6Layer(ip));
        if (!ip.fragment) dissectTransport(ip.protocol, ip.payload, ip.missing, ip, out);
      }
    } catch (e) {
      out.push(malformedLayer(frame.network === 'ipv4' ? 'IPv4' : 'IPv6', e, b));
    }
    return out;
  }

  /** IP, then GRE or TCP 1723; `undefined` when the packet is not PPTP-related (or IP is unreadable). */
  private ipLayers(
    family: 'ipv4' | 'ipv6',
    b: Uint8Array,
    layers: Layer[],
    info: FrameInfo,
  ): Layer[] | undefined {
    let protocol: number;
    let payload: Uint8Array;
    let missing: number;
    let source: string;
    let destination: string;
    let addrs: { sourceBytes: Uint8Array; destinationBytes: Uint8Array };
    let fragment: string | undefined;
    let ipLayer: Layer;
    try {
      if (family === 'ipv4') {
        const ip = decodeIpv4Packet(b);
        ({ protocol, payload, missing, source, destination } = ip);
        addrs = ip;
        ipLayer = ipv4Layer(ip);
        if (ip.fragmentOffset !== 0 || ip.moreFragments) {
          // RFC 791 §3.2: put the datagram back together before reading what it carries.
          const r =
            missing === 0
              ? this.fragments.add({
                  source,
                  destination,
                  protocol,
                  identification: ip.identification,
                  offset: ip.fragmentOffset,
                  moreFragments: ip.moreFragments,
                  payload,
                  time: info.timestamp.seconds + info.timestamp.nanoseconds / 1e9,
                  tag: info.frameNumber,
                })
              : ({ kind: 'invalid', reason: 'fragment not captured whole' } as const);
          if (r.kind === 'complete') {
            payload = r.payload;
            const others = r.tags.filter((t) => t !== info.frameNumber);
            const overlap = r.overlapped ? '; fragments overlapped, first bytes kept' : '';
            ipLayer = {
              ...ipLayer,
              note: `datagram reassembled from ${r.tags.length} fragments (also frames ${others.join(', ')})${overlap}`,
            };
          } else if (r.kind === 'held') {
            fragment = `IPv4 fragment, held for reassembly (${r.fragments} of this datagram so far)`;
          } else {
            fragment = `IPv4 fragment not reassembled: ${r.reason}`;
          }
        }
      } else {
        const ip = decodeIpv6Packet(b);
        ({ protocol, payload, missing, source, destination } = ip);
        addrs = ip;
        ipLayer = ipv6Layer(ip);
        if (ip.fragment && (ip.fragment.offset !== 0 || ip.fragment.moreFragments))
          fragment = 'IPv6 fragment: not reassembled';
      }
    } catch {
      return undefined;
    }
    if (protocol === IpProtocol.Gre) {
      this.stats.greFrames++;
      layers.push(ipLayer);
      if (fragment) {
        layers.push(dataLayer(payload, fragment));
        return layers;
      }
      const dir = `${source}>${destination}`;
      const gre = greLayer(payload, dir, this.greSeq, missing > 0);
      const view = gre.view;
      layers.push(gre.layer);
      if (view?.hasSequenceNumber && view.payloadLength > 0 && gre.payload?.length) {
        dissectPpp(gre.payload, layers, this.session(source, destination), {
          showSecrets: this.opts.showSecrets === true,
          from: source,
          warn: this.warn,
          ...(this.opts.password === undefined ? {} : { password: this.opts.password }),
        });
      }
      if (missing)
        layers.push(dataLayer(new Uint8Array(0), `${missing} bytes of the packet were not captured`));
      return layers;
    }
    if (protocol === IpProtocol.Tcp && fragment && payload.length >= 4) {
      // A first TCP fragment still shows its ports: keep the ones of the control connection.
      const sp = u16(payload, 0);
      const dp = u16(payload, 2);
      if (sp === PPTP_TCP_PORT || dp === PPTP_TCP_PORT) {
        layers.push(ipLayer, dataLayer(payload, fragment));
        return layers;
      }
    }
    if (protocol !== IpProtocol.Tcp || fragment) return undefined;
    let t: TcpSegment;
    try {
      t = decodeTcpSegment(payload, addrs, payload.length + missing);
    } catch {
      return undefined;
    }
    if (t.sourcePort !== PPTP_TCP_PORT && t.destinationPort !== PPTP_TCP_PORT) return undefined;
    layers.push(ipLayer);
    return this.tcpLayers(t, source, destination, missing, layers, info);
  }

  private session(a: string, b: string): PppSessionState {
    const key = a < b ? `${a}|${b}` : `${b}|${a}`;
    let s = this.sessions.get(key);
    if (!s) {
      s = {};
      this.sessions.set(key, s);
      if (this.sessions.size > MAX_SESSIONS)
        this.sessions.delete(this.sessions.keys().next().value as string);
    }
    return s;
  }

  /** A TCP 1723 segment: the TCP line, then the control messages it completes. */
  private tcpLayers(
    t: TcpSegment,
    source: string,
    destination: string,
    missing: number,
    layers: Layer[],
    info: FrameInfo,
  ): Layer[] | undefined {
    const tcp = tcpLayer(t);
    const notes: string[] = [];
    if (missing) notes.push(`${missing} bytes not captured: the stream has a hole here`);
    // A segment cut by the snap length cannot be reassembled past the cut.
    const payload = t.payload;
    const r = this.tcp.push({
      tag: info,
      flow: { source, sourcePort: t.sourcePort, destination, destinationPort: t.destinationPort },
      sequenceNumber: t.sequenceNumber,
      syn: t.flags.syn,
      fin: t.flags.fin,
      rst: t.flags.rst,
      payload,
    });
    if (r.retransmittedBytes) notes.push(`retransmission: ${r.retransmittedBytes} bytes seen before`);
    if (r.outOfOrder) notes.push('out of order: held until the missing bytes arrive');
    const pptp: Layer[] = [];
    this.streamLayers(r.events, pptp, notes);
    const flow = tcpFlowName({
      source,
      sourcePort: t.sourcePort,
      destination,
      destinationPort: t.destinationPort,
    });
    const held = this.splitters.get(flow)?.buffered ?? 0;
    if (held && payload.length && !r.outOfOrder)
      notes.push(`${held} bytes of a message continue in a later segment`);
    const interesting = payload.length > 0 || t.flags.syn || t.flags.fin || t.flags.rst;
    if (!interesting && !this.opts.all && pptp.length === 0) return undefined;
    layers.push(notes.length ? { ...tcp, note: notes.join('; ') } : tcp, ...pptp);
    return layers;
  }

  /**
   * Turns reassembly events into PPTP layers (for the messages the events'
   * bytes complete) and remarks about the stream.
   */
  private streamLayers(events: readonly TcpStreamEvent<FrameInfo>[], pptp: Layer[], notes: string[]): void {
    for (const e of events) {
      const splitter = this.splitter(e.flow);
      switch (e.kind) {
        case 'open':
          // A new connection on these ports: start framing afresh.
          this.splitters.set(e.flow, new PptpStreamSplitter());
          if (e.midStream) notes.push('capture starts inside this connection');
          break;
        case 'gap':
          splitter.gap();
          notes.push(`${e.missingBytes} bytes of the stream were never captured`);
          break;
        case 'data':
          for (const item of splitter.push(e.data)) {
            if (item.kind === 'message') this.stats.pptpMessages++;
            pptp.push(item.layer);
          }
          break;
        case 'close':
          notes.push(e.reason === 'fin' ? 'end of stream (FIN)' : 'connection reset (RST)');
          break;
      }
    }
  }

  private splitter(flow: string): PptpStreamSplitter {
    let s = this.splitters.get(flow);
    if (!s) {
      s = new PptpStreamSplitter();
      this.splitters.set(flow, s);
      if (this.splitters.size > 4096) this.splitters.delete(this.splitters.keys().next().value as string);
    }
    return s;
  }

  /** Records for stream events delivered at the end of the capture, grouped by the frame that carried the bytes. */
  private tcpRecords(events: readonly TcpStreamEvent<FrameInfo>[]): DecodedPacket[] {
    const out: DecodedPacket[] = [];
    let current: { info: FrameInfo; layers: Layer[]; notes: string[] } | undefined;
    let pendingNotes: string[] = [];
    const flush = () => {
      if (current?.layers.length) {
        const note = [
          'delivered at the end of the capture, after a hole in the stream',
          ...current.notes,
        ].join('; ');
        out.push(this.emit(current.info, [{ protocol: 'TCP', fields: [], note }, ...current.layers]));
      }
      current = undefined;
    };
    for (const e of events) {
      if (e.kind === 'data' && e.tag && current?.info.frameNumber !== e.tag.frameNumber) {
        flush();
        current = { info: e.tag, layers: [], notes: pendingNotes };
        pendingNotes = [];
      }
      const layers: Layer[] = [];
      const notes: string[] = [];
      this.streamLayers([e], layers, notes);
      if (current) {
        current.layers.push(...layers);
        current.notes.push(...notes);
      } else {
        pendingNotes.push(...notes);
      }
    }
    flush();
    return out;
  }
}
