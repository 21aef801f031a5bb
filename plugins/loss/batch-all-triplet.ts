/**
 * Loss `batch-all-triplet`: sentence-transformers' BatchAllTripletLoss. Every valid triplet of a
 * labelled batch (a ≠ p same label, n another label) contributes max(d(a,p) − d(a,n) + margin, 0); the sum
 * is divided by the number of triplets with a positive loss.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { definePlugin } from '../../core/plugin.js';
import type { BatchDistance, LossBatch } from '../../core/train/loss.js';
import { BATCH_DISTANCE_OPTION, loadLossHelpers, marginOption, type LossHelpers } from '../common/loss.js';

export interface BatchAllTripletOptions {
  margin: number;
  distance_metric: BatchDistance;
}

const TYPE = 'batch-all-triplet';

/** [a, p, n] mask of the valid triplets: distinct indices, label(a) = label(p) ≠ label(n). */
export function tripletMask({ tf, sameLabel }: LossHelpers, labels: tf.Tensor1D): tf.Tensor3D {
  const notSelf = tf.logicalNot(tf.cast(tf.eye(labels.shape[0]), 'bool'));
  const distinct = tf.logicalAnd(
    tf.logicalAnd(tf.expandDims(notSelf, 2), tf.expandDims(notSelf, 1)),
    tf.expandDims(notSelf, 0),
  );
  const same = sameLabel(labels);
  const valid = tf.logicalAnd(tf.logicalNot(tf.expandDims(same, 1)), tf.expandDims(same, 2));
  return tf.logicalAnd(valid, distinct) as tf.Tensor3D;
}

export default definePlugin({
  stage: 'loss',
  type: TYPE,
  description:
    'Triplet loss averaged over every valid triplet of a labelled batch that still violates the margin (sentence-transformers BatchAllTripletLoss).',
  needs: 'labelled',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      margin: marginOption(5, 'Negatives should be at least this much farther from the anchor than the positive.'),
      distance_metric: BATCH_DISTANCE_OPTION,
    },
  },
  async create(options: BatchAllTripletOptions) {
    const L = await loadLossHelpers();
    const { tf, greaterMask, need, pairwiseDistance } = L;
    return {
      compute(batch: LossBatch): tf.Scalar {
        const emb = need(batch, 'anchor', TYPE);
        const labels = need(batch, 'labels', TYPE);
        return tf.tidy(() => {
          const d = pairwiseDistance(emb, options.distance_metric);
          const all = tf.add(tf.sub(tf.expandDims(d, 2), tf.expandDims(d, 1)), options.margin); // [a, p, n]
          const losses = tf.maximum(tf.mul(tf.cast(tripletMask(L, labels), 'float32'), all), 0);
          const active = tf.sum(greaterMask(losses, 1e-16));
          return tf.div(tf.sum(losses), tf.add(active, 1e-16)) as tf.Scalar;
        });
      },
    };
  },
});
