/**
 * Every one of the 10 × 16 cells of the RFC 1661 §4.1 state transition
 * table, with the RFC text itself as the oracle.
 *
 * 1. The table is parsed out of test/vectors/rfc/rfc1661.txt (its own little
 *    parser, independent of the one in src/ppp/fsm-table.ts) and compared with
 *    `TRANSITIONS`, cell by cell.
 * 2. Each cell is then *executed*: a fresh automaton is driven into the
 *    cell's state with real inputs (open/lowerUp/packets/timeouts), the
 *    cell's event is produced with a real input, and what comes out (packets
 *    by code, up/down/starting/finished, the restart counter and timer) is
 *    mapped back to RFC action names and compared with the RFC's cell.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Fsm, type FsmAction, type FsmConfig } from '../../src/ppp/fsm.js';
import type { CpPolicy, ExtraCodeVerdict } from '../../src/ppp/fsm-policy.js';
import {
  FSM_EVENTS,
  FSM_STATES,
  type FsmEvent,
  type FsmState,
  TRANSITIONS,
} from '../../src/ppp/fsm-table.js';
import { fromHex, toHex } from '../../src/wire/bytes.js';
import { type CpOption, decodeCpPacket } from '../../src/wire/cp.js';
import { cp } from './helpers.js';

// ─── 1. the oracle: the table as printed in the RFC ───────────────────────

interface RfcCell {
  actions: string[];
  next: number;
}

const RFC_PATH = new URL('../vectors/rfc/rfc1661.txt', import.meta.url);

/** Reads both halves of the §4.1 table: rows `Event | cell cell ...` under a `| 0 1 2 ...` header. */
function parseRfcTable(): Map<string, (RfcCell | null)[]> {
  const text = readFileSync(RFC_PATH, 'utf8');
  const start = text.indexOf('4.1.  State Transition Table');
  const end = text.indexOf('4.2.  States', start);
  assert.ok(start > 0 && end > start, 'found §4.1 in rfc1661.txt');
  const lines = text.slice(start, end).split('\n');
  const rows = new Map<string, (RfcCell | null)[]>();
  let columns: number[] | undefined;
  for (const line of lines) {
    const header = /^\s*\|\s+((?:\d+\s*)+)$/.exec(line);
    if (header) {
      columns = header[1]!.trim().split(/\s+/).map(Number);
      continue;
    }
    const row = /^\s*(Up|Down|Open|Close|TO[+-]|RCR[+-]|RCA|RCN|RTR|RTA|RUC|RXJ[+-]|RXR)\s*\|(.*)$/.exec(
      line,
    );
    if (!row) continue;
    assert.ok(columns, `row before a column header: ${line}`);
    const cells = row[2]!.trim().split(/\s+/);
    assert.equal(cells.length, columns.length, `row "${line.trim()}" has ${cells.length} cells`);
    const all = rows.get(row[1]!) ?? new Array<RfcCell | null>(10).fill(null);
    cells.forEach((c, i) => {
      all[columns![i]!] = parseRfcCell(c);
    });
    rows.set(row[1]!, all);
  }
  return rows;
}

/** `-` → null; `irc,scr/6` → {actions, next}; a footnote letter after the state is dropped. */
function parseRfcCell(cell: string): RfcCell | null {
  if (cell === '-') return null;
  const slash = cell.lastIndexOf('/');
  const actions = slash >= 0 ? cell.slice(0, slash).split(',') : [];
  const next = Number.parseInt(slash >= 0 ? cell.slice(slash + 1) : cell, 10);
  assert.ok(next >= 0 && next <= 9, `bad next state in ${cell}`);
  return { actions, next };
}

const RFC = parseRfcTable();

describe('RFC 1661 §4.1 table, parsed from the RFC text', () => {
  it('has 16 events × 10 states', () => {
    assert.deepEqual([...RFC.keys()].sort(), [...FSM_EVENTS].sort());
    for (const [ev, cells] of RFC) assert.equal(cells.length, 10, ev);
  });
  for (const ev of FSM_EVENTS) {
    for (const [i, st] of FSM_STATES.entries()) {
      it(`${ev} in ${i} ${st}`, () => {
        const want = RFC.get(ev)![i]!;
        const got = TRANSITIONS[ev][st];
        if (want === null) {
          assert.equal(got, null);
        } else {
          assert.ok(got, 'TRANSITIONS has a transition');
          assert.deepEqual([...got.actions], want.actions);
          assert.equal(got.next, FSM_STATES[want.next]);
        }
      });
    }
  }
});

// ─── 2. executing each cell ───────────────────────────────────────────────

const OUR_OPTIONS = '01 04 05 dc'; // what the probe policy requests
const MAX_CONFIGURE = 10;
const MAX_TERMINATE = 3;

/**
 * A small policy: accepts option 1, Naks option 2, Rejects option 3; Echo-
 * Request (9) is RXR with a reply, code 0x33 is unknown. It sends Echo-
 * Requests too, so a Code-Reject of one is acceptable (RXJ+).
 */
