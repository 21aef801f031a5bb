/**
 * Loss `matryoshka`: sentence-transformers' MatryoshkaLoss. It wraps another loss (`loss:`, written as
 * a top-level loss is: its `type` and options) and trains the embedding to work truncated: for each
 * dimension d of `dims` the inner loss is computed on normalize(embedding[:, :d]) of every column,
 * and the weighted sum (`weights`, default all 1) is the loss. A guide model's embeddings (inner loss
 * `gist`) are not the trained model's: they stay whole at every dimension.
 *
 * The inner loss is one of the built-in losses (INNER_LOSSES). Its options are checked by the schema
 * (each inner type's own schema) and by its own check() and ineffective(), so a mistake is reported at
 * its line; its defaults are filled when it is built.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { definePlugin } from '../../core/plugin.js';
import type { LossBatch, LossPlugin } from '../../core/train/loss.js';
import { configAjv } from '../../core/config/ajv.js';
import type { CheckContext, ExampleShape, JsonSchema, OptionProblem, PluginClass, RunContext } from '../../core/types.js';
import { loadLossHelpers } from '../common/loss.js';
import angle from './angle.js';
import batchAllTriplet from './batch-all-triplet.js';
import batchHardSoftMarginTriplet from './batch-hard-soft-margin-triplet.js';
import batchHardTriplet from './batch-hard-triplet.js';
import batchSemiHardTriplet from './batch-semi-hard-triplet.js';
import cachedMultipleNegativesRanking from './cached-multiple-negatives-ranking.js';
import contrastive from './contrastive.js';
import cosent from './cosent.js';
import cosineSimilarity from './cosine-similarity.js';
import distillKlDiv from './distill-kl-div.js';
import gist from './gist.js';
import marginMse from './margin-mse.js';
import multipleNegativesRanking from './multiple-negatives-ranking.js';
import multipleNegativesSymmetricRanking from './multiple-negatives-symmetric-ranking.js';
import triplet from './triplet.js';

export interface MatryoshkaOptions {
  loss: { type: string } & Record<string, unknown>;
  dims: number[];
  weights?: number[];
}

const TYPE = 'matryoshka';

type LossClass = PluginClass<LossPlugin | Promise<LossPlugin>> & { needs: ExampleShape };

/** The losses `matryoshka` can wrap, by type. */
export const INNER_LOSSES: Readonly<Record<string, LossClass>> = Object.fromEntries(
  [
    multipleNegativesRanking, multipleNegativesSymmetricRanking, cachedMultipleNegativesRanking, gist, cosent, angle, cosineSimilarity, marginMse, distillKlDiv, contrastive, triplet,
    batchAllTriplet, batchHardTriplet, batchHardSoftMarginTriplet, batchSemiHardTriplet,
  ].map((c) => [c.type, c as unknown as LossClass]),
);

/** `loss:`: a type among INNER_LOSSES and, for each, that loss's own options (and their defaults). */
function innerSchema(): JsonSchema {
  const types = Object.keys(INNER_LOSSES).sort();
  return {
    type: 'object',
    description: 'The loss computed at every dimension: its `type` and its options, as a top-level `loss:` is written.',
    required: ['type'],
    properties: { type: { type: 'string', enum: types, description: 'The inner loss type.' } },
    allOf: types.map((t) => {
      const s = INNER_LOSSES[t]!.schema as { properties?: Record<string, JsonSchema> };
      // Without their defaults: `loss:` keeps what was written, so the inner loss's ineffective() can
      // tell written options from defaults; create() fills the defaults.
      const properties = Object.fromEntries(
        Object.entries(s.properties ?? {}).map(([k, v]) => {
          const { default: _default, ...rest } = v as Record<string, unknown>;
          return [k, rest];
        }),
      );
      return {
        if: { properties: { type: { const: t } } },
        then: { type: 'object', additionalProperties: false, properties: { type: { const: t }, ...properties } },
      };
    }),
  };
}

/** The inner loss's options with its schema's defaults filled, as a top-level loss gets them. */
function innerOptions(cls: LossClass, written: Record<string, unknown>): Record<string, unknown> {
  let fill = fillers.get(cls);
  if (!fill) fillers.set(cls, (fill = configAjv({ useDefaults: true }).compile(cls.schema)));
  const filled = structuredClone(written);
  fill(filled);
  return filled;
}
const fillers = new Map<LossClass, (data: unknown) => unknown>();

