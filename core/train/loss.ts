/**
 * The loss contract shared by every trainer, and the distance helpers the loss plugins build on.
 *
 * A loss receives sentence embeddings (after pooling and Normalize, exactly as sentence-transformers
 * feeds them to its losses) and returns a scalar. Every helper here is differentiable with
 * tf.variableGrads and uses only kernels the cpu and wasm backends both have.
 *
 * The helpers mirror sentence-transformers / torch numerics:
 * - pairwiseEuclidean: BatchHardTripletLossDistanceFunction.eucledian_distance (squared norms from a
 *   Gram matrix, clamped at 0; sqrt with the zero-mask trick so the gradient at 0 is 0);
 * - cosSim: util.cos_sim (F.normalize with eps 1e-12, then a matrix product);
 * - rowDistance: F.pairwise_distance (‖a − b + 1e-6‖_p) and 1 − F.cosine_similarity (eps 1e-8);
 * - masks that depend on the embeddings are float 0/1 tensors built with `step` (see greaterMask);
 * - reduceMax/reduceMin: like torch's `max(dim)`/`min(dim)`, the gradient goes to the first arg-extreme
 *   only (tfjs' own max/min send it to every tied element).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ExampleShape, ModelSpec } from '../types.js';

/**
 * The tensor functions the helpers are written in, for loss plugins: `import { tf, cosSim } from
 * 'ftrun/loss'`. This is tfjs-core, the very instance ftrun runs (the @tensorflow/tfjs that ftrun
 * loads re-exports it, and a backend is registered before any loss runs), so a plugin needs no
 * tensor library of its own: a second copy would register its kernels again.
 */
export * as tf from '@tensorflow/tfjs-core';

/**
 * One batch of embeddings, as the loss seam (core/train/seam.ts) hands it to a loss: every text
 * column [batch, dim] after pooling and Normalize, and the per-example values that are not texts.
 * Which fields are set depends on the loss's `needs` and on the examples. A column the loss does not
 * read gets a zero gradient.
 */
export interface LossBatch {
  /** [batch, dim]: the anchors (labelled: the sentences; labelled-pairs: the first sentence). */
  anchor: tf.Tensor2D;
  /** [batch, dim]: positives (pairs, triplets); for labelled-pairs the second sentence of each pair. */
  positive?: tf.Tensor2D;
  /** [batch, dim]: the first negative column (the same tensor as `negatives[0]`). */
  negative?: tf.Tensor2D;
  /** Every negative column in order (negative_1 … negative_n), each [batch, dim]; absent without negatives. */
  negatives?: tf.Tensor2D[];
  /** [batch] int32 class ids (labelled). */
  labels?: tf.Tensor1D;
  /** [batch] 1 = similar pair, 0 = dissimilar (labelled-pairs). */
  pairLabels?: tf.Tensor1D;
  /** [batch] float32 score of each (anchor, positive) pair (examples with `score`). */
  scores?: tf.Tensor1D;
  /** [batch, k] float32 teacher values per example (examples with `teacher`: margins or scores). */
  teacher?: tf.Tensor2D;
  /**
   * A guide model's embeddings of the same texts, column by column ([batch, guide dim], constants
   * without gradient): set for a loss that has a `guide` (GISTEmbed's guided in-batch negatives).
   */
  guide?: GuideColumns;
}

/** The guide model's embeddings of a batch's text columns (LossBatch.guide). */
export interface GuideColumns {
  anchor: tf.Tensor2D;
  positive?: tf.Tensor2D;
  /** The first negative column (the same tensor as `negatives[0]`). */
  negative?: tf.Tensor2D;
  negatives?: tf.Tensor2D[];
}

/** A guide model's embeddings of texts, by how they are embedded: anchors as queries, the rest as documents. */
export interface GuideVectors {
  readonly dim: number;
  readonly query: ReadonlyMap<string, Float32Array>;
  readonly document: ReadonlyMap<string, Float32Array>;
}

