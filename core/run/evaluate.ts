/**
 * Evaluation of one model: embed the corpus, index it in the store, embed the eval queries, search,
 * and score the ranked lists. The same path serves `base` and `finetuned`.
 */
import { averageMetrics, computeQueryMetrics } from '../metrics.js';
import type { EvaluateConfig } from '../config/types.js';
import type { Doc, Encoder, Query, QueryResult, RunContext, StorePlugin } from '../types.js';

export interface ModelEvaluation {
  summary: Record<string, number>;
  perQuery: QueryResult[];
  timings: { encode_corpus: number; index: number; encode_queries: number; search: number };
}

const seconds = (t0: number) => (performance.now() - t0) / 1000;

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

  const perQuery: QueryResult[] = queries.map((q, i) => {
    const top = hits[i] ?? [];
    return {
      queryId: q.id,
      text: q.text,
      expected: q.relevant,
      top,
      metrics: computeQueryMetrics(top.map((h) => h.id), q.relevant, evaluate.metrics, evaluate.k),
    };
  });
  return {
    summary: averageMetrics(perQuery.map((r) => r.metrics)),
    perQuery,
    timings: { encode_corpus: encodeCorpus, index, encode_queries: encodeQueries, search },
  };
}
