/**
 * Named one-shot timers on a {@link Clock}: how the drivers execute the
 * engines' `startTimer {id, ms}` / `stopTimer {id}` actions (STYLE.md §4).
 * One timer per id; starting a running id restarts it, as the engines
 * expect. A timer that was stopped or restarted never fires its old self.
 */
import type { Clock, Timer } from '../io/clock.js';

export class TimerSet<Id extends string = string> {
  private readonly timers = new Map<Id, Timer>();

  constructor(
    private readonly clock: Clock,
    private readonly fire: (id: Id) => void,
  ) {}

  /** (Re)starts timer `id`, due in `ms`. */
  start(id: Id, ms: number): void {
    this.timers.get(id)?.cancel();
    const t: Timer = this.clock.setTimer(ms, () => {
      if (this.timers.get(id) !== t) return;
      this.timers.delete(id);
      this.fire(id);
    });
    this.timers.set(id, t);
  }

  stop(id: Id): void {
    const t = this.timers.get(id);
    if (!t) return;
    t.cancel();
    this.timers.delete(id);
  }

  stopAll(): void {
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }

  has(id: Id): boolean {
    return this.timers.has(id);
  }

  /** Ids of the running timers (hygiene checks). */
  ids(): Id[] {
    return [...this.timers.keys()];
  }

  get size(): number {
    return this.timers.size;
  }
}
