/**
 * Is a difference real? Paired statistics of the mean difference of a per-query metric between
 * two models (or runs) scored on the same queries — every Δ ftrun shows carries them:
 *
 * - a 95% **paired bootstrap confidence interval**, percentile method: the queries are resampled
 *   with replacement {@link STATS.resamples} times (the same query indices for both models, so the
 *   pairing is kept: it resamples the per-query differences), and the interval is the 2.5th and
 *   97.5th percentiles of the resampled mean differences, interpolated linearly between order
 *   statistics (numpy's default `percentile`, as `scipy.stats.bootstrap(method='percentile')`).
 *   sacrebleu's paired bootstrap resamples the same way (its 1000 resamples, seed 12345).
 * - a two-sided **paired randomization test** p-value (ranx's "Fisher's randomization test"): under
 *   the null hypothesis that the two models are exchangeable on each query, each per-query
 *   difference's sign is flipped at random ({@link STATS.permutations} times) and p is the share of
 *   flipped mean differences at least as far from 0 as the observed one, with the +1 correction
 *   of Phipson & Smyth (2010): p = (hits + 1) / (permutations + 1), so p is never 0.
 *
 * Both are seeded with core/rng.ts ({@link STATS.seed}, independent streams per statistic): the same
 * per-query scores always give the same interval and p-value. A difference is `significant` when
 * its interval does not contain 0 and p < {@link STATS.alpha}; otherwise it is shown as `n.s.`.
 * Reference values computed independently (numpy / scipy) are in test/fixtures/stats/.
 */
import { deriveSeed, mixSeed, mulberry32 } from './rng.js';

/** The settings of every interval and test ftrun reports. */
export const STATS = {
  /** Confidence level of the bootstrap interval. */
  confidence: 0.95,
  /** Bootstrap resamples. */
  resamples: 10000,
  /** Sign-flip permutations of the randomization test. */
  permutations: 10000,
  /** Seed of the resampling (sacrebleu's default seed). */
  seed: 12345,
  /** Significance level: significant needs p below it (and an interval without 0). */
  alpha: 0.05,
} as const;

export interface StatsOptions {
  confidence?: number;
  resamples?: number;
  permutations?: number;
  seed?: number;
  alpha?: number;
}

/** The interval and test of one Δ (metrics.json `delta_ci.<metric>`). */
export interface DeltaInterval {
  /** Lower and upper bound of the bootstrap interval of the mean difference. */
  low: number;
  high: number;
  /** Two-sided paired randomization test p-value. */
  p: number;
  /** The interval excludes 0 and p < alpha. */
  significant: boolean;
}

/** A metric's Δ with its interval: what {@link pairedDeltas} returns per metric. */
export interface PairedDelta extends DeltaInterval {
  /** Mean of b − a over the paired queries. */
  delta: number;
}

const mean = (xs: readonly number[]): number => {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
};

/** The q-quantile (0 ≤ q ≤ 1) of ascending `sorted`, linear between order statistics (numpy's default). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new Error('quantileSorted: no values');
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * The paired bootstrap percentile interval of the mean of `diffs` (the per-query differences
 * b − a): `resamples` resamples of the queries with replacement, seeded.
 */
export function pairedBootstrapInterval(diffs: readonly number[], opts: StatsOptions = {}): { low: number; high: number } {
  return bootstrapIntervals([diffs], opts)[0]!;
}

/**
 * Two-sided paired randomization (sign-flip) test of mean(`diffs`) = 0: the share of `permutations`
 * random sign flips whose |mean| is at least the observed |mean| (a tolerance of 1e-12 counts
 * ties computed in another order as ties), with the +1 correction: (hits + 1) / (permutations + 1).
 */
export function pairedRandomizationTest(diffs: readonly number[], opts: StatsOptions = {}): number {
  return randomizationTests([diffs], opts)[0]!;
}

/** Interval, p-value and significance of the paired differences `diffs` (b − a per query). */
export function deltaInterval(diffs: readonly number[], opts: StatsOptions = {}): PairedDelta {
  return deltaIntervals([diffs], opts)[0]!;
}

