/**
 * The PPP unit's Network-Layer Protocol phase (RFC 1661 §3.6), sans-IO: it
 * starts and stops the NCPs (IPCP, IPv6CP) and CCP once authentication is
 * done, handles what they report, derives each network protocol's
 * `npmode` from their states, and runs MPPE (RFC 3078) with its CCP
 * Reset-Requests when CCP is Opened.
 *
 * {@link PppUnitNetwork} sits between the data path it extends
 * (src/ppp/unit-data.ts) and {@link PppUnit} (src/ppp/unit.ts), which runs
 * the phases, LCP and authentication and dispatches every automaton's
 * actions.
 */

import { MppeDecryptor, MppeEncryptor } from '../mppe/mppe.js';
import { assertNever, ipv4ToString } from '../wire/bytes.js';
import { PppProtocol } from '../wire/ppp.js';
import { type MppeKeyMaterial, mppeMasterKeysFromAuth } from './auth/index.js';
import { type CcpNegotiated, type CcpNote, CcpPolicy } from './ccp.js';
import { CCP_RESET_RETRY_MS, CcpResetController } from './ccp-reset.js';
import { Fsm, type FsmAction } from './fsm.js';
import { type IpcpNote, IpcpPolicy } from './ipcp.js';
import { type Ipv6cpNote, Ipv6cpPolicy } from './ipv6cp.js';
import { DEFAULT_MRU } from './lcp.js';
import { PppUnitDataPath } from './unit-data.js';
import { sharedList } from './unit-settings.js';
import { type NpMode, type PppFailure, UNIT_TIMER, type UnitAction } from './unit-types.js';

/** The automata a unit runs. */
export type Layer = 'lcp' | 'ipcp' | 'ipv6cp' | 'ccp';

/** The Network phase of one PPP link, above its data path. */
export abstract class PppUnitNetwork extends PppUnitDataPath {
  protected ipcpPolicy: IpcpPolicy | undefined;
  protected ipcp: Fsm<IpcpNote> | undefined;
  protected ipv6cpPolicy: Ipv6cpPolicy | undefined;
  protected ipv6cp: Fsm<Ipv6cpNote> | undefined;
  protected ccpPolicy: CcpPolicy | undefined;
  protected ccp: Fsm<CcpNote> | undefined;
  /** Keys from MS-CHAP (RFC 3079), kept from authentication until CCP opens. */
  protected mppeMaterial: { material: MppeKeyMaterial; isServer: boolean } | undefined;
  /** Created by the first Reset-Request the link needs. */
  private ccpReset: CcpResetController | undefined;
  /**
   * What the current input produced for the driver, made by its first
   * action and handed over whole by `flush()`: a long-lived unit holds no
   * array between inputs, so an idle link's keep-alives leave no array
   * behind that would outlive a young-generation collection.
   */
  protected out: UnitAction[] | undefined;

  /** Queues one action for the driver. */
  protected act(a: UnitAction): void {
    if (this.out === undefined) this.out = [a];
    else this.out.push(a);
  }

  // What the unit provides.
  /** Records why the link ends and closes LCP (pppd lcp_close). */
  protected abstract fail(f: PppFailure): void;
  /** Handles an automaton's actions; `fsm` is the automaton that produced them. */
  protected abstract runFsm<N>(actions: readonly FsmAction<N>[], layer: Layer, fsm: object | undefined): void;

