/**
 * The run directory and sweep directory contract (docs/run-directory.md) in one place: the name
 * of every file and folder ftrun writes there, and the type of every JSON record in them. Writers
 * and readers use these names and types; no other module spells a contract file name.
 */
import { join } from 'node:path';
import type { ErrorCode } from '../errors.js';
import type { RunEvent, RunSummary } from '../types.js';
import type { DeltaInterval } from '../stats.js';
import type { IntervalsInfo } from './intervals.js';
import type { EarlyStopRecord } from '../train/early-stopping.js';

// ── A run directory: <runs-dir>/<name>/<run-id>/ ─────────────────────────────────────────────

/** The exact config after extends, ${env:…}, --set and defaults; secrets redacted. */
export const RESOLVED_YAML = 'resolved.yaml';
/** Final metrics of each model, Δ, primary metric, status: a {@link RunMetrics}. */
export const METRICS_JSON = 'metrics.json';
/** One {@link PerQuery} line per eval query and model. */
export const PER_QUERY_JSONL = 'per_query.jsonl';
/** The run's event log: one {@link RunEvent} per line. */
export const EVENTS_JSONL = 'events.jsonl';
/** Versions, machine, encoders used, seed, timings, status: a {@link RunEnv}. */
export const ENV_JSON = 'env.json';
/** The human report (sink `markdown`, its default `file`). */
export const REPORT_MD = 'report.md';
/** The same with charts, self-contained (sink `html`, its default `file`). */
export const REPORT_HTML = 'report.html';
/** One {@link SummaryLine} per run (sink `json`, without a `path`). */
export const SUMMARY_JSONL = 'summary.jsonl';
/** training.method full: the fine-tuned model. */
export const MODEL_DIR = 'model';
/** training.method adapter: the adapter. */
export const ADAPTER_DIR = 'adapter';
/** training.merge: the weight average of the base and the fine-tuned model (same layout as {@link MODEL_DIR}). */
export const MERGED_DIR = 'merged';
/** Training checkpoints, one `step-<n>/` folder each. */
export const CHECKPOINTS_DIR = 'checkpoints';
/** The lancedb store's tables (store lancedb, default uri). */
export const LANCEDB_DIR = 'lancedb';
/** dataset generate: the generated queries, `{ input, expected: [document id], sample }` lines that the `jsonl` dataset reads. */
export const GENERATED_JSONL = 'generated.jsonl';
/** dataset generate, when a document was chunked: the corpus the generated queries' ids name, `{ id, text }` lines. */
export const GENERATED_CORPUS_JSONL = 'generated_corpus.jsonl';

/**
 * Present while a process works in the run (or sweep) directory: its pid, host and start time, a
 * {@link LockHolder} (core/run/lock.ts). Another process refuses the directory while it holds.
 */
export const RUN_LOCK = '.ftrun-lock';

/**
 * The entries of a run directory that ftrun writes and scripts rely on; a sink may not write over
 * one (the reports are not here: their names are the sinks' options).
 */
export const CONTRACT_ENTRIES: readonly string[] = [RESOLVED_YAML, METRICS_JSON, PER_QUERY_JSONL, EVENTS_JSONL, ENV_JSON, SUMMARY_JSONL, MODEL_DIR, ADAPTER_DIR, MERGED_DIR, CHECKPOINTS_DIR, LANCEDB_DIR, GENERATED_JSONL, GENERATED_CORPUS_JSONL];

/** ftrun's own working files in a run directory ({@link RUN_LOCK}, the disk reserve) start with this; a sink may not write one. */
export const WORKING_FILE_PREFIX = '.ftrun-';

// ── Checkpoints: <run-dir>/checkpoints/step-<n>/ (written by core/train/checkpoint.ts) ───────

/** A checkpoint folder is this prefix and its global step. */
export const CHECKPOINT_PREFIX = 'step-';
/** The checkpoint's weights. */
export const CHECKPOINT_WEIGHTS = 'model.safetensors';
/** AdamW moments. */
export const CHECKPOINT_OPTIMIZER_WEIGHTS = 'optimizer.safetensors';
/** AdamW hyper-parameters and update counts: an {@link OptimizerConfigJson}. */
export const CHECKPOINT_OPTIMIZER_JSON = 'optimizer.json';
/** Step, epoch, sampler position, seed, metrics, best metric, fingerprint: a {@link TrainerState}. */
export const TRAINER_STATE_JSON = 'trainer_state.json';

export type { BestMetric, OptimizerConfigJson, TrainerState } from '../train/checkpoint.js';
export type { LockHolder } from './lock.js';

// ── A sweep directory: <runs-dir>/<name>/sweep-<id>/ ─────────────────────────────────────────

/** A sweep directory's name is this prefix and the sweep's id (a run directory's name is the id alone). */
export const SWEEP_DIR_PREFIX = 'sweep-';

