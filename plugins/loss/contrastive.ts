/**
 * Loss `contrastive`: sentence-transformers' ContrastiveLoss (Hadsell et al.) on labelled pairs:
 * 0.5 · (y · d² + (1 − y) · max(margin − d, 0)²) per pair, averaged (size_average) or summed, with d the
 * cosine distance (default), euclidean or manhattan distance of the two embeddings.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { definePlugin } from '../../core/plugin.js';
import type { LossBatch, RowDistance } from '../../core/train/loss.js';
import { loadLossHelpers } from '../common/loss.js';

export interface ContrastiveOptions {
  margin: number;
  distance_metric: RowDistance;
  size_average: boolean;
}

const TYPE = 'contrastive';

export default definePlugin({
  stage: 'loss',
  type: TYPE,
  description:
    'Contrastive loss on labelled pairs: pulls similar pairs together, pushes dissimilar ones beyond a margin (sentence-transformers ContrastiveLoss).',
  needs: 'labelled-pairs',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      margin: {
        type: 'number',
        minimum: 0,
        default: 0.5,
        description: 'Dissimilar pairs closer than this distance are penalised.',
      },
      distance_metric: {
        type: 'string',
        enum: ['cosine', 'euclidean', 'manhattan'],
        default: 'cosine',
        description: 'Distance of the two embeddings: cosine (1 − cosine similarity, default), euclidean or manhattan.',
      },
      size_average: {
        type: 'boolean',
        default: true,
        description: 'Average over the batch (true) or sum (false).',
      },
    },
  },
  async create(options: ContrastiveOptions) {
    const { tf, need, rowDistance } = await loadLossHelpers();
    return {
      compute(batch: LossBatch): tf.Scalar {
        const a = need(batch, 'anchor', TYPE);
        const other = need(batch, 'positive', TYPE);
        const y = need(batch, 'pairLabels', TYPE);
        return tf.tidy(() => {
          const d = rowDistance(a, other, options.distance_metric);
          const yf = tf.cast(y, 'float32');
          const pull = tf.mul(yf, tf.square(d));
          const push = tf.mul(tf.sub(1, yf), tf.square(tf.relu(tf.sub(options.margin, d))));
          const losses = tf.mul(0.5, tf.add(pull, push));
          return (options.size_average ? tf.mean(losses) : tf.sum(losses)) as tf.Scalar;
        });
      },
    };
  },
});
