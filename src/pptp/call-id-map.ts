/**
 * A map keyed by a 16-bit PPTP Call ID (RFC 2637 §2.7: "A unique identifier,
 * unique to a particular PAC-PNS pair assigned by the PNS") that holds its
 * first entry in two fields and makes a `Map` only for a second one.
 *
 * Nearly every control connection carries exactly one call, and a server
 * keeps two such maps per connection (the engine's call table and its own
 * record of the calls): an empty `Map` with its hash table is about 240
 * bytes, this about 40. Iteration order is insertion order, as with `Map`:
 * the inline entry is taken only while no other entry exists, so it is
 * always the oldest. Deleting entries while iterating is allowed, as with
 * `Map`.
 */
export class CallIdMap<V> {
  /** The inline entry's Call ID, -1 when there is none. */
  private firstId = -1;
  private first: V | undefined;
  /** Every entry after the inline one, made at the first. */
  private rest: Map<number, V> | undefined;

  get size(): number {
    return (this.firstId >= 0 ? 1 : 0) + (this.rest?.size ?? 0);
  }

  get(callId: number): V | undefined {
    return callId === this.firstId ? this.first : this.rest?.get(callId);
  }

  has(callId: number): boolean {
    return callId === this.firstId || (this.rest?.has(callId) ?? false);
  }

  set(callId: number, value: V): this {
    if (!Number.isInteger(callId) || callId < 0 || callId > 0xffff) {
      throw new RangeError(`Call ID out of range: ${callId}`);
    }
    if (callId === this.firstId || (this.firstId < 0 && (this.rest === undefined || this.rest.size === 0))) {
      this.firstId = callId;
      this.first = value;
    } else {
      this.rest ??= new Map();
      this.rest.set(callId, value);
    }
    return this;
  }

  delete(callId: number): boolean {
    if (callId === this.firstId) {
      this.firstId = -1;
      this.first = undefined;
      return true;
    }
    return this.rest?.delete(callId) ?? false;
  }

  clear(): void {
    this.firstId = -1;
    this.first = undefined;
    this.rest = undefined;
  }

  *entries(): IterableIterator<[number, V]> {
    if (this.firstId >= 0) yield [this.firstId, this.first as V];
    if (this.rest) yield* this.rest.entries();
  }

  *keys(): IterableIterator<number> {
    for (const [id] of this.entries()) yield id;
  }

  *values(): IterableIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): IterableIterator<[number, V]> {
    return this.entries();
  }
}
