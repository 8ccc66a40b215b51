/**
 * Scripted-exchange helpers for the PPP engines (docs/style.md §5.5, smoltcp's
 * `send!`/`recv!`): a harness collects the actions an engine returns, and
 * `expectActions` / `expectNothing` drain and check them.
 */
import assert from 'node:assert/strict';
import type { Fsm, FsmAction } from '../../src/ppp/fsm.js';
import { toHex } from '../../src/wire/bytes.js';
import { type CpPacket, decodeCpPacket, encodeCpPacket } from '../../src/wire/cp.js';

const CODE_NAMES: Record<number, string> = {
  1: 'Configure-Request',
  2: 'Configure-Ack',
  3: 'Configure-Nak',
  4: 'Configure-Reject',
  5: 'Terminate-Request',
  6: 'Terminate-Ack',
  7: 'Code-Reject',
  8: 'Protocol-Reject',
  9: 'Echo-Request',
  10: 'Echo-Reply',
  11: 'Discard-Request',
  12: 'Identification',
  13: 'Time-Remaining',
  14: 'Reset-Request',
  15: 'Reset-Ack',
};

/** Name of a control-protocol code as the RFCs spell it. */
export function codeName(code: number): string {
  return CODE_NAMES[code] ?? `code-${code}`;
}

/**
 * One-line description of an action: `send Configure-Ack id=3 010405dc`,
 * `startTimer lcp.restart 3000`, `up`, `finished <reason>`, `note {...}`.
 */
export function describeAction(a: FsmAction<unknown>): string {
  switch (a.kind) {
    case 'send': {
      const p = decodeCpPacket(a.frame.payload);
      return `send ${codeName(p.code)} id=${p.identifier} ${toHex(p.data)}`.trimEnd();
    }
    case 'startTimer':
      return `startTimer ${a.id} ${a.ms}`;
    case 'stopTimer':
      return `stopTimer ${a.id}`;
    case 'finished':
      return `finished ${a.reason}`;
    case 'note':
      return `note ${JSON.stringify(a.note)}`;
    default:
      return a.kind;
  }
}

/** The control packets among `actions`, decoded. */
export function sentPackets(actions: readonly FsmAction<unknown>[]): CpPacket[] {
  const out: CpPacket[] = [];
  for (const a of actions) if (a.kind === 'send') out.push(decodeCpPacket(a.frame.payload));
  return out;
}

/** Encodes a control packet from its parts (data as hex). */
export function cp(code: number, identifier: number, dataHex = ''): Uint8Array {
  const clean = dataHex.replace(/\s/g, '');
  const data = new Uint8Array(clean.length / 2);
  for (let i = 0; i < data.length; i++) data[i] = Number.parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return encodeCpPacket({ code, identifier, data });
}

/** Something that consumes inputs and returns actions. */
export interface Engine<A> {
  receive(payload: Uint8Array): A[];
}

/** Collects actions so a test can check them in order. */
export class Harness<A extends FsmAction<unknown>> {
  private pending: A[] = [];
  constructor(readonly engine: Engine<A>) {}
  /** Records actions returned by any call on the engine. */
  run(actions: A[]): A[] {
    this.pending.push(...actions);
    return actions;
  }
  /** Delivers one packet (bytes of the PPP Information field). */
  deliver(packet: Uint8Array): A[] {
    return this.run(this.engine.receive(packet));
  }
  /** Returns and clears the recorded actions. */
  drain(): A[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }
}

/**
 * Drains `h` and checks the actions one by one: each expected string must be
 * a prefix of the action's {@link describeAction} text.
 */
export function expectActions<A extends FsmAction<unknown>>(h: Harness<A>, expected: readonly string[]): A[] {
  const got = h.drain();
  const text = got.map(describeAction);
  assert.equal(
    text.length,
    expected.length,
    `expected ${expected.length} actions, got ${text.length}:\n  ${text.join('\n  ')}`,
  );
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      text[i]!.startsWith(expected[i]!),
      `action ${i}: expected "${expected[i]}…", got "${text[i]}"\nall:\n  ${text.join('\n  ')}`,
    );
  }
  return got;
}

/** Drains `h` and checks that nothing happened. */
export function expectNothing<A extends FsmAction<unknown>>(h: Harness<A>): void {
  const got = h.drain().map(describeAction);
  assert.deepEqual(got, [], `expected no actions, got:\n  ${got.join('\n  ')}`);
}

/** One packet seen on the wire between two automatons. */
export interface WireEvent {
  readonly from: 'a' | 'b';
  readonly code: number;
  readonly identifier: number;
  readonly data: string;
}

/**
 * Connects two automatons back to back: starts both (open + lowerUp) and
 * delivers every packet each one sends to the other until both are quiet.
 * Returns the transcript and every non-send action per side.
 */
export function negotiatePair<NA, NB>(
  a: Fsm<NA>,
  b: Fsm<NB>,
  maxRounds = 50,
): { transcript: WireEvent[]; actionsA: FsmAction<NA>[]; actionsB: FsmAction<NB>[] } {
  const transcript: WireEvent[] = [];
  const actionsA: FsmAction<NA>[] = [];
  const actionsB: FsmAction<NB>[] = [];
  let qa: FsmAction<NA>[] = [...a.open(), ...a.lowerUp()];
  let qb: FsmAction<NB>[] = [...b.open(), ...b.lowerUp()];
  for (let round = 0; round < maxRounds && (qa.length || qb.length); round++) {
    const fromA = qa;
    const fromB = qb;
    qa = [];
    qb = [];
    for (const x of fromA) {
      if (x.kind !== 'send') {
        actionsA.push(x);
        continue;
      }
      const p = decodeCpPacket(x.frame.payload);
      transcript.push({ from: 'a', code: p.code, identifier: p.identifier, data: toHex(p.data) });
      qb.push(...b.receive(x.frame.payload));
    }
    for (const x of fromB) {
      if (x.kind !== 'send') {
        actionsB.push(x);
        continue;
      }
      const p = decodeCpPacket(x.frame.payload);
      transcript.push({ from: 'b', code: p.code, identifier: p.identifier, data: toHex(p.data) });
      qa.push(...a.receive(x.frame.payload));
    }
  }
  return { transcript, actionsA, actionsB };
}

/** The notes among actions. */
export function notesOf<N>(actions: readonly FsmAction<N>[]): N[] {
  const out: N[] = [];
  for (const a of actions) if (a.kind === 'note') out.push(a.note);
  return out;
}