/**
 * {@link deltaInterval} of several metrics over the same queries (each column: one metric's
 * differences, all of one length): the same resampled queries and sign flips for every metric (as
 * sacrebleu resamples once for all its metrics), so one call costs one draw per query and resample.
 */
export function deltaIntervals(columns: ReadonlyArray<readonly number[]>, opts: StatsOptions = {}): PairedDelta[] {
  const cis = bootstrapIntervals(columns, opts);
  const ps = randomizationTests(columns, opts);
  const alpha = opts.alpha ?? STATS.alpha;
  return columns.map((d, j) => {
    const { low, high } = cis[j]!;
    const p = ps[j]!;
    return { delta: mean(d), low, high, p, significant: (low > 0 || high < 0) && p < alpha };
  });
}

function checkColumns(columns: ReadonlyArray<readonly number[]>, what: string): number {
  const n = columns[0]?.length ?? 0;
  if (n === 0 || columns.some((c) => c.length !== n)) throw new Error(`${what}: needs paired values, as many in every column`);
  return n;
}

/** The columns as one row-major array, query by query (`K` values a query): the inner loops read it in order. */
function rowMajor(columns: ReadonlyArray<readonly number[]>, n: number): Float64Array {
  const K = columns.length;
  const flat = new Float64Array(n * K);
  for (let j = 0; j < K; j++) {
    const c = columns[j]!;
    for (let i = 0; i < n; i++) flat[i * K + j] = c[i]!;
  }
  return flat;
}

function bootstrapIntervals(columns: ReadonlyArray<readonly number[]>, opts: StatsOptions): Array<{ low: number; high: number }> {
  const n = checkColumns(columns, 'pairedBootstrapInterval');
  const B = opts.resamples ?? STATS.resamples;
  const confidence = opts.confidence ?? STATS.confidence;
  // core/rng.ts's generator of Rng(seed), drawn inline (Rng.int(n) is floor(next() * n))
  const next = mulberry32(mixSeed(deriveSeed(opts.seed ?? STATS.seed, 'paired-bootstrap')));
  const K = columns.length;
  const flat = rowMajor(columns, n);
  const means = columns.map(() => new Float64Array(B));
  const sums = new Float64Array(K);
  for (let b = 0; b < B; b++) {
    sums.fill(0);
    for (let i = 0; i < n; i++) {
      const at = Math.floor(next() * n) * K;
      for (let j = 0; j < K; j++) sums[j] += flat[at + j]!;
    }
    for (let j = 0; j < K; j++) means[j]![b] = sums[j]! / n;
  }
  const tail = (1 - confidence) / 2;
  return means.map((m) => {
    const sorted = Array.from(m.sort());
    return { low: quantileSorted(sorted, tail), high: quantileSorted(sorted, 1 - tail) };
  });
}

function randomizationTests(columns: ReadonlyArray<readonly number[]>, opts: StatsOptions): number[] {
  const n = checkColumns(columns, 'pairedRandomizationTest');
  const P = opts.permutations ?? STATS.permutations;
  const next = mulberry32(mixSeed(deriveSeed(opts.seed ?? STATS.seed, 'paired-randomization')));
  const K = columns.length;
  const flat = rowMajor(columns, n);
  const observed = columns.map((d) => Math.abs(mean(d)));
  const hits = new Array<number>(K).fill(0);
  const sums = new Float64Array(K);
  for (let p = 0; p < P; p++) {
    sums.fill(0);
    for (let i = 0; i < n; i++) {
      const at = i * K;
      if (next() < 0.5) for (let j = 0; j < K; j++) sums[j] -= flat[at + j]!;
      else for (let j = 0; j < K; j++) sums[j] += flat[at + j]!;
    }
    for (let j = 0; j < K; j++) if (Math.abs(sums[j]! / n) + 1e-12 >= observed[j]!) hits[j]++;
  }
  return hits.map((h) => (h + 1) / (P + 1));
}

/** The result of pairing two models' (or runs') per-query metrics by query id. */
export interface PairedComparison {
  /** Queries both sides scored. */
  paired: number;
  /** Queries only `a` or only `b` scored (left out of the statistics). */
  onlyA: number;
  onlyB: number;
  /** b − a per metric that both sides have on every paired query. */
  metrics: Record<string, PairedDelta>;
}