/**
 * A loss that reads a guide model's embeddings (LossPlugin.guide). The guide never changes during
 * training, so the runner embeds every text of the training examples with it once, before training
 * (anchors as queries, positives and negatives as documents, with the prompts the model uses),
 * and sets `vectors`; the loss seam then hands each batch's guide embeddings to compute().
 */
export interface LossGuide {
  /** The guide model as the loss option gives it (a model spec; prompts left out are the model's), or undefined for the base model. */
  readonly model?: Partial<ModelSpec>;
  /** The config path of that option, for messages (e.g. `loss.guide`). */
  readonly at: string;
  /** The guide's embeddings of every training text, set by the runner before training. */
  vectors?: GuideVectors;
}

/** What a trainer sees of a loss plugin. */
export interface LossPlugin {
  /** The example shape this loss consumes. */
  readonly needs: ExampleShape;
  /** The loss value; differentiable w.r.t. the embeddings. The caller owns the returned scalar. */
  compute(batch: LossBatch): tf.Scalar;
  /** A guide model whose embeddings of the batch's texts the loss reads (batch.guide). */
  readonly guide?: LossGuide;
}

export type BatchDistance = 'euclidean' | 'squared_euclidean' | 'cosine';
export const BATCH_DISTANCES: readonly BatchDistance[] = ['euclidean', 'squared_euclidean', 'cosine'];

export type RowDistance = 'euclidean' | 'manhattan' | 'cosine';

/** torch's default eps of F.pairwise_distance. */
const PAIRWISE_EPS = 1e-6;

/** Row-wise L2 norm, [n, d] → [n, 1]. */
export function rowNorm(x: tf.Tensor2D): tf.Tensor2D {
  return tf.sqrt(tf.sum(tf.square(x), 1, true)) as tf.Tensor2D;
}

/** F.normalize(x, p=2, dim=1, eps): x / max(‖x‖, eps). */
export function normalizeRows(x: tf.Tensor2D, eps = 1e-12): tf.Tensor2D {
  return tf.div(x, tf.maximum(rowNorm(x), eps));
}

/** util.cos_sim(a, b): [n, m] cosine similarities. */
export function cosSim(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(normalizeRows(a), tf.transpose(normalizeRows(b)));
}

/** util.dot_score(a, b): [n, m] dot products. */
export function dotScore(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(a, tf.transpose(b));
}

/** Pairwise (squared) euclidean distances within one batch, [n, n]. */
export function pairwiseEuclidean(emb: tf.Tensor2D, squared = false): tf.Tensor2D {
  const n = emb.shape[0];
  const dot = tf.matMul(emb, tf.transpose(emb));
  // diag(dot) as a product with the identity, so the gradient reaches the diagonal only.
  const sq = tf.sum(tf.mul(dot, tf.eye(n)), 1);
  let d = tf.add(tf.sub(tf.expandDims(sq, 0), tf.mul(dot, 2)), tf.expandDims(sq, 1)) as tf.Tensor2D;
  // distances[distances < 0] = 0 (gradient 1 where d >= 0, as torch's masked assignment).
  d = tf.maximum(d, 0);
  if (squared) return d;
  const nonZero = tf.step(d); // 1 where d > 0 (d ≥ 0 here), with a zero gradient
  return tf.mul(nonZero, tf.sqrt(tf.add(d, tf.mul(tf.sub(1, nonZero), 1e-16))));
}

/**
 * Float mask of a > b (1/0) with a zero gradient. tfjs has no gradient for comparison and logical ops,
 * so masks that depend on the embeddings are built from `step` (its gradient is zero): for floats with
 * subnormals, a − b > 0 exactly when a > b.
 */
export function greaterMask(a: tf.Tensor, b: tf.Tensor | number): tf.Tensor {
  return tf.step(tf.sub(a, b));
}

/** 1 − cos_sim(emb, emb), [n, n]. */
export function pairwiseCosineDistance(emb: tf.Tensor2D): tf.Tensor2D {
  return tf.sub(1, cosSim(emb, emb));
}

