/**
 * Loss `gist`: sentence-transformers 6.0's GISTEmbedLoss (Solatorio 2024, "GISTEmbed: Guided In-sample
 * Selection of Training Negatives"). InfoNCE over cosine similarities / temperature like
 * multiple-negatives-ranking, but a guide model decides which in-batch candidates are negatives: a
 * candidate the guide finds at least as similar to the anchor as the anchor's own positive (less
 * `margin`) is taken for a false negative and left out of the softmax (its logit set to −∞).
 *
 * Candidates per anchor i: every positive (the anchor–positive block; the own positive j = i is never
 * masked), every other anchor (contrast_anchors), every positive again as seen from positive i
 * (contrast_positives: positive i against every positive) and every negative of every negative column.
 * With s_i = guide cos(anchor_i, positive_i), a candidate with guide similarity g is masked when
 * g > s_i − margin (absolute) or g > s_i − |s_i|·margin (relative, sentence-transformers 6.0).
 * sentence-transformers takes one negative column; here each negative column adds its block.
 *
 * The guide (`guide:`, a model spec as the experiment's `model:`; default the base model) never
 * changes: the runner embeds every training text with it once before training and the loss seam hands
 * each batch's guide embeddings in as `batch.guide` (core/train/loss.ts LossGuide).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { definePlugin } from '../../core/plugin.js';
import { CORE_SCHEMAS, MODEL_SOURCES } from '../../core/config/envelope.js';
import { modelDirectoryProblems } from '../../core/config/checks.js';
import type { GuideColumns, LossBatch } from '../../core/train/loss.js';
import type { CheckContext, IneffectiveOption, JsonSchema, ModelSpec, OptionProblem } from '../../core/types.js';
import { type LossHelpers, loadLossHelpers, negativeColumns } from '../common/loss.js';

export const GIST_MARGIN_STRATEGIES = ['absolute', 'relative'] as const;

export interface GistOptions {
  /** The guide model (default: the experiment's base model). */
  guide?: Partial<ModelSpec>;
  temperature: number;
  margin_strategy: (typeof GIST_MARGIN_STRATEGIES)[number];
  margin: number;
  contrast_anchors: boolean;
  contrast_positives: boolean;
}

const TYPE = 'gist';

/** `guide:`: the experiment's `model:` schema; prompts without defaults (left out, they are the model's). */
function guideSchema(): JsonSchema {
  const model = CORE_SCHEMAS.model as { properties: Record<string, JsonSchema> };
  const properties: Record<string, JsonSchema> = { ...model.properties };
  for (const k of ['query_prompt', 'document_prompt'] as const) {
    const { default: _d, ...rest } = properties[k] as Record<string, unknown>;
    properties[k] = { ...rest, description: `${String(rest.description)} Default: the experiment's model.${k}, so the guide sees the texts as the model does.` };
  }
  return {
    ...model,
    properties,
    description:
      "The guide model that picks the in-batch false negatives, a model spec as the experiment's `model:` section (a hub `id`, a local `path` " +
      'or a `bundled` model, and the same overrides; its embedding dimension may differ from the model\'s). Default: the experiment\'s base model.',
  };
}

/** `guide:`, when given, names exactly one source; a `path` is an existing directory. */
function guideProblems(o: Partial<GistOptions>, context: Pick<CheckContext, 'resolvePath'>): OptionProblem[] {
  const guide = o.guide;
  if (guide === undefined) return [];
  const given = MODEL_SOURCES.filter((k) => guide[k] !== undefined);
  if (given.length !== 1) {
    const what = given.length === 0 ? 'missing "id" (a hub model id), "path" (a model directory) or "bundled"' : `give only one of "id" (a hub model id), "path" (a model directory) or "bundled"; found ${given.map((g) => `"${g}"`).join(' and ')}`;
    return [{ path: ['guide'], message: `${what} (the guide model; leave guide out to guide with the base model)` }];
  }
  if (typeof guide.path !== 'string') return [];
  return modelDirectoryProblems(context.resolvePath(guide.path), guide.max_seq_length).map(([path, message]) => ({ path: ['guide', ...path.slice(1)], message }));
}

