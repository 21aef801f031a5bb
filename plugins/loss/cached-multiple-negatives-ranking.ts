/**
 * Loss `cached-multiple-negatives-ranking`: sentence-transformers' CachedMultipleNegativesRankingLoss,
 * i.e. `multiple-negatives-ranking` (the same options and maths) trained with GradCache (Gao et al.
 * 2021): the loss seam embeds each batch in chunks of `mini_batch_size` examples without keeping
 * activations, computes the loss and ∂embeddings once on the whole batch, then embeds each chunk
 * again and backpropagates it (core/train/seam.ts). Value and gradients are those of the plain loss;
 * memory is that of one chunk, so large batches (many in-batch negatives) fit. The same as
 * `multiple-negatives-ranking` with `training.mini_batch_size`, under the name users know.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { definePlugin } from '../../core/plugin.js';
import type { LossBatch } from '../../core/train/loss.js';
import { loadLossHelpers } from '../common/loss.js';
import { MNRL_PROPERTIES, type MultipleNegativesRankingOptions, mnrlCheck, mnrlIneffective, mnrlLoss } from './multiple-negatives-ranking.js';

export interface CachedMultipleNegativesRankingOptions extends MultipleNegativesRankingOptions {
  mini_batch_size: number;
}

const TYPE = 'cached-multiple-negatives-ranking';

export default definePlugin({
  stage: 'loss',
  type: TYPE,
  description:
    'multiple-negatives-ranking with GradCache: batches embedded in chunks of mini_batch_size, so large batches fit in memory (sentence-transformers CachedMultipleNegativesRankingLoss).',
  needs: 'pairs',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...MNRL_PROPERTIES,
      mini_batch_size: {
        type: 'integer',
        minimum: 1,
        default: 32,
        description:
          'Examples per chunk of the cached forward and backward passes (sentence-transformers\' default 32): peak memory is ' +
          'that of one chunk; value and gradients do not depend on it. A batch no larger than this is done in one pass. ' +
          'The same as training.mini_batch_size, which, when also set, must be equal.',
      },
    },
  },
  check: (o: CachedMultipleNegativesRankingOptions) => mnrlCheck(o),
  ineffective: (o: CachedMultipleNegativesRankingOptions) => mnrlIneffective(o),
  async create(options: CachedMultipleNegativesRankingOptions) {
    const h = await loadLossHelpers();
    return {
      /** The GradCache chunk size the loss seam uses (core/train/seam.ts). */
      miniBatchSize: options.mini_batch_size,
      compute: (batch: LossBatch): tf.Scalar => mnrlLoss(h, batch, options, TYPE),
    };
  },
});
