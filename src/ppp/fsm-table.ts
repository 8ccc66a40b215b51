/**
 * The RFC 1661 §4.1 state transition table, as data: the ten states, the
 * sixteen events, the thirteen actions, and every cell transcribed in the
 * RFC's own notation and parsed once at load time. The automaton that
 * performs the cells is in fsm.ts; test/ppp/fsm-table.test.ts compares
 * this table with the one printed in the RFC, cell by cell.
 */

/** The ten automaton states, in the RFC 1661 §4.1 column order (0–9). */
export type FsmState =
  | 'Initial'
  | 'Starting'
  | 'Closed'
  | 'Stopped'
  | 'Closing'
  | 'Stopping'
  | 'ReqSent'
  | 'AckRcvd'
  | 'AckSent'
  | 'Opened';

/** States indexed by their RFC 1661 §4.1 number. */
export const FSM_STATES: readonly FsmState[] = [
  'Initial',
  'Starting',
  'Closed',
  'Stopped',
  'Closing',
  'Stopping',
  'ReqSent',
  'AckRcvd',
  'AckSent',
  'Opened',
];

/** The sixteen events of RFC 1661 §4.3, in the §4.1 row order. */
export type FsmEvent =
  | 'Up'
  | 'Down'
  | 'Open'
  | 'Close'
  | 'TO+'
  | 'TO-'
  | 'RCR+'
  | 'RCR-'
  | 'RCA'
  | 'RCN'
  | 'RTR'
  | 'RTA'
  | 'RUC'
  | 'RXJ+'
  | 'RXJ-'
  | 'RXR';

export const FSM_EVENTS: readonly FsmEvent[] = [
  'Up',
  'Down',
  'Open',
  'Close',
  'TO+',
  'TO-',
  'RCR+',
  'RCR-',
  'RCA',
  'RCN',
  'RTR',
  'RTA',
  'RUC',
  'RXJ+',
  'RXJ-',
  'RXR',
];

/** The thirteen actions of RFC 1661 §4.4. */
export type FsmActionName =
  | 'tlu'
  | 'tld'
  | 'tls'
  | 'tlf'
  | 'irc'
  | 'zrc'
  | 'scr'
  | 'sca'
  | 'scn'
  | 'str'
  | 'sta'
  | 'scj'
  | 'ser';

/**
 * One cell of the state transition table: actions in order, the next state,
 * and the RFC's footnote letter ([p] passive option, [r] restart option,
 * [x] crossed connection).
 */
export interface Transition {
  readonly actions: readonly FsmActionName[];
  readonly next: FsmState;
  readonly footnote?: 'p' | 'r' | 'x';
}

/**
 * RFC 1661 §4.1, row by row, cell by cell, in the RFC's own notation
 * (`action,action/new-state[footnote]`, `-` for an illegal event). Columns
 * are states 0–9: Initial Starting Closed Stopped Closing Stopping ReqSent
 * AckRcvd AckSent Opened.
 */
