/**
 * Summaries over rounds: the lab reports the median of the interleaved
 * rounds with the min–max spread, and ratios between medians.
 */

/** Median and spread of one metric over the rounds that produced it. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** How many rounds produced a value. */
  readonly n: number;
}

/**
 * Median (mean of the two middle values for an even count), min and max of
 * the finite values; undefined when there are none.
 */
export function summarize(values: readonly (number | undefined | null)[]): Summary | undefined {
  const v = values
    .filter((x): x is number => typeof x === 'number' && Number.isFinite(x))
    .sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = v.length >> 1;
  const median = v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { median, min: v[0]!, max: v[v.length - 1]!, n: v.length };
}

/** `a.median / b.median`, or undefined when either is missing or b is zero. */
export function ratio(a: Summary | undefined, b: Summary | undefined): number | undefined {
  if (!a || !b || !(b.median > 0)) return undefined;
  return a.median / b.median;
}