export default definePlugin({
  stage: 'loss',
  type: TYPE,
  description:
    'Matryoshka embeddings: another loss computed on the embeddings truncated to each of several dimensions, weighted and summed (sentence-transformers MatryoshkaLoss).',
  // The instance's `needs` is the inner loss's, and readsWith() tells validation.
  needs: 'pairs',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['loss', 'dims'],
    properties: {
      loss: innerSchema(),
      dims: {
        type: 'array',
        minItems: 1,
        items: { type: 'integer', minimum: 1 },
        description: 'The embedding dimensions to train, e.g. [768, 512, 256, 128, 64]; each at most the model\'s dimension.',
      },
      weights: {
        type: 'array',
        items: { type: 'number', minimum: 0 },
        description: 'The weight of the inner loss at each dimension, one per entry of `dims` (default: all 1).',
      },
    },
  },
  // What the inner loss reads: validation checks the miner and dataset against it.
  readsWith(o: Record<string, unknown>) {
    const inner = (o as unknown as Partial<MatryoshkaOptions>).loss;
    const cls = inner ? INNER_LOSSES[inner.type] : undefined;
    if (!cls) return undefined;
    return cls.readsWith?.(inner!) ?? { needs: cls.needs, ...(cls.reads ? { reads: cls.reads } : {}) };
  },
  check(o: MatryoshkaOptions & Record<string, unknown>, context: CheckContext) {
    const problems: OptionProblem[] = [];
    if (o.weights !== undefined && o.weights.length !== o.dims.length) {
      problems.push({ path: ['weights'], message: `has ${o.weights.length} weight(s) but dims has ${o.dims.length}: give one weight per dimension (or leave weights out for all 1)` });
    }
    const dim = context.modelDim?.();
    if (dim !== undefined) {
      o.dims.forEach((d, i) => {
        if (d > dim) problems.push({ path: ['dims', i], message: `${d} is more than the model's embedding dimension ${dim}: each of dims must be at most ${dim}` });
      });
    }
    // The inner loss's own checks, and the options it says cannot take effect, at loss.<option>.
    const { type, ...written } = o.loss;
    const cls = INNER_LOSSES[type];
    if (cls) {
      const filled = innerOptions(cls, written);
      // The inner loss sees the embeddings cut to each of dims: its check too.
      const seen = new Set<string>();
      for (const d of o.dims) {
        for (const p of cls.check?.(filled, { ...context, modelDim: () => d }) ?? []) {
          const key = JSON.stringify(p);
          if (!seen.has(key)) problems.push({ path: ['loss', ...p.path], message: p.message });
          seen.add(key);
        }
      }
      for (const p of cls.ineffective?.(filled) ?? []) {
        if (p.path.length > 0 && String(p.path[0]) in written) problems.push({ path: ['loss', ...p.path], message: `has no effect here: ${p.because}; remove it` });
      }
    }
    return problems;
  },
  async create(options: MatryoshkaOptions, context: RunContext) {
    const { tf, normalizeRows } = await loadLossHelpers();
    const { type, ...rest } = options.loss;
    const cls = INNER_LOSSES[type];
    if (!cls) throw new Error(`loss ${TYPE}: unknown inner loss "${type}"`);
    const inner = (await new cls(innerOptions(cls, rest), context)) as LossPlugin & { miniBatchSize?: unknown };
    // A guided inner loss (gist): the runner embeds the training texts with its guide once and the seam
    // hands them in as batch.guide, which the cut below leaves whole, as sentence-transformers'
    // MatryoshkaLoss truncates only the trained model's outputs (GISTEmbedLoss's guide is another model).
    const guide = inner.guide ? { ...inner.guide, at: `loss.${inner.guide.at}` } : undefined;
    const needs = inner.needs ?? cls.needs;
    const weights = options.weights ?? options.dims.map(() => 1);
    return {
      needs,
      // A cached inner loss (cached-multiple-negatives-ranking) keeps its GradCache chunk size: the loss seam reads it here.
      ...(typeof inner.miniBatchSize === 'number' ? { miniBatchSize: inner.miniBatchSize } : {}),
      ...(guide ? { guide } : {}),
      compute(batch: LossBatch): tf.Scalar {
        const full = batch.anchor.shape[1];
        const over = options.dims.find((d) => d > full);
        if (over !== undefined) throw new Error(`loss ${TYPE}: dims has ${over}, more than the embedding dimension ${full}`);
        return tf.tidy(() => {
          let total: tf.Scalar = tf.scalar(0);
          options.dims.forEach((d, i) => {
            const cut = (x: tf.Tensor2D): tf.Tensor2D => normalizeRows(tf.slice(x, [0, 0], [-1, d]));
            const negatives = batch.negatives?.map(cut);
            const shrunk: LossBatch = {
              ...batch,
              anchor: cut(batch.anchor),
              positive: batch.positive && cut(batch.positive),
              negatives,
              negative: negatives ? negatives[0] : batch.negative && cut(batch.negative),
            };
            total = tf.add(total, tf.mul(inner.compute(shrunk), weights[i]!));
          });
          return total;
        });
      },
    };
  },
});
