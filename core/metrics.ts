/**
 * Retrieval metrics per query and their averages, with keys `<metric>@<k>` (e.g. `mrr@3`).
 *
 * Definitions follow sentence-transformers' InformationRetrievalEvaluator (binary relevance):
 * - recall@k    share of the relevant documents found in the top k
 * - mrr@k       1 / rank of the first relevant document within the top k, else 0
 * - ndcg@k      DCG with a log2(rank + 1) discount over the ideal DCG of min(k, |relevant|) hits
 * - map@k       sum of precision@i at each relevant hit i ≤ k, divided by min(k, |relevant|)
 * - precision@k hits in the top k / k
 * - hit@k       1 when any relevant document is in the top k (sentence-transformers' accuracy@k)
 * A document id repeated in the ranking counts once; a query without relevant documents scores 0.
 */
import { METRIC_NAMES, type MetricName } from './config/types.js';

/** The key of one metric at one cut-off. */
export function metricKey(metric: MetricName, k: number): string {
  return `${metric}@${k}`;
}

/** Splits `mrr@3` into its parts; undefined when it is not a metric key. */
export function parseMetricKey(key: string): { metric: MetricName; k: number } | undefined {
  const m = /^([a-z]+)@([1-9][0-9]*)$/.exec(key);
  if (!m || !(METRIC_NAMES as readonly string[]).includes(m[1]!)) return undefined;
  return { metric: m[1] as MetricName, k: Number(m[2]) };
}

/** Sort order of keys: METRIC_NAMES order, then k ascending; unknown keys last, by name. */
export function compareMetricKeys(a: string, b: string): number {
  const pa = parseMetricKey(a);
  const pb = parseMetricKey(b);
  if (pa && pb) {
    const d = METRIC_NAMES.indexOf(pa.metric) - METRIC_NAMES.indexOf(pb.metric);
    return d !== 0 ? d : pa.k - pb.k;
  }
  if (pa) return -1;
  if (pb) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** All keys for these metrics and cut-offs, deduplicated, in the stable order. */
export function metricKeys(metrics: readonly MetricName[], ks: readonly number[]): string[] {
  const keys = new Set<string>();
  for (const m of metrics) for (const k of ks) keys.add(metricKey(m, k));
  return [...keys].sort(compareMetricKeys);
}

function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new Error(`metric cut-off k must be a positive integer, got ${k}`);
}

/** Metrics of one query: `rankedIds` best first, `relevant` the ids that answer it. */
export function computeQueryMetrics(
  rankedIds: readonly string[],
  relevant: readonly string[],
  metrics: readonly MetricName[],
  ks: readonly number[],
): Record<string, number> {
  ks.forEach(checkK);
  const rel = new Set(relevant);
  const maxK = Math.max(0, ...ks);
  // hitAt[i] = true when rank i+1 holds a relevant document seen for the first time
  const seen = new Set<string>();
  const hitAt: boolean[] = [];
  for (let i = 0; i < Math.min(maxK, rankedIds.length); i++) {
    const id = rankedIds[i]!;
    hitAt.push(rel.has(id) && !seen.has(id));
    seen.add(id);
  }

  const out: Record<string, number> = {};
  for (const key of metricKeys(metrics, ks)) {
    const { metric, k } = parseMetricKey(key)!;
    out[key] = rel.size === 0 ? 0 : atK(metric, k, hitAt, rel.size);
  }
  return out;
}

function atK(metric: MetricName, k: number, hitAt: readonly boolean[], nRel: number): number {
  const n = Math.min(k, hitAt.length);
  let hits = 0;
  let firstRank = 0;
  let dcg = 0;
  let sumPrecision = 0;
  for (let i = 0; i < n; i++) {
    if (!hitAt[i]) continue;
    hits++;
    if (firstRank === 0) firstRank = i + 1;
    dcg += 1 / Math.log2(i + 2);
    sumPrecision += hits / (i + 1);
  }
  switch (metric) {
    case 'recall':
      return hits / nRel;
    case 'mrr':
      return firstRank === 0 ? 0 : 1 / firstRank;
    case 'ndcg': {
      let idcg = 0;
      for (let i = 0; i < Math.min(k, nRel); i++) idcg += 1 / Math.log2(i + 2);
      return dcg / idcg;
    }
    case 'map':
      return sumPrecision / Math.min(k, nRel);
    case 'precision':
      return hits / k;
    case 'hit':
      return hits > 0 ? 1 : 0;
  }
}

/** Mean of each key over the queries that have it, keys in the stable order. */
export function averageMetrics(perQuery: ReadonlyArray<Record<string, number>>): Record<string, number> {
  const sums = new Map<string, { sum: number; n: number }>();
  for (const row of perQuery) {
    for (const [key, v] of Object.entries(row)) {
      const s = sums.get(key) ?? { sum: 0, n: 0 };
      s.sum += v;
      s.n++;
      sums.set(key, s);
    }
  }
  const out: Record<string, number> = {};
  for (const key of [...sums.keys()].sort(compareMetricKeys)) {
    const s = sums.get(key)!;
    out[key] = s.sum / s.n;
  }
  return out;
}

/**
 * Per-category means: metric `key` averaged over the queries of each expected label (a query's
 * first expected document), the per-category recall of report.html and `ftrun compare`.
 */
export function meanByLabel(rows: ReadonlyArray<{ expected: readonly string[]; metrics: Record<string, number> }>, key: string): Map<string, number> {
  const acc = new Map<string, { sum: number; n: number }>();
  for (const r of rows) {
    const label = r.expected[0] ?? '(none)';
    const a = acc.get(label) ?? { sum: 0, n: 0 };
    a.sum += r.metrics[key] ?? 0;
    a.n++;
    acc.set(label, a);
  }
  return new Map([...acc].map(([l, a]) => [l, a.sum / a.n]));
}