/** sentence-transformers 6.0's GISTEmbedLoss.forward on the embeddings and the guide's, in tfjs. */
export function gistLoss(h: LossHelpers, batch: LossBatch, o: GistOptions, type = TYPE): tf.Scalar {
  const { tf, cosSim, need } = h;
  const anchor = need(batch, 'anchor', type);
  const positive = need(batch, 'positive', type);
  const negatives = negativeColumns(batch);
  const g: GuideColumns = need(batch, 'guide', type);
  if (!g.positive) throw new Error(`loss ${type} needs batch.guide.positive`);
  const guideNegatives = g.negatives ?? (g.negative ? [g.negative] : []);
  if (guideNegatives.length !== negatives.length) throw new Error(`loss ${type}: ${negatives.length} negative column(s) but ${guideNegatives.length} in batch.guide`);
  return tf.tidy(() => {
    const b = anchor.shape[0];
    const guidedAp = cosSim(g.anchor, g.positive!);
    // Each anchor's threshold: the guide's similarity of its own pair.
    const own = tf.sum(tf.mul(guidedAp, tf.eye(b)), 1, true);
    const threshold = o.margin_strategy === 'relative' ? tf.sub(own, tf.mul(tf.abs(own), o.margin)) : tf.sub(own, o.margin);
    // sim with −∞ where the guide's similarity exceeds the threshold (never on the own positive).
    const masked = (sim: tf.Tensor2D, guided: tf.Tensor2D, protectDiagonal = false): tf.Tensor2D => {
      // 1 where guided > threshold (step is 0 at 0, as torch's strict >), as float ops every backend has.
      let mask: tf.Tensor = tf.step(tf.sub(guided, threshold));
      if (protectDiagonal) mask = tf.mul(mask, tf.sub(1, tf.eye(b, guided.shape[1])));
      return tf.where(tf.greater(mask, 0.5), tf.fill(sim.shape, -Infinity), sim) as tf.Tensor2D;
    };
    const ap = cosSim(anchor, positive);
    const blocks: tf.Tensor2D[] = [masked(ap, guidedAp, true)];
    if (o.contrast_anchors) blocks.push(masked(cosSim(anchor, anchor), cosSim(g.anchor, g.anchor)));
    if (o.contrast_positives) blocks.push(masked(cosSim(positive, positive), cosSim(g.positive!, g.positive!)));
    negatives.forEach((n, j) => blocks.push(masked(cosSim(anchor, n), cosSim(g.anchor, guideNegatives[j]!))));
    const scores = tf.div(blocks.length === 1 ? blocks[0]! : tf.concat(blocks, 1), o.temperature);
    const target = tf.div(tf.sum(tf.mul(ap, tf.eye(b)), 1), o.temperature);
    return tf.mean(tf.sub(tf.logSumExp(scores, 1), target)) as tf.Scalar;
  });
}

export default definePlugin({
  stage: 'loss',
  type: TYPE,
  description:
    'GISTEmbed: in-batch negatives ranking where a guide model (the base model by default) removes the in-batch false negatives (sentence-transformers GISTEmbedLoss).',
  needs: 'pairs',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      guide: guideSchema(),
      temperature: {
        type: 'number',
        exclusiveMinimum: 0,
        default: 0.01,
        description: 'Similarities are divided by this (sentence-transformers\' default 0.01 = scale 100).',
      },
      margin_strategy: {
        type: 'string',
        enum: [...GIST_MARGIN_STRATEGIES],
        default: 'absolute',
        description:
          "How a candidate is judged a false negative from the guide's similarities, with s the guide's similarity of the anchor and its own positive: " +
          "absolute masks candidates the guide scores above s − margin; relative above s − |s| · margin (sentence-transformers 6.0).",
      },
      margin: {
        type: 'number',
        default: 0,
        description: 'The margin of margin_strategy: 0 masks the candidates the guide scores above the anchor\'s own positive; larger masks more.',
      },
      contrast_anchors: {
        type: 'boolean',
        default: true,
        description: 'The other anchors of the batch are candidates too (pushing anchors apart), as in the GISTEmbed paper.',
      },
      contrast_positives: {
        type: 'boolean',
        default: true,
        description: 'Positive-to-positive similarities are candidates too (pushing positives apart), as in the GISTEmbed paper; false may suit some retrieval tasks.',
      },
    },
  },
  check: (o: GistOptions & Record<string, unknown>, context: CheckContext) => guideProblems(o, context),
  ineffective(o: GistOptions & Record<string, unknown>): IneffectiveOption[] {
    return o.margin === 0 ? [{ path: ['margin_strategy'], because: 'margin is 0, so absolute and relative give the same threshold' }] : [];
  },
  async create(options: GistOptions) {
    const h = await loadLossHelpers();
    return {
      guide: { ...(options.guide ? { model: options.guide } : {}), at: 'loss.guide' },
      compute: (batch: LossBatch): tf.Scalar => gistLoss(h, batch, options),
    };
  },
});
