import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { METRIC_NAMES } from '../core/config/types.js';
import { createRng } from '../core/rng.js';
import { averageMetrics, computeQueryMetrics, metricKeys, parseMetricKey } from '../core/metrics.js';
import { describeShared, sharedPath } from './helpers/shared.js';

const close = (a: number, b: number, tol = 1e-12) => expect(Math.abs(a - b)).toBeLessThanOrEqual(tol);

describe('computeQueryMetrics: hand-computed cases', () => {
  // relevant a, c; ranking: x a y c z  → hits at ranks 2 and 4
  const ranked = ['x', 'a', 'y', 'c', 'z'];
  const rel = ['a', 'c'];
  const m = computeQueryMetrics(ranked, rel, [...METRIC_NAMES], [1, 3, 5]);

  it('mrr, recall, hit, precision', () => {
    expect([m['mrr@1'], m['mrr@3'], m['mrr@5']]).toEqual([0, 0.5, 0.5]);
    expect([m['recall@1'], m['recall@3'], m['recall@5']]).toEqual([0, 0.5, 1]);
    expect([m['hit@1'], m['hit@3'], m['hit@5']]).toEqual([0, 1, 1]);
    close(m['precision@1']!, 0);
    close(m['precision@3']!, 1 / 3);
    close(m['precision@5']!, 2 / 5);
  });

  it('ndcg: log2 discount, ideal over min(k, |relevant|)', () => {
    close(m['ndcg@1']!, 0);
    // dcg@3 = 1/log2(3); idcg@3 = 1 + 1/log2(3)
    close(m['ndcg@3']!, 1 / Math.log2(3) / (1 + 1 / Math.log2(3)));
    // dcg@5 = 1/log2(3) + 1/log2(5)
    close(m['ndcg@5']!, (1 / Math.log2(3) + 1 / Math.log2(5)) / (1 + 1 / Math.log2(3)));
  });

  it('map: precisions at hits over min(k, |relevant|)', () => {
    close(m['map@1']!, 0);
    close(m['map@3']!, 0.5 / 2); // hit at 2: precision 1/2
    close(m['map@5']!, (1 / 2 + 2 / 4) / 2);
    // k smaller than |relevant|: divide by k
    const m2 = computeQueryMetrics(['a', 'b', 'c'], ['a', 'b', 'c', 'd'], ['map', 'ndcg', 'recall'], [2]);
    expect(m2['map@2']).toBe(1);
    expect(m2['ndcg@2']).toBe(1);
    expect(m2['recall@2']).toBe(0.5);
  });

  it('counts a repeated id once and stops at the ranking end', () => {
    const r = computeQueryMetrics(['a', 'a', 'b'], ['a', 'b'], ['recall', 'precision', 'mrr'], [2, 10]);
    expect(r).toEqual({ 'mrr@2': 1, 'mrr@10': 1, 'recall@2': 0.5, 'recall@10': 1, 'precision@2': 0.5, 'precision@10': 0.2 });
  });

  it('scores 0 for a query without relevant documents', () => {
    expect(computeQueryMetrics(['a'], [], ['ndcg', 'map'], [1])).toEqual({ 'ndcg@1': 0, 'map@1': 0 });
  });

  it('keys come in METRIC_NAMES order, then k ascending', () => {
    const r = computeQueryMetrics(['a'], ['a'], ['recall', 'mrr'], [5, 1]);
    expect(Object.keys(r)).toEqual(['mrr@1', 'mrr@5', 'recall@1', 'recall@5']);
    expect(metricKeys(['hit', 'ndcg'], [3, 1, 3])).toEqual(['ndcg@1', 'ndcg@3', 'hit@1', 'hit@3']);
  });

  it('rejects a bad cut-off', () => {
    expect(() => computeQueryMetrics(['a'], ['a'], ['mrr'], [0])).toThrow('positive integer');
  });

  it('parses keys', () => {
    expect(parseMetricKey('ndcg@10')).toEqual({ metric: 'ndcg', k: 10 });
    expect(parseMetricKey('accuracy@1')).toBeUndefined();
    expect(parseMetricKey('mrr@0')).toBeUndefined();
  });
});