  /**
   * Starts every enabled NCP, and CCP (RFC 1661 §3.6). `peerName` is the
   * name the peer authenticated with (for the address pool); `refusedAuth`
   * the method the peer demanded and we refused, when nothing
   * authenticated (it explains a missing MPPE key).
   */
  protected startNetwork(peerName: string | undefined, refusedAuth: string | undefined): void {
    const s = this.settings;
    const o = this.options;
    const random = o.random;
    const log = this.log;
    const policy = o.networkPolicy?.();
    // The authenticating source may narrow the key lengths (RFC 2548 §2.4.5) and require MPPE (§2.4.4).
    const allowedBits = policy?.mppeKeyBits;
    const mppeKeyBits = allowedBits ? s.mppeKeyBits.filter((k) => allowedBits.includes(k)) : s.mppeKeyBits;
    const mppeRequired = s.mppeRequired || (policy?.mppeRequired ?? false);
    // The link's settings from now on (the data path reads `mppeRequired`: nothing unencrypted passes).
    s.mppeKeyBits = sharedList('mppe', mppeKeyBits);
    s.mppeRequired = mppeRequired;
    if (mppeKeyBits.length === 0 && mppeRequired) {
      this.fail({
        code: 'mppe-unavailable',
        message: `MPPE required, but none of the key lengths allowed for this user (${allowedBits?.join(', ') || 'none'}) is enabled`,
      });
      return;
    }
    if (mppeKeyBits.length > 0) {
      const keys = this.mppeMaterial !== undefined;
      if (!keys && mppeRequired) {
        // pppd: "MPPE required, but MS-CHAP[v2] auth not performed."
        this.fail(
          refusedAuth
            ? {
                code: 'auth-refused',
                message: `the peer demanded ${refusedAuth} authentication, which we refuse, and without MS-CHAP there are no MPPE keys`,
              }
            : {
                code: 'mppe-unavailable',
                message: 'MPPE required, but no MS-CHAP authentication provided keys (RFC 3079)',
              },
        );
        return;
      }
      this.ccpPolicy = new CcpPolicy({
        keyBits: keys ? mppeKeyBits : [],
        required: mppeRequired,
        stateful: s.mppeStateful,
      });
      this.ccp = new Fsm(this.ccpPolicy, s.fsm, log.child('ccp'));
    }
    if (s.ipv4) {
      const assigned = o.assignRemoteAddress?.(peerName) ?? o.remoteAddress ?? 0;
      this.ipcpPolicy = new IpcpPolicy({
        localAddress: o.localAddress ?? 0,
        remoteAddress: assigned,
        acceptLocal: o.ipcpAcceptLocal ?? false,
        acceptRemote: o.ipcpAcceptRemote ?? false,
        dns: policy?.dns ?? o.msDns ?? [],
        nbns: o.msWins ?? [],
        usePeerDns: o.usePeerDns ?? false,
      });
      this.ipcp = new Fsm(this.ipcpPolicy, s.fsm, log.child('ipcp'));
    }
    if (s.ipv6) {
      this.ipv6cpPolicy = new Ipv6cpPolicy({
        ...(o.ipv6LocalIdentifier ? { localIdentifier: o.ipv6LocalIdentifier } : {}),
        ...(o.ipv6RemoteIdentifier ? { remoteIdentifier: o.ipv6RemoteIdentifier } : {}),
        ...(random ? { random: () => random(8) } : {}),
      });
      this.ipv6cp = new Fsm(this.ipv6cpPolicy, s.fsm, log.child('ipv6cp'));
    }
    // Code-Rejects of every automaton must fit the peer's MRU (RFC 1661 §5.6).
    const peerMru = this.lcpPolicy.negotiated?.mtu ?? DEFAULT_MRU;
    for (const f of [this.ccp, this.ipcp, this.ipv6cp]) if (f) f.peerMru = peerMru;
    // CCP first, so that with MPPE required it is already negotiating when IPCP comes up; IPCP packets are
    // processed whatever CCP's state (the accel-ppp bug was to drop them while CCP negotiated).
    if (this.ccp) {
      this.runCcp(this.ccp.lowerUp());
      this.runCcp(this.ccp?.open() ?? []);
    }
    if (this.ipcp) {
      this.runIpcp(this.ipcp.lowerUp());
      this.runIpcp(this.ipcp?.open() ?? []);
    }
    if (this.ipv6cp) {
      this.runIpv6cp(this.ipv6cp.lowerUp());
      this.runIpv6cp(this.ipv6cp?.open() ?? []);
    }
    this.updateModes();
  }

