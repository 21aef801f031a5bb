/**
 * The training methods, as one typed table that the config layer (schema, defaults, what to
 * trim from resolved configs), validation (cross-stage checks) and the runner (how it trains,
 * which encoder evaluates the result) all read. Adding a method is adding a row: the
 * `Record<TrainingMethod, …>` makes the compiler point at it everywhere else.
 *
 * How each method runs is imported lazily, so reading the table (validate, plan, schema) loads
 * no training code.
 */
import { join } from 'node:path';
import type { ExperimentConfig, TrainingMethod } from '../config/types.js';
import { ADAPTER_DEFAULT_LR, ADAPTER_SCHEMA } from './adapter-schema.js';
import { FULL_DEFAULT_LR, MERGE_SCHEMA, TRAINING_SCHEMA } from './training-schema.js';
import type { BackendPlugin, DatasetData, Encoder, Examples, ModelSpec, RunContext, SplitResult, JsonSchema, TrainingEvent, TrainLoss, TrainResult } from '../types.js';
import { ADAPTER_DIR, CHECKPOINTS_DIR, MERGED_DIR, MODEL_DIR } from '../run/records.js';
import type { Pruner } from './early-stopping.js';

/** What a method's run receives from the runner. */
export interface MethodInput {
  config: ExperimentConfig;
  ctx: RunContext;
  resume: boolean;
  data: DatasetData;
  split: SplitResult;
  examples: Examples;
  backend: BackendPlugin;
  /** The loss: type, options and the plugin's reference implementation. */
  loss: TrainLoss;
  /** The frozen base encoder, when the method keeps it (`keepsBaseEncoder`). */
  baseEncoder?: Encoder;
  onEvent(event: TrainingEvent): void;
  /** A sweep trial's stopping rule (sweep.stop). */
  prune?: Pruner;
}

export interface TrainingMethodSpec {
  /** One sentence for the schema's `method` description. */
  description: string;
  /** Options of `training:` only this method has (JSON Schemas by key), besides the shared ones of TRAINING_SCHEMA. */
  options?: Record<string, JsonSchema>;
  /** Whether the method produces a tuned model (needs a loss and examples; `finetuned` can be compared). */
  trains: boolean;
  /** Whether the backend must be a training engine (its class says `canTrain`). */
  needsTrainingEngine: boolean;
  /** Whether bundled (frozen-graph) models can be trained this way. */
  frozenModels: boolean;
  /** Whether the base encoder stays loaded through training (the method trains on top of it). */
  keepsBaseEncoder: boolean;
  /** Options of `training:` the method reads; the others are left out of resolved configs. */
  uses(option: string): boolean;
  /** training.learning_rate when the file says none (methods that train). */
  learningRate?: number;
  /** The run directory entry that holds what it produces. */
  output?: 'model' | 'adapter';
  /** Train (undefined for methods that do not train). */
  run?(input: MethodInput): Promise<TrainResult>;
  /** The encoder of the result, from the base model spec and the training result. */
  tunedEncoder?(config: ExperimentConfig, result: TrainResult, load: (spec: ModelSpec) => Promise<Encoder>): Promise<Encoder>;
  /**
   * training.merge: write the weight average of the base and the tuned model (<run>/merged) and
   * return the spec that loads it. Only methods that change the encoder's own weights have it.
   */
  merge?(config: ExperimentConfig, result: TrainResult, ctx: RunContext): Promise<MergedModel>;
}

/** What training.merge wrote: the spec that loads the merged model, and facts for env.json. */
export interface MergedModel {
  spec: ModelSpec;
  info: Record<string, unknown>;
}

/** The methods that have training.merge (weight averaging needs the encoder's own weights changed). */
export const MERGE_METHODS = (): TrainingMethod[] => TRAINING_METHOD_NAMES.filter((m) => TRAINING_METHODS[m].merge !== undefined);

function common(input: MethodInput) {
  const { config, ctx, split, data } = input;
  return {
    examples: input.examples,
    training: config.training,
    test: split.test,
    corpus: data.corpus,
    metrics: config.evaluate.metrics,
    k: config.evaluate.k,
    primary: config.evaluate.primary,
    checkpointDir: join(ctx.runDir, CHECKPOINTS_DIR),
    resume: input.resume,
    onEvent: input.onEvent,
    ...(input.prune ? { prune: input.prune } : {}),
  };
}