/** The distance matrix of a batch triplet loss (BatchHardTripletLossDistanceFunction). */
export function pairwiseDistance(emb: tf.Tensor2D, metric: BatchDistance): tf.Tensor2D {
  switch (metric) {
    case 'euclidean':
      return pairwiseEuclidean(emb, false);
    case 'squared_euclidean':
      return pairwiseEuclidean(emb, true);
    case 'cosine':
      return pairwiseCosineDistance(emb);
  }
}

/** F.cosine_similarity(a, b) row by row, [n]: each row divided by its norm (clamped at eps), then dotted. */
export function rowCosine(a: tf.Tensor2D, b: tf.Tensor2D, eps = 1e-8): tf.Tensor1D {
  return tf.sum(tf.mul(tf.div(a, tf.maximum(rowNorm(a), eps)), tf.div(b, tf.maximum(rowNorm(b), eps))), 1) as tf.Tensor1D;
}

/** Row-by-row distance of two aligned batches, [n] (TripletDistanceMetric / SiameseDistanceMetric). */
export function rowDistance(a: tf.Tensor2D, b: tf.Tensor2D, metric: RowDistance): tf.Tensor1D {
  switch (metric) {
    case 'euclidean':
      return tf.sqrt(tf.sum(tf.square(tf.add(tf.sub(a, b), PAIRWISE_EPS)), 1)) as tf.Tensor1D;
    case 'manhattan':
      return tf.sum(tf.abs(tf.add(tf.sub(a, b), PAIRWISE_EPS)), 1);
    case 'cosine':
      return tf.sub(1, rowCosine(a, b));
  }
}

function lastAxisExtreme(kind: 'max' | 'min'): (x: tf.Tensor) => tf.Tensor {
  return tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    save([x]);
    const axis = x.rank - 1;
    return {
      value: kind === 'max' ? tf.max(x, axis, true) : tf.min(x, axis, true),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const xs = saved[0]!;
        const idx = kind === 'max' ? tf.argMax(xs, axis) : tf.argMin(xs, axis);
        const hot = tf.cast(tf.oneHot(idx, xs.shape[axis]!), 'float32');
        return tf.mul(hot, dy);
      },
    };
  }) as (x: tf.Tensor) => tf.Tensor;
}

const maxLast = lastAxisExtreme('max');
const minLast = lastAxisExtreme('min');

/** max over the last axis, keeping it (size 1); gradient to the first maximum only, as torch. */
export function reduceMax<T extends tf.Tensor>(x: T): T {
  return maxLast(x) as T;
}

/** min over the last axis, keeping it (size 1); gradient to the first minimum only, as torch. */
export function reduceMin<T extends tf.Tensor>(x: T): T {
  return minLast(x) as T;
}

/** [n, n] boolean: labels[i] == labels[j]. */
export function sameLabel(labels: tf.Tensor1D): tf.Tensor2D {
  return tf.equal(tf.expandDims(labels, 0), tf.expandDims(labels, 1)) as tf.Tensor2D;
}

/** Throws a clear error when a batch lacks a field the loss needs. */
export function need<K extends keyof LossBatch>(batch: LossBatch, key: K, loss: string): NonNullable<LossBatch[K]> {
  const v = batch[key];
  if (v === undefined || v === null) throw new Error(`loss ${loss} needs batch.${String(key)}`);
  return v as NonNullable<LossBatch[K]>;
}

/**
 * TF-addons' / sentence-transformers' _masked_minimum over the last axis: min of (data − rowMax)·mask,
 * plus rowMax (so unmasked entries act as rowMax). `rowMax` may be passed precomputed (broadcastable).
 */
export function maskedMinimum(data: tf.Tensor, mask: tf.Tensor, rowMax = reduceMax(data)): tf.Tensor {
  return tf.add(reduceMin(tf.mul(tf.sub(data, rowMax), mask)), rowMax);
}

/** _masked_maximum over the last axis: max of (data − rowMin)·mask, plus rowMin. */
export function maskedMaximum(data: tf.Tensor, mask: tf.Tensor, rowMin = reduceMin(data)): tf.Tensor {
  return tf.add(reduceMax(tf.mul(tf.sub(data, rowMin), mask)), rowMin);
}
