/**
 * What adapter training is given (AdapterTrainRequest), the checks made before any work, and its
 * first phase: every distinct text embedded once by the frozen encoder, through the run's cache
 * (cache.ts). Query side: anchors and test queries; document side: positives, negatives, corpus.
 */
import { join } from 'node:path';
import type { MetricName } from '../../core/config/types.js';
import { UserError } from '../../core/errors.js';
import type { LossPlugin } from '../../core/train/loss.js';
import type { LossColumns } from '../../core/train/columns.js';
import type { Encoder, Logger, ModelSpec, Progress, TrainRequest } from '../../core/types.js';
import { cachedEmbeddings, type CacheStats } from './cache.js';

/** The runner's TrainRequest, with the frozen encoder instead of a model to load. */
export interface AdapterTrainRequest extends Omit<TrainRequest, 'model' | 'loss' | 'metrics'> {
  /** The frozen base encoder (any backend). Not disposed here. */
  encoder: Encoder;
  loss: LossPlugin;
  metrics: MetricName[];
  logger?: Logger;
  progress?: Progress;
  signal?: AbortSignal;
  /** The experiment seed (training.seed wins). */
  seed?: number;
  /** The base model spec, recorded in adapter.json. */
  model?: ModelSpec;
}

/** The loss must be able to read the examples, and one batch must fit. */
export function checkRequest(req: AdapterTrainRequest, batchSize: number): void {
  const needs = req.loss.needs;
  const n = req.examples.items.length;
  if (!req.examples.shapes.includes(needs)) {
    throw new UserError('E_CONFIG', `the loss needs ${needs} examples; the miner provides ${req.examples.shapes.join(', ') || 'none'}`);
  }
  if (n < batchSize) {
    throw new UserError('E_CONFIG', `training.batch_size: ${batchSize} is more than the ${n} training example${n === 1 ? '' : 's'}, so not one batch can be formed; lower training.batch_size or add training data`);
  }
}

export interface EmbeddedTexts {
  query: { vectors: Map<string, Float32Array>; stats: CacheStats };
  document: { vectors: Map<string, Float32Array>; stats: CacheStats };
  seconds: number;
}

/** Base vectors of every text training and evaluation read, from <outDir>/cache (encoding what is missing). */
export async function embedTrainingTexts(req: AdapterTrainRequest, cols: LossColumns): Promise<EmbeddedTexts> {
  const dir = join(req.outDir, 'cache');
  const side = async (kind: 'query' | 'document', texts: string[]) => {
    const bar = req.progress?.start(`adapter: embed ${kind} texts`, new Set(texts).size);
    try {
      return await cachedEmbeddings(dir, req.encoder, kind, texts, bar ? (done) => bar.update(done) : undefined);
    } finally {
      bar?.done();
    }
  };
  const texts = (kind: 'query' | 'document') => cols.columns.filter((c) => c.kind === kind).flatMap((c) => c.texts);
  const query = await side('query', [...texts('query'), ...req.test.map((x) => x.text)]);
  const document = await side('document', [...texts('document'), ...req.corpus.map((x) => x.text)]);
  const seconds = query.stats.seconds + document.stats.seconds;
  req.onEvent({
    type: 'adapter_embed',
    cached: query.stats.cached + document.stats.cached,
    encoded: query.stats.encoded + document.stats.encoded,
    seconds: Math.round(seconds * 1e6) / 1e6,
  });
  return { query, document, seconds };
}
