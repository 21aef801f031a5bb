/**
 * Loss `triplet`: sentence-transformers' TripletLoss on (anchor, positive, negative) triplets:
 * mean of max(d(a,p) − d(a,n) + margin, 0), with d the euclidean, cosine or manhattan distance of each
 * row pair (torch's F.pairwise_distance, eps 1e-6, and 1 − F.cosine_similarity).
 */
import * as tf from '@tensorflow/tfjs';
import type { ExampleShape, JsonSchema, RunContext } from '../../core/types.js';
import { type LossBatch, type LossPlugin, marginOption, need, type RowDistance, rowDistance } from '../../core/train/loss.js';

export interface TripletOptions {
  margin: number;
  distance_metric: RowDistance;
}

export default class TripletLoss implements LossPlugin {
  static readonly type = 'triplet';
  static readonly description =
    'Classic triplet loss on (anchor, positive, negative) triplets (sentence-transformers TripletLoss).';
  static readonly needs: ExampleShape = 'triplets';
  static readonly schema: JsonSchema = {
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
  };

  readonly needs: ExampleShape = TripletLoss.needs;

  constructor(
    private readonly options: TripletOptions,
    private readonly ctx: RunContext,
  ) {}

  compute(batch: LossBatch): tf.Scalar {
    const a = need(batch, 'anchor', TripletLoss.type);
    const p = need(batch, 'positive', TripletLoss.type);
    const n = need(batch, 'negative', TripletLoss.type);
    return tf.tidy(() => {
      const metric = this.options.distance_metric;
      const dp = rowDistance(a, p, metric);
      const dn = rowDistance(a, n, metric);
      return tf.mean(tf.relu(tf.add(tf.sub(dp, dn), this.options.margin))) as tf.Scalar;
    });
  }
}