/** The trials, their overrides and status; the experiment file and --set flags: a {@link SweepRecord}. */
export const SWEEP_JSON = 'sweep.json';
/** Each trial's run directory is `trials/<index>`. */
export const TRIALS_DIR = 'trials';
/** Trials ranked by the primary metric: a {@link Leaderboard}. */
export const LEADERBOARD_JSON = 'leaderboard.json';
/** The same as a Markdown table. */
export const LEADERBOARD_MD = 'leaderboard.md';
/** The same with charts. */
export const LEADERBOARD_HTML = 'leaderboard.html';
/** sweep.stop: each trial's primary metric at each evaluation during training, `<trial>.json` (an IntermediateFile of core/run/sweep-stop.ts). */
export const INTERMEDIATE_DIR = 'intermediate';

// ── The records ───────────────────────────────────────────────────────────────────────────────

/** How a run ended. */
export type RunStatus = RunSummary['status'];

/** Metrics per model: `{ base: { "mrr@1": 0.36, … }, finetuned: { … } }`. */
export type ModelMetrics = Record<string, Record<string, number>>;

/** The Δs of a run and their intervals, as metrics.json holds them (reports read the same fields). */
export type RunDeltas = Pick<RunMetrics, 'delta' | 'delta_merged' | 'delta_ci' | 'delta_merged_ci' | 'sets_delta_ci'>;

/** metrics.json. */
export interface RunMetrics {
  models: ModelMetrics;
  delta?: Record<string, number>;
  /** training.merge: merged − base per metric, when both were evaluated (`delta` stays fine-tuned − base). */
  delta_merged?: Record<string, number>;
  /** Per metric of `delta`: its 95% paired bootstrap interval over the queries, randomization test p-value and whether it is significant (core/stats.ts). */
  delta_ci?: Record<string, DeltaInterval>;
  /** The same for `delta_merged`. */
  delta_merged_ci?: Record<string, DeltaInterval>;
  /** `evaluate.sets`: the same per set, per model compared with base: `{ general: { finetuned: { "mrr@1": {…} }, merged: {…} } }`. */
  sets_delta_ci?: Record<string, Record<string, Record<string, DeltaInterval>>>;
  /** How the intervals were computed (method, confidence, resamples, permutations, seed, alpha) and over how many queries. */
  ci?: IntervalsInfo;
  primary: string;
  /** `evaluate.dims`: metrics per model per truncated dimension, `{ base: { "64": { "mrr@1": … } } }`; the `models` metrics stay the full-dimension ones. */
  dims?: Record<string, Record<string, Record<string, number>>>;
  /** `evaluate.sets`: the name of the primary set (whose metrics `models` holds). */
  primary_set?: string;
  /** `evaluate.sets`: metrics per set per model, `{ general: { base: { "mrr@1": … } } }`. */
  sets?: Record<string, ModelMetrics>;
  /** Training stopped before its last step: training.early_stopping (rule `patience`, status ok) or sweep.stop (rule `median`, status `stopped`). */
  early_stop?: EarlyStopRecord;
  /** A {@link RunStatus}; readers show `unknown` when it is missing. */
  status: RunStatus | string;
}

/** env.json (status `running` while the run is in progress). */
export interface RunEnv {
  ftrun_version: string;
  node: string;
  platform: string;
  cpu: string;
  cores: number;
  started_at: string;
  /** null while the run is in progress. */
  finished_at: string | null;
  status: 'running' | RunStatus;
  seed: number;
  run_id: string;
  /** The experiment file as the user named it (kept across resumes, which load resolved.yaml). */
  config_file: string;
  /** The directory the experiment's relative paths resolve against. */
  base_dir: string;
  argv: string[];
  /** Seconds per stage (sub-timings such as `base_encode` may overlap their stage). */
  timings: Record<string, number>;
  /** Each loaded encoder's facts (`Encoder.info`), by model. */
  encoders: Record<string, Record<string, unknown>>;
  /** Set by `ftrun resume`. */
  resumed_at?: string;
  /** `ftrun run --tag` (kept by resume); `ftrun ls --tag` filters on them. */
  tags?: string[];
  /** `ftrun run --note`. */
  note?: string;
  /** How training ran (the engine's facts and the training summary), when the run trained. */
  training?: Record<string, unknown>;
  /** Where the dataset came from, as its plugin's info() says (an hf dataset's revision, a generated set's counts). */
  dataset?: Record<string, unknown>;
  /** training.merge: base_weight, the merged model's directory (model_dir), the base model's (base_dir), tensors averaged, onnx_file. */
  merge?: Record<string, unknown>;
  /** With status `failed`. */
  error?: { message: string; code: ErrorCode | undefined };
  /** The stage (events.jsonl `stage_start`: `dataset`, `load_base`, `evaluate_base`, `train`…) the run was in when it ended without finishing (failed, interrupted, stopped); absent when it finished. */
  stage?: string;
  /** A run that ended without finishing between two stages (no stage open): the last stage that ended before. */
  after_stage?: string;
  /** Training stopped before its last step (as metrics.json `early_stop`). */
  early_stop?: EarlyStopRecord;
}

