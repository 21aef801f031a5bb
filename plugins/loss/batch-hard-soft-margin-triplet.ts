/**
 * Loss `batch-hard-soft-margin-triplet`: sentence-transformers' BatchHardSoftMarginTripletLoss. Like
 * batch-hard-triplet (hardest positive and hardest negative per anchor) but with a soft margin instead of
 * a fixed one: loss = mean of log(1 + exp(d(a,p) − d(a,n))).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { definePlugin } from '../../core/plugin.js';
import type { BatchDistance, LossBatch } from '../../core/train/loss.js';
import { BATCH_DISTANCE_OPTION, loadLossHelpers } from '../common/loss.js';
import { hardestDistances } from './batch-hard-triplet.js';

export interface BatchHardSoftMarginTripletOptions {
  distance_metric: BatchDistance;
}

const TYPE = 'batch-hard-soft-margin-triplet';

export default definePlugin({
  stage: 'loss',
  type: TYPE,
  description:
    'Batch-hard triplet loss with a soft margin, log(1 + exp(d(a,p) − d(a,n))) (sentence-transformers BatchHardSoftMarginTripletLoss).',
  needs: 'labelled',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      distance_metric: BATCH_DISTANCE_OPTION,
    },
  },
  async create(options: BatchHardSoftMarginTripletOptions) {
    const L = await loadLossHelpers();
    const { tf, need } = L;
    return {
      compute(batch: LossBatch): tf.Scalar {
        const emb = need(batch, 'anchor', TYPE);
        const labels = need(batch, 'labels', TYPE);
        return tf.tidy(() => {
          const { pos, neg } = hardestDistances(L, emb, labels, options.distance_metric);
          return tf.mean(tf.log1p(tf.exp(tf.sub(pos, neg)))) as tf.Scalar;
        });
      },
    };
  },
});