function probePolicy(): CpPolicy<never> {
  return {
    name: 'probe',
    protocol: 0xc021,
    reset() {},
    buildRequest: () => [{ type: 1, data: fromHex('05dc') }],
    onAck() {},
    onNak: () => true,
    onReject: () => true,
    judgeRequest(options: readonly CpOption[]) {
      return {
        nak: options
          .filter((o) => o.type === 2)
          .map((o) => ({ type: 2, data: new Uint8Array(o.data.length) })),
        reject: options.filter((o) => o.type === 3),
      };
    },
    extraCode(packet): ExtraCodeVerdict {
      if (packet.code === 9)
        return { event: 'RXR', reply: { code: 10, identifier: packet.identifier, data: packet.data } };
      return { event: 'RUC' };
    },
    onCodeReject: (code) => (code === 9 ? 'acceptable' : 'never-sent'),
  };
}

/** Exposes the pppd `seen_ack` flag so a crossed-connection Ack (RFC 1661 [x]) can be produced. */
class ProbeFsm extends Fsm<never> {
  forgetReply(): void {
    this.replySeen = false;
  }
}

interface Probe {
  fsm: ProbeFsm;
  /** Identifier of the last Configure-Request the automaton sent. */
  requestId: number | undefined;
  feed(actions: FsmAction<never>[]): FsmAction<never>[];
}

function makeProbe(config: Partial<FsmConfig>): Probe {
  const probe: Probe = {
    fsm: new ProbeFsm(probePolicy(), { maxConfigure: MAX_CONFIGURE, maxTerminate: MAX_TERMINATE, ...config }),
    requestId: undefined,
    feed(actions) {
      for (const a of actions) {
        if (a.kind !== 'send') continue;
        const p = decodeCpPacket(a.frame.payload);
        if (p.code === 1) probe.requestId = p.identifier;
      }
      return actions;
    },
  };
  return probe;
}

const ack = (p: Probe) => cp(2, p.requestId ?? 0, OUR_OPTIONS);

/** Real inputs that bring a fresh automaton into each state. */
const RECIPES: Record<FsmState, (p: Probe) => void> = {
  Initial: () => {},
  Starting: (p) => p.feed(p.fsm.open()),
  // Open, Up, Close, then the peer's Terminate-Ack: our Configure-Request is still unanswered.
  Closed: (p) => {
    p.feed(p.fsm.open());
    p.feed(p.fsm.lowerUp());
    p.feed(p.fsm.close());
    p.feed(p.fsm.receive(cp(6, 0x20)));
  },
  // Open, Up, then a Code-Reject of Configure-Request (RXJ-): tlf/3, request unanswered.
  Stopped: (p) => {
    p.feed(p.fsm.open());
    p.feed(p.fsm.lowerUp());
    p.feed(p.fsm.receive(cp(7, 0x21, '01 05 00 04')));
  },
  Closing: (p) => {
    p.feed(p.fsm.open());
    p.feed(p.fsm.lowerUp());
    p.feed(p.fsm.close());
  },
  // Closing, then Open: 5r. The restart counter is still Max-Terminate − 1.
  Stopping: (p) => {
    RECIPES.Closing(p);
    p.feed(p.fsm.open());
  },
  ReqSent: (p) => {
    p.feed(p.fsm.open());
    p.feed(p.fsm.lowerUp());
  },
  AckRcvd: (p) => {
    RECIPES.ReqSent(p);
    p.feed(p.fsm.receive(ack(p)));
  },
  AckSent: (p) => {
    RECIPES.ReqSent(p);
    p.feed(p.fsm.receive(cp(1, 0x30, OUR_OPTIONS)));
  },
  Opened: (p) => {
    RECIPES.AckSent(p);
    p.feed(p.fsm.receive(ack(p)));
  },
};

/** Real inputs that produce each event. */
const EVENTS: Record<FsmEvent, (p: Probe) => FsmAction<never>[]> = {
  Up: (p) => p.fsm.lowerUp(),
  Down: (p) => p.fsm.lowerDown(),
  Open: (p) => p.fsm.open(),
  Close: (p) => p.fsm.close('test'),
  'TO+': (p) => p.fsm.timeout(),
  'TO-': (p) => p.fsm.timeout(),
  'RCR+': (p) => p.fsm.receive(cp(1, 0x40, OUR_OPTIONS)),
  'RCR-': (p) => p.fsm.receive(cp(1, 0x41, '02 04 12 34')),
  RCA: (p) => {
    p.fsm.forgetReply(); // a crossed connection: the RFC's [x]
    return p.fsm.receive(ack(p));
  },
  RCN: (p) => {
    p.fsm.forgetReply();
    return p.fsm.receive(cp(3, p.requestId ?? 0, '01 04 05 78'));
  },
  RTR: (p) => p.fsm.receive(cp(5, 0x50, '62 79 65')),
  RTA: (p) => p.fsm.receive(cp(6, 0x51)),
  RUC: (p) => p.fsm.receive(cp(0x33, 0x52, 'de ad')),
  'RXJ+': (p) => p.fsm.receive(cp(7, 0x53, '09 01 00 08 00 00 00 00')), // Code-Reject of Echo-Request
  'RXJ-': (p) => p.fsm.receive(cp(7, 0x54, '01 01 00 04')), // Code-Reject of Configure-Request
  RXR: (p) => p.fsm.receive(cp(9, 0x55, '00 00 00 00')),
};

