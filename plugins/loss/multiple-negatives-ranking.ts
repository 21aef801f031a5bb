/**
 * Loss `multiple-negatives-ranking`: sentence-transformers 6.0's MultipleNegativesRankingLoss (InfoNCE).
 *
 * Queries are the anchors, documents the positives and every negative column. With the default
 * direction (query_to_doc) each anchor is scored against every document of the batch (its own
 * positive, the others' positives and every negative of every column); loss = cross-entropy of
 * scale · similarity with the anchor's own positive as target. The other directions add candidates:
 * query_to_query (the other anchors), doc_to_query (each positive against every anchor) and doc_to_doc
 * (each positive against every document of the other examples). `partition_mode` joint puts them all
 * in one softmax; per_direction takes one softmax per direction and averages their log-partitions.
 * `hardness_mode` adds hardness_strength · similarity (not scaled, no gradient) to the logits of
 * the in-batch negatives, the explicit (hard) negatives, or both (Lan et al. 2025; EmbeddingGemma).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { definePlugin } from '../../core/plugin.js';
import type { LossBatch } from '../../core/train/loss.js';
import type { IneffectiveOption, JsonSchema, OptionProblem } from '../../core/types.js';
import { type LossHelpers, loadLossHelpers, SCALE_OPTION } from '../common/loss.js';

export const MNRL_DIRECTIONS = ['query_to_doc', 'query_to_query', 'doc_to_query', 'doc_to_doc'] as const;
export type MnrlDirection = (typeof MNRL_DIRECTIONS)[number];
export const MNRL_HARDNESS_MODES = ['none', 'in_batch_negatives', 'hard_negatives', 'all_negatives'] as const;
export type MnrlHardnessMode = (typeof MNRL_HARDNESS_MODES)[number];

export interface MultipleNegativesRankingOptions {
  scale: number;
  similarity: 'cos' | 'dot';
  directions: MnrlDirection[];
  partition_mode: 'joint' | 'per_direction';
  hardness_mode: MnrlHardnessMode;
  hardness_strength: number;
}

const TYPE = 'multiple-negatives-ranking';

/** `scale` and `similarity`: the options of every loss of the family. */
export const MNRL_BASE_PROPERTIES: Record<string, JsonSchema> = {
  scale: SCALE_OPTION,
  similarity: {
    type: 'string',
    enum: ['cos', 'dot'],
    default: 'cos',
    description:
      "Similarity of two embeddings: cos (cosine, sentence-transformers' cos_sim, the default) or dot " +
      "(dot product, sentence-transformers' dot_score; then use scale 1).",
  },
};

/** Every option of `multiple-negatives-ranking` (also those of `cached-multiple-negatives-ranking`). */
export const MNRL_PROPERTIES: Record<string, JsonSchema> = {
  ...MNRL_BASE_PROPERTIES,
  directions: {
    type: 'array',
    items: { type: 'string', enum: [...MNRL_DIRECTIONS] },
    uniqueItems: true,
    minItems: 1,
    default: ['query_to_doc'],
    description:
      'Which similarities compete with the positive: query_to_doc (each anchor against every document: positives and ' +
      'negatives; required, it holds the positive pair), query_to_query (each anchor against the other anchors), ' +
      'doc_to_query (each positive against every anchor) and doc_to_doc (each positive against the documents of the ' +
      'other examples). [query_to_doc, doc_to_query] with per_direction is the symmetric loss; all four, joint, is GTE\'s.',
  },
  partition_mode: {
    type: 'string',
    enum: ['joint', 'per_direction'],
    default: 'joint',
    description:
      'joint: one softmax over the candidates of every direction; per_direction: one softmax per direction, their ' +
      'losses averaged (not with query_to_query or doc_to_doc, whose candidates do not include the positive).',
  },
  hardness_mode: {
    type: 'string',
    enum: [...MNRL_HARDNESS_MODES],
    default: 'none',
    description:
      'Adds hardness_strength · similarity (without gradient, not scaled) to the query_to_doc logits of: ' +
      'in_batch_negatives (the other examples\' positives and negatives), hard_negatives (the anchor\'s own negative ' +
      'columns) or all_negatives (both: every document but the positive); none (default) adds nothing.',
  },
  hardness_strength: {
    type: 'number',
    minimum: 0,
    default: 0,
    description: 'Strength (alpha) of hardness_mode: Lan et al. 2025 use 9 with in_batch_negatives, EmbeddingGemma 5 with hard_negatives.',
  },
};

/** Problems the schema cannot express (the rules of sentence-transformers' constructor). */
export function mnrlCheck(o: MultipleNegativesRankingOptions): OptionProblem[] {
  const problems: OptionProblem[] = [];
  const dirs = o.directions ?? ['query_to_doc'];
  if (!dirs.includes('query_to_doc')) {
    problems.push({
      path: ['directions'],
      message: `must include query_to_doc (it holds the positive pair); got [${dirs.join(', ')}]. Choices: ${MNRL_DIRECTIONS.join(', ')}`,
    });
  }
  const sameType = dirs.filter((d) => d === 'query_to_query' || d === 'doc_to_doc');
  if (o.partition_mode === 'per_direction' && sameType.length > 0) {
    problems.push({
      path: ['partition_mode'],
      message: `per_direction needs every direction's candidates to include the positive pair, and ${sameType.join(' and ')} do not; use partition_mode joint or directions from query_to_doc, doc_to_query`,
    });
  }
  return problems;
}

