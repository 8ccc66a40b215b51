/**
 * The action list one input of the control-connection engine returns,
 * keeping the set of running timers in step with the timer actions pushed
 * into it (so a `stopTimer` for a timer that is not running is dropped, and
 * the engine can stop "every running timer"), and logging each message sent.
 */

import type { Logger } from '../log/logger.js';
import { stringifyPptpMessage } from '../wire/pptp/index.js';
import type { PptpActionSink, PptpControlAction, PptpTimerId } from './control-types.js';

export interface ControlSink extends PptpActionSink {
  readonly actions: PptpControlAction[];
}

/**
 * The ids of an engine's running timers, in the order they started: a
 * handful at most, so an array. (A long-lived `Set` would make a new hash
 * table, in the old generation where the engine lives, as its keep-alive
 * timers start and stop: garbage for the full collector on a server at
 * rest.)
 */
export class RunningTimers {
  private readonly ids: PptpTimerId[] = [];

  has(id: PptpTimerId): boolean {
    return this.ids.includes(id);
  }

  add(id: PptpTimerId): void {
    if (!this.ids.includes(id)) this.ids.push(id);
  }

  /** Removes `id`; false when it was not running. */
  delete(id: PptpTimerId): boolean {
    const ids = this.ids;
    const i = ids.indexOf(id);
    if (i < 0) return false;
    for (let j = i; j < ids.length - 1; j++) ids[j] = ids[j + 1]!;
    ids.pop();
    return true;
  }

  get size(): number {
    return this.ids.length;
  }

  /** A copy of the ids, in start order. */
  list(): PptpTimerId[] {
    return this.ids.slice();
  }
}

/** A fresh action list over the engine's `running` timers. */
export function actionSink(running: RunningTimers, log: Logger): ControlSink {
  const actions: PptpControlAction[] = [];
  return {
    actions,
    push(...as: PptpControlAction[]) {
      for (const a of as) {
        if (a.kind === 'startTimer') running.add(a.id);
        else if (a.kind === 'stopTimer') {
          if (!running.delete(a.id)) continue; // not running: nothing to stop
        } else if (a.kind === 'send' && log.enabled('debug')) {
          log.log('debug', `send ${stringifyPptpMessage(a.message)}`);
        }
        actions.push(a);
      }
    },
  };
}

/** Pushes a `stopTimer` for every running timer. */
export function stopAllTimers(out: ControlSink, running: RunningTimers): void {
  for (const id of running.list()) out.push({ kind: 'stopTimer', id });
}
