/**
 * The `training:` section of an experiment file for full fine-tuning (method `full`): its JSON
 * Schema (defaults inside, one description per option) and the typed, validated view the trainer
 * reads. The defaults are the Hugging Face / sentence-transformers ones, except where noted.
 */
import type { JsonSchema } from '../types.js';
import { ADAPTER_DEFAULT_LR } from './adapter-schema.js';

/** training.learning_rate's default for full fine-tuning (sentence-transformers' 2e-5). */
export const FULL_DEFAULT_LR = 2e-5;

export type BatchSamplerKind = 'no-duplicates' | 'group-by-label';
export const BATCH_SAMPLERS: readonly BatchSamplerKind[] = ['no-duplicates', 'group-by-label'];

export type SchedulerKind = 'linear' | 'constant';
export const SCHEDULERS: readonly SchedulerKind[] = ['linear', 'constant'];

/** The validated `training:` section (method full). */
export interface FullTrainingConfig {
  method: 'none' | 'full';
  epochs: number;
  batch_size: number;
  learning_rate: number;
  warmup_ratio: number;
  warmup_steps: number;
  weight_decay: number;
  max_grad_norm: number;
  gradient_accumulation_steps: number;
  /** GradCache chunk size (absent: every batch embedded at once). */
  mini_batch_size?: number;
  batch_sampler: BatchSamplerKind;
  samples_per_label: number;
  scheduler: SchedulerKind;
  eval_every: number;
  save_total_limit: number;
  load_best: boolean;
  max_steps?: number;
  export_onnx: boolean;
  seed?: number;
  /** Weight averaging with the base model (LM-Cocktail's simple form), evaluated as model `merged`. */
  merge?: MergeOptions;
  /** Stop when the test-split metric stops improving (metric absent: evaluate.primary). */
  early_stopping?: { metric?: string; patience: number; min_delta: number };
}

/** The validated `training.merge` object (method full). */
export interface MergeOptions {
  base_weight: number;
}

/**
 * `training.merge` (method full): besides the fine-tuned model, write and evaluate the weight
 * average base_weight · base + (1 − base_weight) · fine-tuned (core/train/methods.ts adds it to
 * the `training:` schema as the full method's own option).
 */
export const MERGE_SCHEMA: JsonSchema = {
  type: 'object',
  description:
    'Forgetting guard (LM-Cocktail\'s simple form): besides the fine-tuned model, write <run>/merged/, the weight average ' +
    'base_weight · base + (1 − base_weight) · fine-tuned of every tensor, and evaluate it as a third model, `merged` ' +
    '(see docs/training.md, "Forgetting guard"). Method full only.',
  additionalProperties: false,
  required: ['base_weight'],
  properties: {
    base_weight: {
      type: 'number',
      minimum: 0,
      maximum: 1,
      description: 'Weight of the base model in the average, from 0 (the fine-tuned model) to 1 (the base model).',
    },
  },
};

