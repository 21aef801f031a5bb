/**
 * Evaluation of one model: embed the corpus, index it in the store, embed the eval queries, search,
 * and score the ranked lists. The same path serves `base` and `finetuned`.
 */
import { averageMetrics, computeQueryMetrics } from '../metrics.js';
import type { EvaluateConfig } from '../config/types.js';
import { UserError } from '../errors.js';
import type { Doc, Encoder, Query, QueryResult, RunContext, SearchHit, StorePlugin } from '../types.js';

export interface ModelEvaluation {
  summary: Record<string, number>;
  /** `evaluate.dims`: the averaged metrics at each truncated dimension, keyed by the dimension. */
  dims?: Record<string, Record<string, number>>;
  perQuery: QueryResult[];
  timings: { encode_corpus: number; index: number; encode_queries: number; search: number };
}

const seconds = (t0: number) => (performance.now() - t0) / 1000;

/**
 * The first `dim` values of each vector, L2-normalized (sentence-transformers' `truncate_dim` followed by
 * normalization). A zero vector stays zero.
 */
export function truncateNormalize(vectors: readonly Float32Array[], dim: number): Float32Array[] {
  return vectors.map((v) => {
    if (dim > v.length) throw new UserError('E_CONFIG', `evaluate.dims: ${dim} is more than the model's embedding dimension ${v.length}; valid: integers from 1 to ${v.length}`);
    const out = v.slice(0, dim);
    let norm = 0;
    for (const x of out) norm += x * x;
    norm = Math.sqrt(norm);
    if (norm > 0) for (let i = 0; i < dim; i++) out[i] = out[i]! / norm;
    return out;
  });
}

/** Scores the ranked hits of each query. */
function scoreQueries(queries: Query[], hits: SearchHit[][], evaluate: EvaluateConfig): QueryResult[] {
  return queries.map((q, i) => {
    const top = hits[i] ?? [];
    return {
      queryId: q.id,
      text: q.text,
      expected: q.relevant,
      top,
      metrics: computeQueryMetrics(top.map((h) => h.id), q.relevant, evaluate.metrics, evaluate.k),
    };
  });
}

export async function evaluateModel(
  name: string,
  encoder: Encoder,
  store: StorePlugin,
  corpus: Doc[],
  queries: Query[],
  evaluate: EvaluateConfig,
  ctx: RunContext,
): Promise<ModelEvaluation> {
  const encodeWithProgress = async (label: string, texts: string[], kind: 'query' | 'document') => {
    const bar = ctx.progress.start(label, texts.length);
    try {
      return await encoder.encode(texts, {
        kind,
        onProgress: (done) => {
          if (ctx.signal.aborted) throw new Error('interrupted');
          bar.update(done);
        },
      });
    } finally {
      bar.done();
    }
  };

  let t0 = performance.now();
  const docVectors = await encodeWithProgress(`${name}: encode corpus`, corpus.map((d) => d.text), 'document');
  const encodeCorpus = seconds(t0);

  t0 = performance.now();
  await store.index(name, corpus, docVectors);
  const index = seconds(t0);

  t0 = performance.now();
  const queryVectors = await encodeWithProgress(`${name}: encode queries`, queries.map((q) => q.text), 'query');
  const encodeQueries = seconds(t0);

  t0 = performance.now();
  const k = Math.max(...evaluate.k);
  const hits = await store.search(name, queryVectors, k);
  const search = seconds(t0);

  const perQuery = scoreQueries(queries, hits, evaluate);

  // Matryoshka evaluation: the same corpus and queries, each embedding cut to its first d values.
  let dims: Record<string, Record<string, number>> | undefined;
  for (const d of evaluate.dims ?? []) {
    const index = `${name}_dim${d}`;
    await store.index(index, corpus, truncateNormalize(docVectors, d));
    const dimHits = await store.search(index, truncateNormalize(queryVectors, d), k);
    (dims ??= {})[String(d)] = averageMetrics(scoreQueries(queries, dimHits, evaluate).map((r) => r.metrics));
  }
  return {
    summary: averageMetrics(perQuery.map((r) => r.metrics)),
    ...(dims ? { dims } : {}),
    perQuery,
    timings: { encode_corpus: encodeCorpus, index, encode_queries: encodeQueries, search },
  };
}