const TIMER_STATES = new Set<FsmState>(['Closing', 'Stopping', 'ReqSent', 'AckRcvd', 'AckSent']);

/** Maps what came out back to RFC action names; irc/zrc are invisible here and checked through the counter. */
function observedActions(actions: readonly FsmAction<never>[]): string[] {
  const names: string[] = [];
  const byCode: Record<number, string> = {
    1: 'scr',
    2: 'sca',
    3: 'scn',
    4: 'scn',
    5: 'str',
    6: 'sta',
    7: 'scj',
    10: 'ser',
  };
  for (const a of actions) {
    switch (a.kind) {
      case 'send': {
        const code = decodeCpPacket(a.frame.payload).code;
        names.push(byCode[code] ?? `send-code-${code}`);
        break;
      }
      case 'up':
        names.push('tlu');
        break;
      case 'down':
        names.push('tld');
        break;
      case 'starting':
        names.push('tls');
        break;
      case 'finished':
        names.push('tlf');
        break;
      default:
        break;
    }
  }
  return names;
}

describe('RFC 1661 §4.1 table, executed cell by cell', () => {
  for (const ev of FSM_EVENTS) {
    for (const [i, st] of FSM_STATES.entries()) {
      const want = RFC.get(ev)![i]!;
      it(`${ev} in ${st} → ${want ? `${want.actions.join(',') || '(none)'}/${FSM_STATES[want.next]}` : '- (illegal)'}`, () => {
        // TO- needs an exhausted counter: Max-Configure = Max-Terminate = 0 makes every timeout a TO-.
        const config = ev === 'TO-' ? { maxConfigure: 0, maxTerminate: 0 } : {};
        const p = makeProbe(config);
        RECIPES[st](p);
        assert.equal(p.fsm.state, st, 'recipe reached the state');
        const counterBefore = p.fsm.restartCount;
        const out = p.feed(EVENTS[ev](p));
        if (want === null) {
          assert.deepEqual(out, [], 'an illegal event produces nothing');
          assert.equal(p.fsm.state, st, 'and no transition is taken');
          return;
        }
        assert.equal(p.fsm.state, FSM_STATES[want.next], 'next state');
        const visible = want.actions.filter((a) => a !== 'irc' && a !== 'zrc');
        assert.deepEqual(observedActions(out), visible, 'actions, in order');
        // irc / zrc / scr / str through the Restart counter.
        const maxConf = config.maxConfigure ?? MAX_CONFIGURE;
        const maxTerm = config.maxTerminate ?? MAX_TERMINATE;
        let counter = counterBefore;
        for (const a of want.actions) {
          if (a === 'irc') counter = want.actions.includes('str') ? maxTerm : maxConf;
          else if (a === 'zrc') counter = 0;
          else if (a === 'scr' || a === 'str') counter--;
        }
        assert.equal(p.fsm.restartCount, counter, 'restart counter');
        // "Only the Send-Configure-Request, Send-Terminate-Request and Zero-Restart-Count actions start or
        // re-start the Restart timer."
        const starts = out.filter((a) => a.kind === 'startTimer').length;
        const restarting = want.actions.filter((a) => a === 'scr' || a === 'str' || a === 'zrc').length;
        assert.equal(starts, restarting, 'timer (re)starts');
        assert.equal(
          p.fsm.timerActive,
          TIMER_STATES.has(FSM_STATES[want.next]!),
          'timer running iff TO events',
        );
        assert.deepEqual([...p.fsm.lastStep!.actions], want.actions, 'performed action names');
      });
    }
  }
});

describe('table details', () => {
  it('the [r] cells stay put without the restart option', () => {
    assert.equal(TRANSITIONS.Open.Opened?.footnote, 'r');
    assert.equal(TRANSITIONS.Open.Stopped?.footnote, 'r');
  });
  it('the [p] cells are the three TO- cells of negotiation', () => {
    const passive = FSM_STATES.filter((s) => TRANSITIONS['TO-'][s]?.footnote === 'p');
    assert.deepEqual(passive, ['ReqSent', 'AckRcvd', 'AckSent']);
  });
  it('our hex helper round-trips (sanity of the probe inputs)', () => {
    assert.equal(toHex(cp(9, 1, '00000000')), '0901000800000000');
  });
});
