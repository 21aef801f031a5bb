/**
 * Loss `batch-semi-hard-triplet`: sentence-transformers' BatchSemiHardTripletLoss (the TF-addons
 * triplet_semihard_loss). For every valid (anchor, positive) pair of a batch of labelled sentences, the
 * negative is the closest one farther than the positive (semi-hard); if none is farther, the farthest
 * negative. Loss = mean over positive pairs of max(d(a,p) − d(a,n) + margin, 0).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { definePlugin } from '../../core/plugin.js';
import type { BatchDistance, LossBatch } from '../../core/train/loss.js';
import { BATCH_DISTANCE_OPTION, loadLossHelpers, marginOption } from '../common/loss.js';

export interface BatchSemiHardTripletOptions {
  margin: number;
  distance_metric: BatchDistance;
}

const TYPE = 'batch-semi-hard-triplet';

export default definePlugin({
  stage: 'loss',
  type: TYPE,
  description:
    'Triplet loss over every (anchor, positive) pair of a labelled batch with semi-hard in-batch negatives (sentence-transformers BatchSemiHardTripletLoss).',
  needs: 'labelled',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      margin: marginOption(5, 'Negatives should be at least this much farther from the anchor than the positive.'),
      distance_metric: BATCH_DISTANCE_OPTION,
    },
  },
  async create(options: BatchSemiHardTripletOptions) {
    const { tf, greaterMask, maskedMaximum, maskedMinimum, need, pairwiseDistance, reduceMax, sameLabel } = await loadLossHelpers();
    return {
      compute(batch: LossBatch): tf.Scalar {
        const emb = need(batch, 'anchor', TYPE);
        const labels = need(batch, 'labels', TYPE);
        return tf.tidy(() => {
          const b = emb.shape[0];
          const d = pairwiseDistance(emb, options.distance_metric); // [a, n]
          const adj = tf.cast(sameLabel(labels), 'float32');
          const adjNot = tf.sub(1, adj);
          // Indexed [a, p, n]: 1 where n is a negative of a farther from a than p is.
          const dAn = tf.expandDims(d, 1);
          const farther = tf.mul(tf.expandDims(adjNot, 1), greaterMask(dAn, tf.expandDims(d, 2)));
          const hasFarther = tf.step(tf.sum(farther, 2)); // [a, p]: 1 if any
          const outside = tf.squeeze(maskedMinimum(dAn, farther, tf.expandDims(reduceMax(d), 2)), [2]); // [a, p]
          const inside = tf.tile(maskedMaximum(d, adjNot), [1, b]); // [a, p]
          // torch.where(hasFarther, outside, inside), written with the 0/1 mask.
          const semiHard = tf.add(tf.mul(hasFarther, outside), tf.mul(tf.sub(1, hasFarther), inside));
          const lossMat = tf.add(tf.sub(d, semiHard), options.margin);
          const maskPos = tf.sub(adj, tf.eye(b));
          // sentence-transformers divides by zero (NaN) when the batch has no positive pair; we return 0.
          const numPos = tf.maximum(tf.sum(maskPos), 1);
          return tf.div(tf.sum(tf.maximum(tf.mul(lossMat, maskPos), 0)), numPos) as tf.Scalar;
        });
      },
    };
  },
});