/** Options that cannot take effect given the others. */
export function mnrlIneffective(o: MultipleNegativesRankingOptions): IneffectiveOption[] {
  const out: IneffectiveOption[] = [];
  const mode = o.hardness_mode ?? 'none';
  if (mode === 'none' && o.hardness_strength !== undefined) {
    out.push({ path: ['hardness_strength'], because: 'it weighs hardness_mode, which is none' });
  }
  if (mode !== 'none' && !(o.hardness_strength > 0)) {
    out.push({ path: ['hardness_mode'], because: 'hardness_strength is 0, so no logit is changed; set hardness_strength > 0' });
  }
  if ((o.directions ?? ['query_to_doc']).length === 1 && o.partition_mode !== undefined) {
    out.push({ path: ['partition_mode'], because: 'with one direction, joint and per_direction are the same loss' });
  }
  return out;
}

/** Identity whose gradient is zero (torch's `.detach()`). */
function stopGradient(tf: LossHelpers['tf'], x: tf.Tensor2D): tf.Tensor2D {
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => ({
    value: tf.clone(args[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  }));
  return f(x) as tf.Tensor2D;
}

/**
 * [rows, cols] constant: `fill` where (column mod b) = row ("the row's own documents"), 0 elsewhere;
 * with `from`/`to`, only in columns [from, to).
 */
function ownDocs(tf: LossHelpers['tf'], b: number, cols: number, fill: number, from = 0, to = cols): tf.Tensor2D {
  const v = new Float32Array(b * cols);
  for (let i = 0; i < b; i++) for (let j = i; j < cols; j += b) if (j >= from && j < to) v[i * cols + j] = fill;
  return tf.tensor2d(v, [b, cols]);
}

/** sentence-transformers 6.0's MultipleNegativesRankingLoss.compute_loss_from_embeddings, in tfjs. */
export function mnrlLoss(h: LossHelpers, batch: LossBatch, o: MultipleNegativesRankingOptions, type: string): tf.Scalar {
  const { tf, cosSim, dotScore, need } = h;
  const anchor = need(batch, 'anchor', type);
  const positive = need(batch, 'positive', type);
  // Every negative column (negative_1 … negative_n); `negative` alone is the first one.
  const negatives = batch.negatives ?? (batch.negative ? [batch.negative] : []);
  const dirs = new Set(o.directions ?? ['query_to_doc']);
  const mode = o.hardness_mode ?? 'none';
  return tf.tidy(() => {
    const b = anchor.shape[0];
    const sim = (x: tf.Tensor2D, y: tf.Tensor2D) => (o.similarity === 'dot' ? dotScore(x, y) : cosSim(x, y));
    const docs = negatives.length > 0 ? (tf.concat([positive, ...negatives], 0) as tf.Tensor2D) : positive;
    const cols = docs.shape[0];
    const raw = sim(anchor, docs); // [b, b · (1 + negative columns)]
    let q2d = tf.mul(raw, o.scale) as tf.Tensor2D;
    if (mode !== 'none' && o.hardness_strength > 0) {
      // Which logits get the penalty: every document but the row's own (in_batch_negatives), the
      // row's own negatives (hard_negatives), everything but the row's own positive (all_negatives).
      const where =
        mode === 'in_batch_negatives'
          ? tf.sub(1, ownDocs(tf, b, cols, 1))
          : mode === 'hard_negatives'
            ? ownDocs(tf, b, cols, 1, b)
            : tf.sub(1, ownDocs(tf, b, cols, 1, 0, b));
      q2d = tf.add(q2d, tf.mul(tf.mul(stopGradient(tf, raw), o.hardness_strength), where)) as tf.Tensor2D;
    }
    // In sentence-transformers' order (query_to_doc, query_to_query, doc_to_query, doc_to_doc).
    const mats: tf.Tensor2D[] = [q2d];
    if (dirs.has('query_to_query')) mats.push(tf.add(tf.mul(sim(anchor, anchor), o.scale), ownDocs(tf, b, b, -Infinity)) as tf.Tensor2D);
    if (dirs.has('doc_to_query')) mats.push(tf.mul(tf.transpose(sim(anchor, positive)), o.scale) as tf.Tensor2D);
    if (dirs.has('doc_to_doc')) mats.push(tf.add(tf.mul(tf.transpose(sim(docs, positive)), o.scale), ownDocs(tf, b, cols, -Infinity)) as tf.Tensor2D);
    const own = tf.sum(tf.mul(tf.slice(q2d, [0, 0], [b, b]), tf.eye(b)), 1);
    const logZ =
      o.partition_mode === 'per_direction'
        ? tf.div(tf.addN(mats.map((m) => tf.logSumExp(m, 1))), mats.length)
        : tf.logSumExp(mats.length === 1 ? mats[0]! : tf.concat(mats, 1), 1);
    return tf.neg(tf.mean(tf.sub(own, logZ))) as tf.Scalar;
  });
}

export default definePlugin({
  stage: 'loss',
  type: TYPE,
  description:
    'InfoNCE over (anchor, positive[, negative_1 … negative_n]) with in-batch negatives; directions, partition_mode and hardness weighting as sentence-transformers 6.0 MultipleNegativesRankingLoss.',
  needs: 'pairs',
  schema: { type: 'object', additionalProperties: false, properties: MNRL_PROPERTIES },
  check: (o: MultipleNegativesRankingOptions) => mnrlCheck(o),
  ineffective: (o: MultipleNegativesRankingOptions) => mnrlIneffective(o),
  async create(options: MultipleNegativesRankingOptions) {
    const h = await loadLossHelpers();
    return { compute: (batch: LossBatch): tf.Scalar => mnrlLoss(h, batch, options, TYPE) };
  },
});