  /** LCP left Opened (or the link is dying): the NCPs get Down, MPPE state is wiped. */
  protected stopNetwork(): void {
    if (this.ccp) this.runCcp(this.ccp.lowerDown());
    if (this.ipcp) this.runIpcp(this.ipcp.lowerDown());
    if (this.ipv6cp) this.runIpv6cp(this.ipv6cp.lowerDown());
    this.ccp = this.ipcp = this.ipv6cp = undefined;
    this.ccpPolicy = undefined;
    this.ipcpPolicy = undefined;
    this.ipv6cpPolicy = undefined;
    this.stopMppe();
  }

  // ─── npmode ───────────────────────────────────────────────────────────

  /**
   * Recomputes the npmode of both network protocols from the automata:
   * PASS once the NCP is Opened and, when MPPE is required, CCP too; QUEUE
   * while they negotiate; DROP once the link is going down.
   */
  protected updateModes(): void {
    const mppeReady = !this.settings.mppeRequired || this.encryptor !== undefined;
    const modeOf = (fsm: Fsm<unknown> | undefined): NpMode => {
      if (this.phaseValue === 'Terminate' || this.phaseValue === 'Dead') return 'DROP';
      if (!fsm) return 'QUEUE';
      if (fsm.state === 'Opened') return mppeReady ? 'PASS' : 'QUEUE';
      if (fsm.state === 'Stopped' || fsm.state === 'Closed') return 'DROP';
      return 'QUEUE';
    };
    if (this.v4.mode !== 'ERROR') this.setMode(PppProtocol.Ipv4, modeOf(this.ipcp));
    if (this.v6.mode !== 'ERROR') this.setMode(PppProtocol.Ipv6, modeOf(this.ipv6cp));
  }

  // ─── MPPE ─────────────────────────────────────────────────────────────

  protected startMppe(n: CcpNegotiated): void {
    this.stopMppe();
    const m = this.mppeMaterial;
    if (!m || (!n.rx && !n.tx)) return;
    const keys = mppeMasterKeysFromAuth(m.material, m.isServer);
    if (n.tx) {
      this.encryptor = new MppeEncryptor({
        bits: n.tx.keyBits,
        stateless: n.tx.stateless,
        masterKey: keys.sendKey,
      });
      if (!n.tx.stateless) this.lastSent = { buf: new Uint8Array(0), length: 0, budget: 0 };
    }
    if (n.rx) {
      this.decryptor = new MppeDecryptor({
        bits: n.rx.keyBits,
        stateless: n.rx.stateless,
        masterKey: keys.receiveKey,
      });
    }
  }

  protected stopMppe(): void {
    this.encryptor?.wipe();
    this.encryptor = undefined;
    this.decryptor = undefined;
    this.lastSent?.buf.fill(0);
    this.lastSent = undefined;
    this.act({ kind: 'stopTimer', id: UNIT_TIMER.ccpReset });
  }

  /** RFC 3078 §8.2: "send a CCP Reset-Request packet without data"; repeated (same Identifier) until a flushed packet comes. */
  protected sendResetRequest(fresh: boolean): void {
    const ccp = this.ccp;
    if (ccp?.state !== 'Opened' || !this.ccpPolicy) return;
    this.ccpReset ??= new CcpResetController();
    this.runCcp(this.ccpReset.request(ccp, this.ccpPolicy, fresh));
    this.counters.resetRequestsSent++;
    this.act({ kind: 'startTimer', id: UNIT_TIMER.ccpReset, ms: CCP_RESET_RETRY_MS });
  }

  protected onCcpResetTimer(): void {
    if (this.decryptor?.awaitingFlush) this.sendResetRequest(false);
  }

