/**
 * Loss `multiple-negatives-ranking`: sentence-transformers' MultipleNegativesRankingLoss (InfoNCE,
 * defaults: query_to_doc only, joint partition). Each anchor is scored against every positive of the
 * batch (its own plus the others' as in-batch negatives) and, when the batch has a negative column,
 * every negative too; loss = cross-entropy of scale · similarity with the anchor's own positive as target.
 */
import * as tf from '@tensorflow/tfjs';
import type { ExampleShape, JsonSchema, RunContext } from '../../core/types.js';
import { cosSim, dotScore, type LossBatch, type LossPlugin, need } from '../../core/train/loss.js';

export interface MultipleNegativesRankingOptions {
  scale: number;
  similarity: 'cos' | 'dot';
}

export default class MultipleNegativesRankingLoss implements LossPlugin {
  static readonly type = 'multiple-negatives-ranking';
  static readonly description =
    'InfoNCE over (anchor, positive) pairs with in-batch negatives, plus explicit negatives when given (sentence-transformers MultipleNegativesRankingLoss).';
  static readonly needs: ExampleShape = 'pairs';
  static readonly schema: JsonSchema = {
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
  };

  readonly needs: ExampleShape = MultipleNegativesRankingLoss.needs;

  constructor(
    private readonly options: MultipleNegativesRankingOptions,
    private readonly ctx: RunContext,
  ) {}

  compute(batch: LossBatch): tf.Scalar {
    const anchor = need(batch, 'anchor', MultipleNegativesRankingLoss.type);
    const positive = need(batch, 'positive', MultipleNegativesRankingLoss.type);
    return tf.tidy(() => {
      const b = anchor.shape[0];
      const docs = batch.negative ? tf.concat([positive, batch.negative], 0) : positive;
      const sim = this.options.similarity === 'dot' ? dotScore(anchor, docs) : cosSim(anchor, docs);
      const scores = tf.mul(sim, this.options.scale); // [b, b · (1 + negatives)]
      const own = tf.sum(tf.mul(tf.slice(scores, [0, 0], [b, b]), tf.eye(b)), 1);
      const logZ = tf.logSumExp(scores, 1);
      return tf.neg(tf.mean(tf.sub(own, logZ))) as tf.Scalar;
    });
  }
}