export const TRAINING_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'How the model is fine-tuned (see docs/training.md).',
  default: {},
  additionalProperties: false,
  properties: {
    method: {
      type: 'string',
      enum: ['none', 'full'],
      default: 'none',
      description: 'Training method: `none` evaluates the base model only; `full` fine-tunes every weight of the encoder (backend tfjs).',
    },
    epochs: { type: 'integer', minimum: 1, default: 1, description: 'Passes over the training examples.' },
    batch_size: { type: 'integer', minimum: 1, default: 16, description: 'Examples per batch (per forward/backward pass).' },
    learning_rate: {
      type: 'number',
      exclusiveMinimum: 0,
      description: `Peak learning rate of AdamW (default: ${FULL_DEFAULT_LR} for method full, as sentence-transformers; ${ADAPTER_DEFAULT_LR} for method adapter, whose small map needs a larger one).`,
    },
    warmup_ratio: {
      type: 'number',
      minimum: 0,
      maximum: 1,
      default: 0.1,
      description: 'Share of the optimizer steps during which the learning rate rises linearly from 0 (used when warmup_steps is 0).',
    },
    warmup_steps: { type: 'integer', minimum: 0, default: 0, description: 'Warmup in optimizer steps; 0 = use warmup_ratio.' },
    weight_decay: {
      type: 'number',
      minimum: 0,
      default: 0.01,
      description: 'AdamW decoupled weight decay, applied to every weight except biases and LayerNorm weights (as the Hugging Face Trainer).',
    },
    max_grad_norm: { type: 'number', minimum: 0, default: 1.0, description: 'Clip the global gradient norm to this value; 0 disables clipping.' },
    gradient_accumulation_steps: {
      type: 'integer',
      minimum: 1,
      default: 1,
      description: 'Batches whose gradients are summed (each loss divided by this number) before one optimizer step.',
    },
    mini_batch_size: {
      type: 'integer',
      minimum: 1,
      description:
        'Cached batches (GradCache, as sentence-transformers\' Cached* losses): embed each batch in chunks of this many examples ' +
        'without keeping activations, compute the loss and its gradient once on the whole batch, then embed each chunk again and ' +
        'backpropagate it. Same loss and gradients as the plain step, with the memory of one chunk: large batches (many in-batch ' +
        'negatives) fit. Must be smaller than batch_size; unset = every batch at once.',
    },
    batch_sampler: {
      type: 'string',
      enum: [...BATCH_SAMPLERS],
      default: 'no-duplicates',
      description:
        'How batches are drawn: no-duplicates (shuffled, no text twice in a batch, as sentence-transformers\' NoDuplicatesBatchSampler) ' +
        'or group-by-label (samples_per_label examples of each of several labels, so batch triplet losses always find valid triplets).',
    },
    samples_per_label: {
      type: 'integer',
      minimum: 2,
      default: 2,
      description: 'group-by-label only: examples of one label placed together in a batch (K of P labels × K examples).',
    },
    scheduler: {
      type: 'string',
      enum: [...SCHEDULERS],
      default: 'linear',
      description: 'Learning-rate schedule after warmup: linear (decay to 0 at the last step) or constant.',
    },
    eval_every: {
      type: 'integer',
      minimum: 0,
      default: 0,
      description: 'Evaluate on the test split and save a checkpoint every this many optimizer steps; 0 = at the end of each epoch.',
    },
    save_total_limit: {
      type: 'integer',
      minimum: 0,
      default: 2,
      description: 'Checkpoints kept in <run>/checkpoints (the newest ones, plus the best); 0 keeps all.',
    },
    early_stopping: {
      type: 'object',
      additionalProperties: false,
      description:
        'Stop training when the periodic evaluation on the test split (every eval_every steps, or each epoch) stops improving, as ' +
        "PyTorch Lightning's EarlyStopping and Hugging Face's EarlyStoppingCallback: after `patience` evaluations in a row without an " +
        'improvement of more than `min_delta` over the best value so far. The best checkpoint is then saved as the model (load_best). ' +
        'Needs a test split (splitter ratio or field).',
      properties: {
        metric: {
          type: 'string',
          description: 'The metric watched: `<metric>@<k>` of evaluate.metrics and evaluate.k, or triplet_accuracy (default: evaluate.primary). Higher is better for every one.',
        },
        patience: { type: 'integer', minimum: 1, default: 3, description: 'Evaluations in a row without improvement after which training stops.' },
        min_delta: { type: 'number', minimum: 0, default: 0, description: 'The least increase of the metric that counts as an improvement.' },
      },
    },
    load_best: {
      type: 'boolean',
      default: true,
      description: 'Save the checkpoint with the best primary metric (evaluate.primary on the test split) as the fine-tuned model, instead of the last one.',
    },
    max_steps: {
      type: 'integer',
      minimum: 1,
      description: 'Stop after this many optimizer steps (overrides epochs, as in Hugging Face; the schedule spans max_steps).',
    },
    export_onnx: {
      type: 'boolean',
      default: true,
      description: 'Also write <run>/model/onnx/model.onnx, so the ort backend can encode with the fine-tuned model.',
    },
    seed: { type: 'integer', description: "Seed for batch order, dropout and evaluation triplets (default: the experiment's seed)." },
  },
};

/** Default values of every option that has one (the schema's defaults). */
export function trainingDefaults(): FullTrainingConfig {
  const out: Record<string, unknown> = { learning_rate: FULL_DEFAULT_LR };
  for (const [key, s] of Object.entries(TRAINING_SCHEMA.properties as Record<string, { default?: unknown }>)) {
    if (s.default !== undefined) out[key] = s.default;
  }
  return out as unknown as FullTrainingConfig;
}

/** The validated section as the trainer reads it; options missing (e.g. in unit tests) take their defaults. */
export function readTrainingConfig(section: Record<string, unknown>): FullTrainingConfig {
  return { ...trainingDefaults(), ...(section as Partial<FullTrainingConfig>) };
}
