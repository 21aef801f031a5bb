/**
 * Loss `triplet`: sentence-transformers' TripletLoss on (anchor, positive, negative) triplets:
 * mean of max(d(a,p) − d(a,n) + margin, 0), with d the euclidean, cosine or manhattan distance of each
 * row pair (torch's F.pairwise_distance, eps 1e-6, and 1 − F.cosine_similarity).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { definePlugin } from '../../core/plugin.js';
import type { LossBatch, RowDistance } from '../../core/train/loss.js';
import { loadLossHelpers, marginOption } from '../common/loss.js';

export interface TripletOptions {
  margin: number;
  distance_metric: RowDistance;
}

const TYPE = 'triplet';

export default definePlugin({
  stage: 'loss',
  type: TYPE,
  description: 'Classic triplet loss on (anchor, positive, negative) triplets (sentence-transformers TripletLoss).',
  needs: 'triplets',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      margin: marginOption(5, 'The negative should be at least this much farther from the anchor than the positive.'),
      distance_metric: {
        type: 'string',
        enum: ['euclidean', 'cosine', 'manhattan'],
        default: 'euclidean',
        description: 'Distance of two embeddings: euclidean (default), cosine (1 − cosine similarity) or manhattan.',
      },
    },
  },
  async create(options: TripletOptions) {
    const { tf, need, rowDistance } = await loadLossHelpers();
    return {
      compute(batch: LossBatch): tf.Scalar {
        const a = need(batch, 'anchor', TYPE);
        const p = need(batch, 'positive', TYPE);
        const n = need(batch, 'negative', TYPE);
        return tf.tidy(() => {
          const metric = options.distance_metric;
          const dp = rowDistance(a, p, metric);
          const dn = rowDistance(a, n, metric);
          return tf.mean(tf.relu(tf.add(tf.sub(dp, dn), options.margin))) as tf.Scalar;
        });
      },
    };
  },
});