/** A literal transcription of sentence-transformers' InformationRetrievalEvaluator.compute_metrics for one query. */
function stReference(topHits: string[], relevantDocs: Set<string>, k: number): Record<string, number> {
  const top = topHits.slice(0, k);
  const numCorrect = top.filter((h) => relevantDocs.has(h)).length;
  let mrr = 0;
  for (let rank = 0; rank < top.length; rank++) if (relevantDocs.has(top[rank]!)) { mrr = 1 / (rank + 1); break; }
  const dcg = (rels: number[]) => rels.slice(0, k).reduce((s, r, i) => s + r / Math.log2(i + 2), 0);
  const ndcg = dcg(top.map((h) => (relevantDocs.has(h) ? 1 : 0))) / dcg([...relevantDocs].map(() => 1));
  let nc = 0;
  let sumPrecisions = 0;
  top.forEach((h, rank) => {
    if (relevantDocs.has(h)) { nc++; sumPrecisions += nc / (rank + 1); }
  });
  return {
    [`mrr@${k}`]: mrr,
    [`recall@${k}`]: numCorrect / relevantDocs.size,
    [`ndcg@${k}`]: ndcg,
    [`map@${k}`]: sumPrecisions / Math.min(k, relevantDocs.size),
    [`precision@${k}`]: numCorrect / k,
    [`hit@${k}`]: numCorrect > 0 ? 1 : 0,
  };
}

describe('computeQueryMetrics vs a transcription of sentence-transformers', () => {
  it('agrees on 200 random rankings with 1-4 relevant documents', () => {
    const rng = createRng(7);
    const corpus = Array.from({ length: 12 }, (_, i) => `d${i}`);
    for (let t = 0; t < 200; t++) {
      const ranked = rng.shuffle(corpus);
      const relevant = rng.sample(corpus, 1 + rng.int(4));
      const ks = [1, 2, 3, 5, 10];
      const got = computeQueryMetrics(ranked, relevant, [...METRIC_NAMES], ks);
      for (const k of ks) {
        for (const [key, v] of Object.entries(stReference(ranked, new Set(relevant), k))) close(got[key]!, v, 1e-12);
      }
    }
  });
});

describe('averageMetrics', () => {
  it('means per key in the stable order', () => {
    const avg = averageMetrics([
      { 'recall@3': 1, 'mrr@1': 0 },
      { 'recall@3': 0, 'mrr@1': 1, other: 4 },
    ]);
    expect(Object.keys(avg)).toEqual(['mrr@1', 'recall@3', 'other']);
    expect(avg).toEqual({ 'mrr@1': 0.5, 'recall@3': 0.5, other: 4 });
    expect(averageMetrics([])).toEqual({});
  });
});

describeShared('metrics vs sentence-transformers fixture (retrieval.json)', () => {
  interface Row {
    expected: string[];
    top5: string[];
    [key: string]: unknown;
  }
  let fx: { metrics: Record<string, number>; per_query: Row[] };
  // read in beforeAll: a skipped describe still runs its body
  beforeAll(() => {
    fx = JSON.parse(readFileSync(sharedPath('fixtures', 'sentence-transformers', 'retrieval.json'), 'utf8'));
  });

  it('reproduces every per-query value and the six averages within 1e-9', () => {
    expect(fx.per_query).toHaveLength(66);
    const per = fx.per_query.map((row) => {
      const m = computeQueryMetrics(row.top5, row.expected, ['mrr', 'recall'], [1, 3, 5]);
      for (const [key, v] of Object.entries(m)) close(v, row[key] as number, 1e-9);
      return m;
    });
    const avg = averageMetrics(per);
    expect(Object.keys(avg)).toEqual(['mrr@1', 'mrr@3', 'mrr@5', 'recall@1', 'recall@3', 'recall@5']);
    for (const [key, v] of Object.entries(fx.metrics)) close(avg[key]!, v, 1e-9);
  });

  it('with one relevant label per query, mrr@1 = recall@1 = hit@1 = ndcg@1 = map@1', () => {
    for (const row of fx.per_query) {
      const m = computeQueryMetrics(row.top5, row.expected, [...METRIC_NAMES], [1]);
      expect(new Set(Object.values(m)).size).toBe(1);
    }
  });
});
