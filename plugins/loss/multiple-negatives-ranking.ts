/**
 * Loss `multiple-negatives-ranking`: sentence-transformers' MultipleNegativesRankingLoss (InfoNCE,
 * defaults: query_to_doc only, joint partition). Each anchor is scored against every positive of the
 * batch (its own plus the others' as in-batch negatives) and, when the batch has negative columns,
 * every negative of every column too; loss = cross-entropy of scale · similarity with the anchor's own
 * positive as target.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { definePlugin } from '../../core/plugin.js';
import type { LossBatch } from '../../core/train/loss.js';
import { loadLossHelpers } from '../common/loss.js';

export interface MultipleNegativesRankingOptions {
  scale: number;
  similarity: 'cos' | 'dot';
}

const TYPE = 'multiple-negatives-ranking';

export default definePlugin({
  stage: 'loss',
  type: TYPE,
  description:
    'InfoNCE over (anchor, positive) pairs with in-batch negatives, plus explicit negatives when given (sentence-transformers MultipleNegativesRankingLoss).',
  needs: 'pairs',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      scale: {
        type: 'number',
        exclusiveMinimum: 0,
        default: 20,
        description: 'Similarities are multiplied by this (1 / temperature); 20 = temperature 0.05.',
      },
      similarity: {
        type: 'string',
        enum: ['cos', 'dot'],
        default: 'cos',
        description: 'Similarity of two embeddings: cos (cosine, default) or dot (dot product; then use scale 1).',
      },
    },
  },
  async create(options: MultipleNegativesRankingOptions) {
    const { tf, cosSim, dotScore, need } = await loadLossHelpers();
    return {
      compute(batch: LossBatch): tf.Scalar {
        const anchor = need(batch, 'anchor', TYPE);
        const positive = need(batch, 'positive', TYPE);
        // Every negative column (negative_1 … negative_n); `negative` alone is the first one.
        const negatives = batch.negatives ?? (batch.negative ? [batch.negative] : []);
        return tf.tidy(() => {
          const b = anchor.shape[0];
          const docs = negatives.length > 0 ? tf.concat([positive, ...negatives], 0) : positive;
          const sim = options.similarity === 'dot' ? dotScore(anchor, docs) : cosSim(anchor, docs);
          const scores = tf.mul(sim, options.scale); // [b, b · (1 + negative columns)]
          const own = tf.sum(tf.mul(tf.slice(scores, [0, 0], [b, b]), tf.eye(b)), 1);
          const logZ = tf.logSumExp(scores, 1);
          return tf.neg(tf.mean(tf.sub(own, logZ))) as tf.Scalar;
        });
      },
    };
  },
});
