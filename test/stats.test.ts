/**
 * core/stats.ts against reference values computed independently (numpy / scipy, without ftrun's
 * RNG): test/fixtures/stats/reference.py wrote test/fixtures/stats/reference.json once.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deltaInterval, deltaIntervals, formatDeltaWithInterval, formatP, intervalNote, pairedBootstrapInterval, pairedDeltas, pairedRandomizationTest, quantileSorted, STATS } from '../core/stats.js';

interface RefCase {
  name: string;
  n: number;
  a: number[];
  b: number[];
  mean_diff: number;
  bootstrap: { low: number; high: number; mc_se: number };
  p_exact: number;
  p_method: string;
}
const ref = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'stats', 'reference.json'), 'utf8')) as {
  cases: RefCase[];
  percentiles: Array<{ values: number[]; q: number; expected: number }>;
};
const diffs = (c: RefCase) => c.b.map((x, i) => x - c.a[i]!);

describe('paired statistics against the numpy/scipy reference (test/fixtures/stats/reference.json)', () => {
  it('has the cases the script writes', () => {
    expect(ref.cases.map((c) => c.name)).toEqual(['mrr@1 binary, 66 queries', 'mrr@10 graded, 66 queries, close models', 'continuous, 12 queries', 'identical models, 8 queries', 'one query']);
  });

  it('quantiles interpolate linearly between order statistics, as numpy.percentile', () => {
    for (const p of ref.percentiles) {
      expect(quantileSorted([...p.values].sort((a, b) => a - b), p.q)).toBeCloseTo(p.expected, 12);
    }
  });

  for (const c of ref.cases) {
    it(`bootstrap interval within 4 Monte Carlo standard errors of scipy.stats.bootstrap (percentile): ${c.name}`, () => {
      const { low, high } = pairedBootstrapInterval(diffs(c));
      const tol = 4 * c.bootstrap.mc_se + 1e-12;
      expect(Math.abs(low - c.bootstrap.low)).toBeLessThanOrEqual(tol);
      expect(Math.abs(high - c.bootstrap.high)).toBeLessThanOrEqual(tol);
    });

    it(`randomization p-value within 4 binomial standard errors of the exact p-value: ${c.name}`, () => {
      const p = pairedRandomizationTest(diffs(c));
      const P = STATS.permutations;
      // the +1 correction moves p by at most 1/(P+1); Monte Carlo error on top
      const tol = 4 * Math.sqrt((c.p_exact * (1 - c.p_exact)) / P) + 2 / (P + 1);
      expect(Math.abs(p - c.p_exact)).toBeLessThanOrEqual(tol);
      expect(p).toBeGreaterThanOrEqual(1 / (P + 1));
    });
  }

  it('marks significant only what the reference calls significant (interval without 0 and p < 0.05)', () => {
    const got = ref.cases.map((c) => deltaInterval(diffs(c)).significant);
    const want = ref.cases.map((c) => (c.bootstrap.low > 0 || c.bootstrap.high < 0) && c.p_exact < 0.05);
    expect(got).toEqual(want);
    expect(want).toEqual([true, false, false, false, false]);
  });

  it('gives the exact values where the answer does not depend on resampling', () => {
    const same = ref.cases.find((c) => c.name === 'identical models, 8 queries')!;
    expect(deltaInterval(diffs(same))).toEqual({ delta: 0, low: 0, high: 0, p: 1, significant: false });
    const one = ref.cases.find((c) => c.name === 'one query')!;
    const r = deltaInterval(diffs(one));
    expect([r.low, r.high, r.p, r.significant]).toEqual([one.bootstrap.low, one.bootstrap.high, 1, false]);
  });
});

describe('paired statistics: seeding and pairing', () => {
  const c = ref.cases[1]!;

  it('is reproducible: the same scores give the same interval and p-value; another seed other draws', () => {
    expect(deltaInterval(diffs(c))).toEqual(deltaInterval(diffs(c)));
    const other = deltaInterval(diffs(c), { seed: 1 });
    expect(other).not.toEqual(deltaInterval(diffs(c)));
    expect(Math.abs(other.low - c.bootstrap.low)).toBeLessThanOrEqual(4 * c.bootstrap.mc_se);
  });

  it('resamples every metric with the same draws: one metric alone gives what it gives among others', () => {
    const d = diffs(c);
    const [alone] = deltaIntervals([d]);
    const [, withOthers] = deltaIntervals([d.map((x) => -x), d]);
    expect(withOthers).toEqual(alone);
  });

  it('pairs by query id, counts the unpaired queries and keeps only metrics every paired query has', () => {
    const a = new Map<string, Record<string, number>>([
      ['q1', { 'mrr@1': 0, 'hit@3': 1 }],
      ['q2', { 'mrr@1': 1, 'hit@3': 1 }],
      ['q3', { 'mrr@1': 0, 'hit@3': 0 }],
      ['qa', { 'mrr@1': 1, 'hit@3': 1 }],
    ]);
    const b = new Map<string, Record<string, number>>([
      ['q3', { 'mrr@1': 1, 'hit@3': 1 }],
      ['q2', { 'mrr@1': 1 }],
      ['q1', { 'mrr@1': 1, 'hit@3': 1 }],
      ['qb', { 'mrr@1': 0, 'hit@3': 0 }],
      ['qc', { 'mrr@1': 0, 'hit@3': 0 }],
    ]);
    const r = pairedDeltas(a, b);
    expect([r.paired, r.onlyA, r.onlyB, Object.keys(r.metrics)]).toEqual([3, 1, 2, ['mrr@1']]);
    expect(r.metrics['mrr@1']!.delta).toBeCloseTo(2 / 3, 12);
    expect(pairedDeltas(new Map([['x', { 'mrr@1': 1 }]]), new Map([['y', { 'mrr@1': 1 }]]))).toEqual({ paired: 0, onlyA: 1, onlyB: 1, metrics: {} });
  });
});

describe('formatting', () => {
  it('shows the interval and p, and n.s. for a difference that is not significant', () => {
    expect(formatDeltaWithInterval(0.2, { low: 0.12, high: 0.28, p: 0.0002, significant: true })).toBe('+0.200 [+0.120, +0.280] p=0.0002');
    expect(formatDeltaWithInterval(0.015, { low: -0.03, high: 0.0606, p: 0.4123, significant: false })).toBe('+0.015 [-0.030, +0.061] p=0.412 n.s.');
    expect(formatDeltaWithInterval(-0.05, undefined)).toBe('-0.050');
    expect(formatDeltaWithInterval(null, undefined)).toBe('—');
    expect(formatP(0.05)).toBe('p=0.050');
    expect(formatP(1 / 10001)).toBe('p=0.0001');
    expect(intervalNote(66)).toBe('Δ [95% paired bootstrap interval over 66 queries, 10000 resamples] and p (paired randomization test, 10000 sign flips); n.s.: not significant (the interval contains 0 or p ≥ 0.05).');
  });
});
