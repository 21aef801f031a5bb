/**
 * What the built-in losses share that loads no tensor library: their option schemas, and the
 * loss helpers (core/train/loss.ts, written in tfjs-core), which each loss imports in its
 * create() — so that `validate`, `plan` and `schema`, which read a loss's schema, never load tfjs.
 */
import type { JsonSchema } from '../../core/types.js';

/** The loss helpers and `tf` (core/train/loss.ts). */
export type LossHelpers = typeof import('../../core/train/loss.js');

/** Loads the loss helpers (and with them tfjs-core): called by a loss's create(). */
export function loadLossHelpers(): Promise<LossHelpers> {
  return import('../../core/train/loss.js');
}

/** Schema of the `margin` option of the triplet losses (sentence-transformers' default 5). */
export function marginOption(def: number, what: string): JsonSchema {
  return { type: 'number', minimum: 0, default: def, description: what };
}

/** Schema of the `distance_metric` option of the batch triplet losses. */
export const BATCH_DISTANCE_OPTION: JsonSchema = {
  type: 'string',
  enum: ['euclidean', 'squared_euclidean', 'cosine'],
  default: 'euclidean',
  description:
    'Distance between two embeddings: euclidean (sentence-transformers\' eucledian_distance, the default), ' +
    'squared_euclidean (eucledian_distance with squared=True) or cosine (1 − cosine similarity).',
};