// biome-ignore format: one row per event, as laid out in the RFC
const RFC1661_TABLE: Readonly<Record<FsmEvent, readonly string[]>> = {
  //       Initial  Starting     Closed       Stopped          Closing  Stopping ReqSent      AckRcvd      AckSent      Opened
  Up:     ['2',     'irc,scr/6', '-',         '-',             '-',     '-',     '-',         '-',         '-',         '-'],
  Down:   ['-',     '-',         '0',         'tls/1',         '0',     '1',     '1',         '1',         '1',         'tld/1'],
  Open:   ['tls/1', '1',         'irc,scr/6', '3r',            '5r',    '5r',    '6',         '7',         '8',         '9r'],
  Close:  ['0',     'tlf/0',     '2',         '2',             '4',     '4',     'irc,str/4', 'irc,str/4', 'irc,str/4', 'tld,irc,str/4'],
  'TO+':  ['-',     '-',         '-',         '-',             'str/4', 'str/5', 'scr/6',     'scr/6',     'scr/8',     '-'],
  'TO-':  ['-',     '-',         '-',         '-',             'tlf/2', 'tlf/3', 'tlf/3p',    'tlf/3p',    'tlf/3p',    '-'],
  'RCR+': ['-',     '-',         'sta/2',     'irc,scr,sca/8', '4',     '5',     'sca/8',     'sca,tlu/9', 'sca/8',     'tld,scr,sca/8'],
  'RCR-': ['-',     '-',         'sta/2',     'irc,scr,scn/6', '4',     '5',     'scn/6',     'scn/7',     'scn/6',     'tld,scr,scn/6'],
  RCA:    ['-',     '-',         'sta/2',     'sta/3',         '4',     '5',     'irc/7',     'scr/6x',    'irc,tlu/9', 'tld,scr/6x'],
  RCN:    ['-',     '-',         'sta/2',     'sta/3',         '4',     '5',     'irc,scr/6', 'scr/6x',    'irc,scr/8', 'tld,scr/6x'],
  RTR:    ['-',     '-',         'sta/2',     'sta/3',         'sta/4', 'sta/5', 'sta/6',     'sta/6',     'sta/6',     'tld,zrc,sta/5'],
  RTA:    ['-',     '-',         '2',         '3',             'tlf/2', 'tlf/3', '6',         '6',         '8',         'tld,scr/6'],
  RUC:    ['-',     '-',         'scj/2',     'scj/3',         'scj/4', 'scj/5', 'scj/6',     'scj/7',     'scj/8',     'scj/9'],
  'RXJ+': ['-',     '-',         '2',         '3',             '4',     '5',     '6',         '6',         '8',         '9'],
  'RXJ-': ['-',     '-',         'tlf/2',     'tlf/3',         'tlf/2', 'tlf/3', 'tlf/3',     'tlf/3',     'tlf/3',     'tld,irc,str/5'],
  RXR:    ['-',     '-',         '2',         '3',             '4',     '5',     '6',         '7',         '8',         'ser/9'],
};

const ACTION_NAMES: ReadonlySet<string> = new Set<FsmActionName>([
  'tlu',
  'tld',
  'tls',
  'tlf',
  'irc',
  'zrc',
  'scr',
  'sca',
  'scn',
  'str',
  'sta',
  'scj',
  'ser',
]);

/** Parses one cell in RFC 1661 §4.1 notation; `null` for `-`. Exported for the table test. */
export function parseTransitionCell(cell: string): Transition | null {
  const s = cell.trim();
  if (s === '-') return null;
  const m = /^(?:([a-z,]+)\/)?([0-9])([prx]?)$/.exec(s);
  if (!m) throw new Error(`bad RFC 1661 table cell: ${cell}`);
  const actions = m[1] ? m[1].split(',') : [];
  for (const a of actions) if (!ACTION_NAMES.has(a)) throw new Error(`bad action ${a} in cell ${cell}`);
  const next = FSM_STATES[Number(m[2])]!;
  const footnote = (m[3] || undefined) as Transition['footnote'];
  return footnote
    ? { actions: actions as FsmActionName[], next, footnote }
    : { actions: actions as FsmActionName[], next };
}

/** The RFC 1661 §4.1 state transition table: `TRANSITIONS[event][state]`, `null` where the RFC has `-`. */
export const TRANSITIONS: Readonly<Record<FsmEvent, Readonly<Record<FsmState, Transition | null>>>> =
  Object.fromEntries(
    FSM_EVENTS.map((ev) => [
      ev,
      Object.fromEntries(FSM_STATES.map((st, i) => [st, parseTransitionCell(RFC1661_TABLE[ev][i]!)])),
    ]),
  ) as Record<FsmEvent, Record<FsmState, Transition | null>>;

/** States in which the Restart timer runs (RFC 1661 §4.1: "identifiable by the presence of TO events"). */
export const TIMER_STATES: ReadonlySet<FsmState> = new Set<FsmState>([
  'Closing',
  'Stopping',
  'ReqSent',
  'AckRcvd',
  'AckSent',
]);

/** States in which a Configure-Request exchange is under way (pppd: no option reset on scr). */
export const NEGOTIATING: ReadonlySet<FsmState> = new Set<FsmState>(['ReqSent', 'AckRcvd', 'AckSent']);
