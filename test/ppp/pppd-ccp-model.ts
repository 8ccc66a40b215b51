/**
 * A model of how pppd 2.4.9 (the version in the interop lab) negotiates CCP
 * option 18 with `require-mppe*`, written from reading its ccp.c (reference
 * only) and from the lab's logs (docs/interop.md). It lets the CCP tests run
 * whole exchanges against pppd's rules in memory; the interop lab checks the
 * same cases against the real pppd.
 *
 * What it models, per pppd callback:
 *  - resetci/addci: the request carries the allowed key lengths with H set
 *    (pppd never proposes stateful itself, `mppe-stateful` or not).
 *  - nakci: a Nak that asks for stateful (H clear) is refused without
 *    `mppe-stateful` ("Refusing MPPE stateful mode offered by peer", then
 *    "MPPE required but peer negotiation failed" and LCP closes); with it, a
 *    Nak whose bits are ours plus stateful is taken as the next request.
 *  - rejci: option 18 rejected ends the link ("MPPE required but peer
 *    refused").
 *  - reqci: a request without H is rejected without `mppe-stateful` (and
 *    the link closed); both 128 and 40 → Nak with the strongest allowed;
 *    one length not allowed → reject; none → Nak with what is allowed (H
 *    set); D, C and M (56-bit) are Nak'd away; otherwise Ack, mode as asked.
 *  - up: "MPPE 128-bit stateful compression enabled", named after its own
 *    receive side (pppd's method_name(go, ho) reads only `go`).
 *
 * `insistStateless` turns it into a peer that only does stateless and
 * negotiates instead of refusing: it Naks a stateful request to stateless
 * and keeps requesting stateless whatever a Nak says (Windows, which
 * always uses stateless MPPE).
 * Notes are pppd's log lines, so tests can compare them with the lab.
 */

import { keyBitsOf, type MppeKeyBits, type MppeParams, mppeOption } from '../../src/ppp/ccp.js';
import type { CpPolicy, PolicyContext, RequestVerdict } from '../../src/ppp/fsm-policy.js';
import { CcpOptionType, decodeCcpOption, encodeCcpOption, type MppeOption } from '../../src/wire/ccp.js';
import type { CpOption } from '../../src/wire/cp.js';
import { PppProtocol } from '../../src/wire/ppp.js';

export interface PppdCcpOptions {
  /** `require-mppe-128` → [128]; `require-mppe` → [40, 128]. pppd 2.4.9 has no 56-bit. */
  readonly keyBits: readonly (40 | 128)[];
  /** `mppe-stateful`. */
  readonly mppeStateful: boolean;
  /** Not pppd: Nak stateful requests to stateless and keep requesting stateless whatever a Nak says (Windows-like). */
  readonly insistStateless?: boolean;
}

interface Mode {
  readonly keyBits: readonly MppeKeyBits[];
  readonly stateful: boolean;
}

function modeOf(o: MppeOption): Mode {
  return { keyBits: keyBitsOf(o), stateful: !o.stateless };
}

function words(m: Mode): string {
  return `MPPE ${m.keyBits.map((k) => `${k}-bit `).join('')}${m.stateful ? 'stateful' : 'stateless'}`;
}

export class PppdCcpModel implements CpPolicy<string> {
  readonly name = 'pppd-ccp';
  readonly protocol = PppProtocol.Ccp;
  /** What pppd asks for (ccp_gotoptions.mppe): its receive side. */
  private go: Mode | undefined;
  /** What pppd acked (ccp_hisoptions.mppe): its transmit side. */
  private his: Mode | undefined;
  negotiated: { rx: MppeParams | undefined; tx: MppeParams | undefined } | undefined;

  constructor(readonly options: PppdCcpOptions) {}

  private close(ctx: PolicyContext<string>, why: string): void {
    ctx.note(why);
    ctx.note(`LCP close: ${why}`);
  }

  reset(): void {
    this.go = { keyBits: [...this.options.keyBits].sort((a, b) => b - a), stateful: false };
  }

