/**
 * What the built-in losses share that loads no tensor library: their option schemas, and the
 * loss helpers (core/train/loss.ts, written in tfjs-core), which each loss imports in its
 * create() — so that `validate`, `plan` and `schema`, which read a loss's schema, never load tfjs.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { LossBatch } from '../../core/train/loss.js';
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

/** Schema of the `scale` option of the losses that score similarities (sentence-transformers' default 20). */
export const SCALE_OPTION: JsonSchema = {
  type: 'number',
  exclusiveMinimum: 0,
  default: 20,
  description: 'Similarities are multiplied by this (1 / temperature); 20 = temperature 0.05.',
};

/** Schema of the `distance_metric` option of the batch triplet losses. */
export const BATCH_DISTANCE_OPTION: JsonSchema = {
  type: 'string',
  enum: ['euclidean', 'squared_euclidean', 'cosine'],
  default: 'euclidean',
  description:
    'Distance between two embeddings: euclidean (sentence-transformers\' eucledian_distance, the default), ' +
    'squared_euclidean (eucledian_distance with squared=True) or cosine (1 − cosine similarity).',
};

/** Every negative column of a batch (negative_1 … negative_n). */
export function negativeColumns(batch: LossBatch): tf.Tensor2D[] {
  return batch.negatives ?? (batch.negative ? [batch.negative] : []);
}

/**
 * The columns of a distillation loss: query, positive, the negatives (at least one) and the teacher
 * values; `teacherWhat` names them in the error for a batch without (e.g. "teacher scores").
 */
export function distillColumns(batch: LossBatch, type: string, teacherWhat: string): { query: tf.Tensor2D; positive: tf.Tensor2D; negatives: tf.Tensor2D[]; teacher: tf.Tensor2D } {
  if (!batch.positive) throw new Error(`loss ${type} needs batch.positive`);
  const negatives = negativeColumns(batch);
  if (negatives.length === 0) throw new Error(`loss ${type} needs batch.negatives`);
  if (!batch.teacher) throw new Error(`loss ${type} needs ${teacherWhat} on every example of the batch (batch.teacher)`);
  return { query: batch.anchor, positive: batch.positive, negatives, teacher: batch.teacher };
}
