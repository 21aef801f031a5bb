/**
 * A loss plugin in TypeScript, as docs/writing-a-plugin.md shows it: sentence-transformers'
 * MultipleNegativesSymmetricRankingLoss. Each anchor picks its own positive among the batch's
 * positives (and its negatives, when the examples have some), and each positive picks its own
 * anchor among the batch's anchors; the loss is the mean of the two cross-entropies, over scaled
 * cosine similarities. Everything comes from the package: the contract, the helpers and `tf`.
 * The test suite type-checks this file against the published types and trains with it through
 * the CLI, from a folder outside the repository, on both training engines
 * (test/cli/loss-plugin.test.ts).
 */
import { definePlugin } from 'ftrun';
import { cosSim, need, tf, type LossBatch } from 'ftrun/loss';

interface SymmetricMnrlOptions {
  /** Similarities are multiplied by this (1 / temperature). */
  scale: number;
}

const TYPE = 'symmetric-mnrl';

/** Mean cross-entropy of each row of `scores` [n, m] against its own column (row i → column i, i < n ≤ m). */
function diagonalCrossEntropy(scores: tf.Tensor2D): tf.Scalar {
  const n = scores.shape[0];
  // The score of row i at column i, as a product with the identity: differentiable, like every op here.
  const own = tf.sum(tf.mul(tf.slice(scores, [0, 0], [n, n]), tf.eye(n)), 1);
  return tf.neg(tf.mean<tf.Scalar>(tf.sub(own, tf.logSumExp(scores, 1))));
}

export default definePlugin<'loss', SymmetricMnrlOptions>({
  stage: 'loss',
  type: TYPE,
  description: 'Symmetric InfoNCE over (anchor, positive) pairs with in-batch negatives (sentence-transformers MultipleNegativesSymmetricRankingLoss).',
  // The example shape it reads: (anchor, positive) pairs. Required: a loss without `needs` does not compile.
  needs: 'pairs',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      scale: { type: 'number', exclusiveMinimum: 0, default: 20, description: 'Similarities are multiplied by this (1 / temperature); 20 = temperature 0.05.' },
    },
  },
  create: (options: SymmetricMnrlOptions) => ({
    compute(batch: LossBatch): tf.Scalar {
      const anchor = need(batch, 'anchor', TYPE); // [b, dim]
      const positive = need(batch, 'positive', TYPE); // [b, dim]
      // Pairs with negatives (a miner that also gives triplets): each negative column is b more candidates.
      const negatives = batch.negatives ?? (batch.negative ? [batch.negative] : []);
      return tf.tidy(() => {
        const b = anchor.shape[0];
        // [b, b·(1 + negative columns)]: anchor i against every positive, then every negative.
        const scores = tf.mul<tf.Tensor2D>(cosSim(anchor, tf.concat([positive, ...negatives], 0)), options.scale);
        const forward = diagonalCrossEntropy(scores); // anchor i → positive i
        const toAnchors = tf.transpose(tf.slice(scores, [0, 0], [b, b])); // [b, b]: positive j against every anchor
        const backward = diagonalCrossEntropy(toAnchors); // positive i → anchor i
        return tf.div<tf.Scalar>(tf.add(forward, backward), 2);
      });
    },
  }),
});
