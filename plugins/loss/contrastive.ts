/**
 * Loss `contrastive`: sentence-transformers' ContrastiveLoss (Hadsell et al.) on labelled pairs:
 * 0.5 · (y · d² + (1 − y) · max(margin − d, 0)²) per pair, averaged (size_average) or summed, with d the
 * cosine distance (default), euclidean or manhattan distance of the two embeddings.
 */
import * as tf from '@tensorflow/tfjs';
import type { ExampleShape, JsonSchema, RunContext } from '../../core/types.js';
import { type LossBatch, type LossPlugin, need, type RowDistance, rowDistance } from '../../core/train/loss.js';

export interface ContrastiveOptions {
  margin: number;
  distance_metric: RowDistance;
  size_average: boolean;
}

export default class ContrastiveLoss implements LossPlugin {
  static readonly type = 'contrastive';
  static readonly description =
    'Contrastive loss on labelled pairs: pulls similar pairs together, pushes dissimilar ones beyond a margin (sentence-transformers ContrastiveLoss).';
  static readonly needs: ExampleShape = 'labelled-pairs';
  static readonly schema: JsonSchema = {
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
  };

  readonly needs: ExampleShape = ContrastiveLoss.needs;

  constructor(
    private readonly options: ContrastiveOptions,
    private readonly ctx: RunContext,
  ) {}

  compute(batch: LossBatch): tf.Scalar {
    const a = need(batch, 'anchor', ContrastiveLoss.type);
    const other = need(batch, 'positive', ContrastiveLoss.type);
    const y = need(batch, 'pairLabels', ContrastiveLoss.type);
    return tf.tidy(() => {
      const d = rowDistance(a, other, this.options.distance_metric);
      const yf = tf.cast(y, 'float32');
      const pull = tf.mul(yf, tf.square(d));
      const push = tf.mul(tf.sub(1, yf), tf.square(tf.relu(tf.sub(this.options.margin, d))));
      const losses = tf.mul(0.5, tf.add(pull, push));
      return (this.options.size_average ? tf.mean(losses) : tf.sum(losses)) as tf.Scalar;
    });
  }
}