  buildRequest(): CpOption[] {
    return this.go ? [encodeCcpOption(mppeOption(this.go.keyBits, !this.go.stateful))] : [];
  }

  onAck(): void {}

  onNak(options: readonly CpOption[], _treatAsReject: boolean, ctx: PolicyContext<string>): boolean {
    for (const raw of options) {
      if (raw.type !== CcpOptionType.MicrosoftPpc || !this.go) continue;
      const d = decodeCcpOption(raw);
      if (d.kind !== 'mppe') continue;
      const tryMode = modeOf(d);
      if (this.options.insistStateless) {
        this.go = { keyBits: tryMode.keyBits, stateful: false };
        continue;
      }
      if (tryMode.stateful && !this.options.mppeStateful) {
        ctx.note('Refusing MPPE stateful mode offered by peer');
        this.close(ctx, 'MPPE required but peer negotiation failed');
        this.go = undefined;
        continue;
      }
      const ours = this.go.keyBits;
      if (
        tryMode.keyBits.length === 0 ||
        !tryMode.keyBits.every((k) => ours.includes(k)) ||
        d.mppc ||
        d.obsoleteD
      ) {
        // "Peer must have set options we didn't request".
        this.close(ctx, 'MPPE required but peer negotiation failed');
        this.go = undefined;
        continue;
      }
      this.go = tryMode;
    }
    return true;
  }

  onReject(options: readonly CpOption[], ctx: PolicyContext<string>): boolean {
    for (const o of options)
      if (o.type === CcpOptionType.MicrosoftPpc) this.close(ctx, 'MPPE required but peer refused');
    return true;
  }

  judgeRequest(
    options: readonly CpOption[],
    _rejectIfDisagree: boolean,
    ctx: PolicyContext<string>,
  ): RequestVerdict {
    const nak: CpOption[] = [];
    const reject: CpOption[] = [];
    this.his = undefined;
    const allowed = this.options.keyBits;
    for (const raw of options) {
      if (raw.type !== CcpOptionType.MicrosoftPpc) {
        reject.push(raw);
        continue;
      }
      const d = decodeCcpOption(raw);
      if (d.kind !== 'mppe') {
        reject.push(raw);
        continue;
      }
      let naked = d.mppc || d.obsoleteD || d.key56 || d.otherBits !== 0;
      let stateless = d.stateless;
      if (!d.stateless && this.options.insistStateless) {
        naked = true;
        stateless = true;
      } else if (!d.stateless && !this.options.mppeStateful) {
        ctx.note('Refusing MPPE stateful mode offered by peer');
        reject.push(raw);
        continue;
      }
      let keys: MppeKeyBits[];
      if (d.key128 && d.key40) {
        naked = true;
        keys = allowed.includes(128) ? [128] : [40];
      } else if (d.key128 || d.key40) {
        const k: 40 | 128 = d.key128 ? 128 : 40;
        if (!allowed.includes(k)) {
          reject.push(raw);
          continue;
        }
        keys = [k];
      } else {
        // Neither length: Nak with what pppd allows, its own bits (H set), "so it can choose and confirm".
        naked = true;
        keys = [...allowed];
        stateless = true;
      }
      const mode: Mode = { keyBits: keys, stateful: !stateless };
      if (naked) nak.push(encodeCcpOption(mppeOption(keys, stateless)));
      else this.his = mode;
    }
    if (reject.some((o) => o.type === CcpOptionType.MicrosoftPpc)) {
      this.close(ctx, 'MPPE required but peer negotiation failed');
    }
    return { nak, reject };
  }

  up(ctx: PolicyContext<string>): void {
    const rx = this.go?.keyBits.length === 1 ? this.go : undefined;
    const tx = this.his;
    this.negotiated = {
      rx: rx ? { keyBits: rx.keyBits[0]!, stateless: !rx.stateful } : undefined,
      tx: tx ? { keyBits: tx.keyBits[0]!, stateless: !tx.stateful } : undefined,
    };
    if (this.go) ctx.note(`${words(this.go)} compression enabled`);
  }
}