export const TRAINING_METHODS: Record<TrainingMethod, TrainingMethodSpec> = {
  none: {
    description: '`none` evaluates the base model only',
    trains: false,
    needsTrainingEngine: false,
    frozenModels: true,
    keepsBaseEncoder: false,
    uses: (option) => option === 'method',
  },
  full: {
    description: '`full` fine-tunes every weight of the encoder (a training backend: tfjs or ort)',
    trains: true,
    needsTrainingEngine: true,
    frozenModels: false,
    keepsBaseEncoder: false,
    options: { merge: MERGE_SCHEMA },
    uses: (option) => option !== 'adapter',
    learningRate: FULL_DEFAULT_LR,
    output: 'model',
    async run(input) {
      const { UserError } = await import('../errors.js');
      const { backend, config, ctx } = input;
      if (!backend.train) throw new UserError('E_CONFIG', `backend ${config.backend.type} cannot train`);
      return backend.train({ ...common(input), model: config.model, loss: input.loss, outDir: join(ctx.runDir, MODEL_DIR) });
    },
    async tunedEncoder(config, result, load) {
      const { id: _id, revision: _rev, bundled: _b, ...rest } = config.model;
      return load({ ...rest, path: result.modelDir });
    },
    async merge(config, result, ctx) {
      const { mergeModelDirs } = await (await import('../builtins.js')).mergeMethod.merge();
      const { base_weight } = config.training.merge as { base_weight: number };
      const out = await mergeModelDirs({
        model: config.model,
        ctx,
        tunedDir: result.modelDir,
        outDir: join(ctx.runDir, MERGED_DIR),
        baseWeight: base_weight,
        exportOnnx: config.training.export_onnx !== false,
      });
      const { id: _id, revision: _rev, bundled: _b, ...rest } = config.model;
      return {
        spec: { ...rest, path: out.modelDir },
        info: {
          base_weight,
          model_dir: out.modelDir,
          base_dir: out.baseDir,
          tensors: out.tensors,
          ...(out.onnxFile ? { onnx_file: out.onnxFile } : {}),
          ...(out.onnxError ? { onnx_error: out.onnxError } : {}),
        },
      };
    },
  },
  adapter: {
    description: '`adapter` learns a small map on top of the frozen encoder (any backend, bundled models too)',
    trains: true,
    needsTrainingEngine: false,
    frozenModels: true,
    keepsBaseEncoder: true,
    options: { adapter: ADAPTER_SCHEMA },
    // training.merge averages the encoder's weights, which an adapter leaves as they are
    uses: (option) => option !== 'merge',
    learningRate: ADAPTER_DEFAULT_LR,
    output: 'adapter',
    async run(input) {
      if (!input.baseEncoder) throw new Error('adapter training needs the base encoder');
      const { trainAdapter } = await (await import('../builtins.js')).adapterMethod.train();
      const { ctx, config } = input;
      return trainAdapter({
        ...common(input),
        encoder: input.baseEncoder,
        loss: input.loss.reference,
        outDir: join(ctx.runDir, ADAPTER_DIR),
        logger: ctx.logger,
        progress: ctx.progress,
        signal: ctx.signal,
        seed: config.seed,
        model: config.model,
      });
    },
    async tunedEncoder(config, result, load) {
      const { loadAdapterEncoder } = await (await import('../builtins.js')).adapterMethod.encoder();
      return loadAdapterEncoder(await load(config.model), result.modelDir);
    },
  },
};

export const TRAINING_METHOD_NAMES = Object.keys(TRAINING_METHODS) as TrainingMethod[];

/** The JSON Schema of `training:`: the shared options, every method's own, and the method enum. */
export function trainingSchema(): JsonSchema {
  const props = TRAINING_SCHEMA.properties as Record<string, JsonSchema>;
  const method = {
    ...props.method,
    enum: [...TRAINING_METHOD_NAMES],
    description: `Training method: ${TRAINING_METHOD_NAMES.map((m) => TRAINING_METHODS[m].description).join('; ')}.`,
  };
  const own = Object.assign({}, ...TRAINING_METHOD_NAMES.map((m) => TRAINING_METHODS[m].options ?? {})) as Record<string, JsonSchema>;
  return { ...TRAINING_SCHEMA, properties: { ...props, method, ...own } };
}

export function methodOf(config: { training: { method: TrainingMethod } }): TrainingMethodSpec {
  return TRAINING_METHODS[config.training.method];
}