  /** RFC 1661 §5.7: "the implementation MUST stop sending packets of the indicated protocol". */
  protected onProtocolRejected(protocol: number): void {
    const reason = 'Protocol-Rejected by peer';
    switch (protocol) {
      case PppProtocol.Ipcp:
        if (this.ipcp) this.runIpcp(this.ipcp.protocolRejected(reason));
        break;
      case PppProtocol.Ipv6cp:
        if (this.ipv6cp) this.runIpv6cp(this.ipv6cp.protocolRejected(reason));
        break;
      case PppProtocol.Ccp:
        if (this.ccp) this.runCcp(this.ccp.protocolRejected(reason));
        break;
      case PppProtocol.Ipv4:
      case PppProtocol.Ipv6:
        this.setMode(protocol, 'ERROR');
        break;
      case PppProtocol.Pap:
      case PppProtocol.Chap:
        if (this.phaseValue === 'Authenticate') {
          this.fail({
            code: 'auth-refused',
            message: `the peer Protocol-Rejected authentication (0x${protocol.toString(16)})`,
          });
        }
        break;
      default:
        break;
    }
  }

  // ─── What the NCPs and CCP report ─────────────────────────────────────

  protected runIpcp(actions: readonly FsmAction<IpcpNote>[]): void {
    this.runFsm(actions, 'ipcp', this.ipcp);
  }

  protected onIpcpUp(): void {
    const n = this.ipcpPolicy?.negotiated;
    if (!n || n.localAddress === 0) return; // the 'failed' note handles it
    this.log.log('info', 'IPCP up', {
      local: ipv4ToString(n.localAddress),
      remote: ipv4ToString(n.remoteAddress),
    });
    this.act({ kind: 'ipcp-up', ipcp: n });
    this.updateModes();
  }

  protected runIpv6cp(actions: readonly FsmAction<Ipv6cpNote>[]): void {
    this.runFsm(actions, 'ipv6cp', this.ipv6cp);
  }

  protected onIpv6cpUp(): void {
    const n = this.ipv6cpPolicy?.negotiated;
    if (!n) return;
    this.act({ kind: 'ipv6cp-up', ipv6cp: n });
    this.updateModes();
  }

  /**
   * An NCP could not produce a usable configuration: close it; if no other
   * NCP can carry traffic, end the link (pppd: "No network protocols
   * running").
   */
  protected ncpFailed(protocol: number, reason: string): void {
    const fsm = protocol === PppProtocol.Ipcp ? this.ipcp : this.ipv6cp;
    this.log.log('warn', `NCP 0x${protocol.toString(16)} failed: ${reason}`);
    if (fsm) {
      const actions = fsm.close(reason);
      if (protocol === PppProtocol.Ipcp) this.runIpcp(actions as FsmAction<IpcpNote>[]);
      else this.runIpv6cp(actions as FsmAction<Ipv6cpNote>[]);
    }
    const other = protocol === PppProtocol.Ipcp ? this.ipv6cp : this.ipcp;
    if (!other || other.state === 'Closed' || other.state === 'Stopped') {
      this.fail({ code: 'negotiation-failed', message: reason });
    }
  }

  /** RFC 1661 §3.7: "the fact that one NCP has Closed is not sufficient reason to cause the termination of the PPP link". */
  protected onNcpFinished(protocol: number, reason: string): void {
    this.act({ kind: 'ncp-finished', protocol, reason });
    this.updateModes();
  }

  protected runCcp(actions: readonly FsmAction<CcpNote>[]): void {
    this.runFsm(actions, 'ccp', this.ccp);
  }

  protected onCcpUp(): void {
    const n = this.ccpPolicy?.negotiated;
    if (!n) return;
    this.startMppe(n);
    this.act({ kind: 'ccp-up', ccp: n });
    this.updateModes();
  }

  protected onCcpNote(n: CcpNote): void {
    switch (n.kind) {
      case 'mppe-refused':
        // pppd: "MPPE required but peer negotiation failed".
        this.fail({ code: 'mppe-refused', message: `MPPE required but refused: ${n.reason}` });
        return;
      case 'reset-request':
        this.counters.resetRequestsReceived++;
        // RFC 3078 §8.2: our *transmitter* re-initialises and flushes the next packet, which we send now.
        this.encryptor?.resetRequested();
        this.resendLastFlushed();
        return;
      case 'reset-ack':
        return;
      default:
        assertNever(n, 'CCP note');
    }
  }
}
