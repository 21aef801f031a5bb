/**
 * Loss `cosine-similarity`: sentence-transformers' CosineSimilarityLoss on scored pairs: the mean
 * squared error between cos(sentence 1, sentence 2) and the pair's `score`.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { definePlugin } from '../../core/plugin.js';
import type { LossBatch } from '../../core/train/loss.js';
import { loadLossHelpers } from '../common/loss.js';
import { needScores } from './cosent.js';

const TYPE = 'cosine-similarity';

export default definePlugin({
  stage: 'loss',
  type: TYPE,
  description:
    'Mean squared error between the cosine similarity of a pair and its score (sentence-transformers CosineSimilarityLoss).',
  needs: 'pairs',
  reads: ['score'],
  schema: { type: 'object', additionalProperties: false, properties: {} },
  async create() {
    const { tf, need, rowCosine } = await loadLossHelpers();
    return {
      compute(batch: LossBatch): tf.Scalar {
        const a = need(batch, 'anchor', TYPE);
        const b = need(batch, 'positive', TYPE);
        const labels = needScores(batch, TYPE);
        // torch.cosine_similarity (eps 1e-8), then nn.MSELoss (mean).
        return tf.tidy(() => tf.mean(tf.square(tf.sub(rowCosine(a, b), tf.cast(labels, 'float32')))) as tf.Scalar);
      },
    };
  },
});
