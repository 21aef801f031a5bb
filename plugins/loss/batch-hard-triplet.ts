/**
 * Loss `batch-hard-triplet`: sentence-transformers' BatchHardTripletLoss. For each sentence of a
 * labelled batch (the anchor), the hardest positive (farthest same-label sentence) and the hardest
 * negative (closest other-label sentence) form one triplet; loss = mean of max(d(a,p) − d(a,n) + margin, 0).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { definePlugin } from '../../core/plugin.js';
import type { BatchDistance, LossBatch } from '../../core/train/loss.js';
import { BATCH_DISTANCE_OPTION, loadLossHelpers, marginOption, type LossHelpers } from '../common/loss.js';

export interface BatchHardTripletOptions {
  margin: number;
  distance_metric: BatchDistance;
}

const TYPE = 'batch-hard-triplet';

/** Hardest positive and hardest negative distance per anchor, both [batch, 1] (shared with the soft-margin loss). */
export function hardestDistances(
  { tf, pairwiseDistance, reduceMax, reduceMin, sameLabel }: LossHelpers,
  emb: tf.Tensor2D,
  labels: tf.Tensor1D,
  metric: BatchDistance,
): { pos: tf.Tensor2D; neg: tf.Tensor2D } {
  const d = pairwiseDistance(emb, metric);
  const same = sameLabel(labels);
  const notSelf = tf.logicalNot(tf.cast(tf.eye(emb.shape[0]), 'bool'));
  const maskPos = tf.cast(tf.logicalAnd(same, notSelf), 'float32');
  const pos = reduceMax(tf.mul(maskPos, d) as tf.Tensor2D);
  // Same-label entries are pushed beyond every negative by adding the row maximum.
  const maskNeg = tf.cast(tf.logicalNot(same), 'float32');
  const neg = reduceMin(tf.add(d, tf.mul(reduceMax(d), tf.sub(1, maskNeg))) as tf.Tensor2D);
  return { pos, neg };
}

export default definePlugin({
  stage: 'loss',
  type: TYPE,
  description:
    'Triplet loss with the hardest positive and hardest negative of each anchor in a labelled batch (sentence-transformers BatchHardTripletLoss).',
  needs: 'labelled',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      margin: marginOption(5, 'Negatives should be at least this much farther from the anchor than the positive.'),
      distance_metric: BATCH_DISTANCE_OPTION,
    },
  },
  async create(options: BatchHardTripletOptions) {
    const L = await loadLossHelpers();
    const { tf, need } = L;
    return {
      compute(batch: LossBatch): tf.Scalar {
        const emb = need(batch, 'anchor', TYPE);
        const labels = need(batch, 'labels', TYPE);
        return tf.tidy(() => {
          const { pos, neg } = hardestDistances(L, emb, labels, options.distance_metric);
          return tf.mean(tf.maximum(tf.add(tf.sub(pos, neg), options.margin), 0)) as tf.Scalar;
        });
      },
    };
  },
});
