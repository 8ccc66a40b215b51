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

/** A fresh action list over the engine's set of `running` timers. */
export function actionSink(running: Set<PptpTimerId>, log: Logger): ControlSink {
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
export function stopAllTimers(out: ControlSink, running: ReadonlySet<PptpTimerId>): void {
  for (const id of [...running]) out.push({ kind: 'stopTimer', id });
}
