/**
 * ftrun's public API: what a plugin (in its own file or npm package) imports from 'ftrun'.
 *
 *   import { definePlugin, UserError, type SinkPlugin, type RunContext } from 'ftrun';
 *
 * Loading this module loads no model or training code (the type exports are types only).
 */
export { definePlugin, type DefinedPlugin, type PluginDefinition, type PluginInstance } from './plugin.js';
export { UserError, formatProblem, isUserError, type ErrorCode, type Problem } from './errors.js';
export { configAjv, PATH_FORMAT } from './config/ajv.js';
export { FTRUN_VERSION } from './version.js';
export type {
  BackendPlugin, CheckContext, DatasetData, DatasetPlugin, Doc, EncodeOptions, Encoder, Example, ExampleShape, ExampleValue, Examples,
  IneffectiveOption, JsonSchema, Logger, MinerPlugin, ModelSpec, OptionProblem, PluginClass, Progress, Query, QueryResult,
  RecordSample, RunContext, RunEvent, RunEventMap, RunEventType, RunSummary, SearchHit, SinkPlugin, SplitResult, SplitterPlugin, StageCapabilities,
  StageName, StagePlugins, StorePlugin, TextKind, TrainingEvent, TrainingEventMap, TrainLoss, TrainRequest, TrainResult,
} from './types.js';
export type { LossBatch, LossPlugin } from './train/loss.js';
