import type { ModelSpec } from '../types.js';

/** The most trials a sweep may expand to unless `sweep.max_trials` says otherwise. */
export const DEFAULT_MAX_TRIALS = 1000;

/** A stage entry in an experiment file: `{ type: <plugin>, ...options }`. */
export interface StageConfig {
  type: string;
  [option: string]: unknown;
}

export type TrainingMethod = 'none' | 'full' | 'adapter';

export interface TrainingConfig {
  method: TrainingMethod;
  [option: string]: unknown;
}

export const METRIC_NAMES = ['mrr', 'recall', 'ndcg', 'map', 'precision', 'hit'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

export interface EvaluateConfig {
  /** Which models to evaluate and compare: `base` and/or `finetuned`. */
  compare: Array<'base' | 'finetuned'>;
  metrics: MetricName[];
  k: number[];
  /** Primary metric key `<metric>@<k>`, used to rank sweep trials and pick the best checkpoint. */
  primary: string;
  /** Matryoshka evaluation: truncated dimensions to evaluate besides the full one. */
  dims?: number[];
  /** The primary evaluation set's name (default PRIMARY_SET_DEFAULT, `eval`). */
  name?: string;
  /** More evaluation sets: name → dataset entry (`evaluate.sets`). */
  sets?: Record<string, StageConfig>;
}

export interface SweepConfig {
  grid?: Record<string, unknown[]>;
  zip?: Record<string, unknown[]>;
}

/** The resolved experiment: after extends, ${env:…}, --set, validation and defaults. */
export interface ExperimentConfig {
  name: string;
  description?: string;
  seed: number;
  plugins: string[];
  dataset: StageConfig;
  splitter: StageConfig;
  miner: StageConfig;
  loss?: StageConfig;
  model: ModelSpec;
  backend: StageConfig;
  training: TrainingConfig;
  evaluate: EvaluateConfig;
  store: StageConfig;
  sinks: StageConfig[];
  sweep?: SweepConfig;
}