/**
 * b − a per metric over the queries both scored, paired by query id: each metric of `a`'s first
 * paired query that every paired query has on both sides (others are left out). Metrics are empty
 * when no query is paired.
 */
export function pairedDeltas(
  a: ReadonlyMap<string, Record<string, number>>,
  b: ReadonlyMap<string, Record<string, number>>,
  opts: StatsOptions = {},
): PairedComparison {
  const ids = [...a.keys()].filter((id) => b.has(id));
  const onlyA = a.size - ids.length;
  const onlyB = [...b.keys()].filter((id) => !a.has(id)).length;
  const metrics: Record<string, PairedDelta> = {};
  if (ids.length) {
    const first = ids[0]!;
    const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
    // a metric every paired query has on both sides
    const keys = Object.keys(a.get(first)!).filter((k) => ids.every((id) => finite(a.get(id)![k]) && finite(b.get(id)![k])));
    const columns = keys.map((k) => ids.map((id) => b.get(id)![k]! - a.get(id)![k]!));
    const results = keys.length ? deltaIntervals(columns, opts) : [];
    keys.forEach((k, j) => (metrics[k] = results[j]!));
  }
  return { paired: ids.length, onlyA, onlyB, metrics };
}

/** Only the interval fields of each metric (metrics.json `delta_ci`, rounded to 6 decimals). */
export function intervalsOf(metrics: Record<string, PairedDelta>): Record<string, DeltaInterval> {
  const r = (x: number) => Number(x.toFixed(6));
  return Object.fromEntries(Object.entries(metrics).map(([k, m]) => [k, { low: r(m.low), high: r(m.high), p: r(m.p), significant: m.significant }]));
}

/** Per-query metrics of one model from per_query.jsonl rows, by query id (rows of another set or model skipped). */
export function perQueryMetrics(rows: ReadonlyArray<{ model: string; set?: string; query_id: string; metrics: Record<string, number> }>, model: string, set?: string): Map<string, Record<string, number>> {
  return new Map(rows.filter((r) => r.model === model && r.set === set).map((r) => [r.query_id, r.metrics]));
}

/** `p=0.041`; below 0.001 one significant digit, `p=0.0002` (no `<`: it would need escaping in Markdown and HTML). */
export function formatP(p: number): string {
  return `p=${p >= 0.001 ? p.toFixed(3) : String(Number(p.toPrecision(1)))}`;
}

function signed(x: number, digits: number): string {
  const s = Math.abs(x).toFixed(digits);
  return (x < 0 && Number(s) !== 0 ? '-' : '+') + s;
}

/** `[-0.030, +0.061]`. */
export function formatInterval(ci: Pick<DeltaInterval, 'low' | 'high'>, digits = 3): string {
  return `[${signed(ci.low, digits)}, ${signed(ci.high, digits)}]`;
}

/**
 * A Δ with its interval and p-value, as every table shows it: `+0.200 [+0.120, +0.280] p=0.0002`,
 * and for a difference that is not significant `+0.015 [-0.030, +0.061] p=0.412 n.s.`; the bare
 * `+0.015` when there is no interval (an older run, no per-query results).
 */
export function formatDeltaWithInterval(delta: number | null | undefined, ci: DeltaInterval | undefined, digits = 3): string {
  if (delta === null || delta === undefined || Number.isNaN(delta)) return '—';
  const d = signed(delta, digits);
  if (!ci) return d;
  return `${d} ${formatInterval(ci, digits)} ${formatP(ci.p)}${ci.significant ? '' : ' n.s.'}`;
}

/** One sentence saying what the intervals are, for under a table. */
export function intervalNote(queries?: number): string {
  const over = queries !== undefined ? ` over ${queries} ${queries === 1 ? 'query' : 'queries'}` : ' over the queries';
  return `Δ [${Math.round(STATS.confidence * 100)}% paired bootstrap interval${over}, ${STATS.resamples} resamples] and p (paired randomization test, ${STATS.permutations} sign flips); n.s.: not significant (the interval contains 0 or p ≥ ${STATS.alpha}).`;
}