/** One line of per_query.jsonl. */
export interface PerQuery {
  model: string;
  /** The evaluation set of `evaluate.sets` the query belongs to; absent for the primary set (the dataset's eval queries). */
  set?: string;
  query_id: string;
  text: string;
  expected: string[];
  /** The best `max(evaluate.k)` documents, best first, with cosine similarity scores. */
  top: Array<{ id: string; score: number }>;
  metrics: Record<string, number>;
}

/** One line of events.jsonl. */
export type { RunEvent };

/** One line of summary.jsonl (sink `json`). */
export interface SummaryLine {
  name: string;
  run_dir: string;
  status: RunStatus;
  primary: string;
  models: ModelMetrics;
  delta: Record<string, number>;
  /** training.merge: merged − base. */
  delta_merged?: Record<string, number>;
  timings: Record<string, number>;
}

/**
 * Trial status in sweep.json: `pending`, `running`, a {@link RunStatus}, or, for a trial that has
 * not started, `queued` (a sweep on a queue) or `missing` (collect, status).
 */
export type TrialStatus = string;

/** One trial in sweep.json. */
export interface SweepTrialRecord {
  index: number;
  overrides: Record<string, unknown>;
  /** May be absolute, and stale when the sweep was moved: readers then use `trials/<index>`. */
  run_dir: string;
  status: TrialStatus;
  /** Prepared sweeps (`ftrun plan --prepare`, queues): the trial's resolved config, hashed. */
  config_hash?: string;
}

/** sweep.json. */
export interface SweepRecord {
  name: string;
  config_file: string;
  /** The --set flags the sweep was started with (what `ftrun resume <sweep-dir>` needs). */
  sets: string[];
  primary: string;
  trials: SweepTrialRecord[];
  /** Queued sweeps: the queue's URL. */
  queue?: string;
  /** `ftrun run --tag` / `--note` of the sweep (each trial's env.json has them too). */
  tags?: string[];
  note?: string;
}

/** sweep.json as readers take it: any field may be missing (an older or hand-edited file) but a trial's index. */
export type SweepRecordAsRead = Partial<Omit<SweepRecord, 'trials'>> & { trials?: Array<Pick<SweepTrialRecord, 'index'> & Partial<SweepTrialRecord>> };

/** One trial in leaderboard.json. */
export interface LeaderboardEntry {
  /** 1-based; null for trials that are not ranked (not ok, or no value for the primary metric). */
  rank: number | null;
  index: number;
  overrides: Record<string, unknown>;
  run_dir: string;
  status: string;
  /** The model whose metrics rank this trial (`finetuned` or `base`). */
  model: string | null;
  /** Its primary metric value. */
  value: number | null;
  /** Primary metric, fine-tuned − base, when both were evaluated. */
  delta: number | null;
  /** The interval and p-value of `delta` (the trial's metrics.json `delta_ci` of the primary metric). */
  delta_ci?: DeltaInterval;
  /**
   * This trial − the best trial (rank 1), per metric of their ranking model, paired per query from
   * both trials' per_query.jsonl: the mean difference with its interval and p-value. Absent on the
   * best trial and when the two have no query in common.
   */
  vs_best?: { trial: number; queries: number; only_trial: number; only_best: number; metrics: Record<string, { delta: number } & DeltaInterval> };
  /** All metrics of `model`. */
  metrics: Record<string, number>;
  /** A trial that did not finish (failed, interrupted, stopped): the stage it was in and why (its env.json `stage`, and `error.message` or the stopping rule's verdict). */
  stage?: string;
  /** A run that ended without finishing between two stages (no stage open): the last stage that ended before. */
  after_stage?: string;
  error?: string;
  /** training.merge: the primary metric of the trial's `merged` model and its merged − base difference (absent when it has none). */
  merged?: { value: number | null; delta: number | null; ci?: DeltaInterval };
  /** `evaluate.sets`: per evaluation set, the primary metric of `model` and its difference from base there, and the merged model's (training.merge); `ci`: the difference's interval (metrics.json `sets_delta_ci`). */
  sets?: Record<string, { value: number | null; delta: number | null; ci?: DeltaInterval; merged?: { value: number | null; delta: number | null; ci?: DeltaInterval } }>;
}

/** leaderboard.json. */
export interface Leaderboard {
  primary: string;
  trials: LeaderboardEntry[];
}

/** A trial's run directory: `<sweep-dir>/trials/<index>`. */
export function trialRunDir(sweepDir: string, index: number): string {
  return join(sweepDir, TRIALS_DIR, String(index));
}
