/**
 * Evaluation during training, on the test split:
 * - triplet_accuracy: the reference notebook's TripletEvaluator. One (anchor, positive, negative)
 *   triplet per test query: the query, its label's corpus document, and a seeded random other
 *   document; the share of triplets with cos(anchor, positive) > cos(anchor, negative).
 * - the retrieval metrics (core/metrics.ts keys such as mrr@1): the corpus and the test queries
 *   are encoded and ranked by brute-force cosine similarity.
 * The triplets are drawn once, so every evaluation of a run (and of its resume) uses the same ones.
 */
import { averageMetrics, computeQueryMetrics } from '../metrics.js';
import type { MetricName } from '../config/types.js';
import { deriveSeed, Rng } from '../rng.js';
import type { Doc, Query, TextKind } from '../types.js';

export const TRIPLET_ACCURACY = 'triplet_accuracy';

/** What the evaluator needs of a model: embeddings of texts, in order. */
export interface Embedder {
  embed(texts: string[], kind?: TextKind, batchSize?: number): Float32Array[] | Promise<Float32Array[]>;
}

export interface EvaluatorSetup {
  test: readonly Query[];
  corpus: readonly Doc[];
  metrics: readonly MetricName[];
  k: readonly number[];
  seed: number;
  batchSize?: number;
  /** The model's truncate_dim: embeddings are compared on their first truncateDim values, as the model will be used. */
  truncateDim?: number;
}

interface Triplet {
  query: number;
  positive: number;
  negative: number;
}

export class TrainingEvaluator {
  readonly triplets: readonly Triplet[];
  private readonly docIndex: Map<string, number>;

  constructor(private readonly setup: EvaluatorSetup) {
    this.docIndex = new Map(setup.corpus.map((d, i) => [d.id, i]));
    this.triplets = this.drawTriplets();
  }

  /** True when there is nothing to evaluate (no test queries or no corpus). */
  get empty(): boolean {
    return this.setup.test.length === 0 || this.setup.corpus.length === 0;
  }

  private drawTriplets(): Triplet[] {
    const rng = new Rng(deriveSeed(this.setup.seed, 'triplet-evaluator'));
    const n = this.setup.corpus.length;
    const out: Triplet[] = [];
    this.setup.test.forEach((q, qi) => {
      const label = q.label !== undefined && this.docIndex.has(q.label) ? q.label : q.relevant[0];
      const positive = label !== undefined ? this.docIndex.get(label) : undefined;
      if (positive === undefined) return;
      const excluded = new Set([positive, ...q.relevant.map((r) => this.docIndex.get(r)).filter((i): i is number => i !== undefined)]);
      if (excluded.size >= n) return;
      let negative: number;
      do negative = rng.int(n);
      while (excluded.has(negative));
      out.push({ query: qi, positive, negative });
    });
    return out;
  }

  /** Metrics of `model` now: triplet_accuracy and the retrieval metrics; {} when empty. */
  async evaluate(model: Embedder): Promise<Record<string, number>> {
    if (this.empty) return {};
    const { test, corpus, metrics, k, batchSize, truncateDim } = this.setup;
    const cut = (v: Float32Array) => unit(truncateDim !== undefined ? v.slice(0, truncateDim) : v);
    const docs = (await model.embed(corpus.map((d) => d.text), 'document', batchSize)).map(cut);
    const queries = (await model.embed(test.map((q) => q.text), 'query', batchSize)).map(cut);

    const out: Record<string, number> = {};
    if (this.triplets.length > 0) {
      const ok = this.triplets.filter((t) => dot(queries[t.query]!, docs[t.positive]!) > dot(queries[t.query]!, docs[t.negative]!)).length;
      out[TRIPLET_ACCURACY] = ok / this.triplets.length;
    }
    if (metrics.length > 0 && k.length > 0) {
      const top = Math.min(Math.max(...k), corpus.length);
      const perQuery = test.map((q, qi) => {
        const scores = docs.map((d, di) => ({ di, s: dot(queries[qi]!, d) }));
        scores.sort((a, b) => b.s - a.s || a.di - b.di);
        const ranked = scores.slice(0, top).map((x) => corpus[x.di]!.id);
        return computeQueryMetrics(ranked, q.relevant, metrics, k);
      });
      Object.assign(out, averageMetrics(perQuery));
    }
    return out;
  }
}

function unit(v: Float32Array): Float64Array {
  let n = 0;
  for (const x of v) n += x * x;
  const s = 1 / Math.max(Math.sqrt(n), 1e-12);
  return Float64Array.from(v, (x) => x * s);
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
