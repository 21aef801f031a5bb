/**
 * 'ftrun/engine': the engine kit — the model machinery that training engines share, and the parts
 * of core's contract an engine implements or calls. A backend, built in (plugins/backend/) or a
 * plugin package of its own, needs nothing of ftrun's but this entry and 'ftrun':
 *
 *   import { definePlugin, UserError, type BackendPlugin } from 'ftrun';
 *   import { resolveModelDir, loadModelLayout, Tokenizer, trainFull, type FullTrainingEngine, type TrainingSession } from 'ftrun/engine';
 *
 * engine/ holds the tokenizer, model directories (hub download, layout, BERT config, pooling,
 * saving in Hugging Face + sentence-transformers layout), the ONNX exporter, the optimizers and
 * full fine-tuning as engines run it (trainFull); engine/adapter/ is the adapter training method,
 * which runs on any encoder (core/builtins.ts loads it). Everything here may import core/, nothing
 * here imports plugins/; core/ imports none of it (docs/concepts.md, "Where code lives").
 */

// The engine contract (core/): what an engine implements, and the loop that drives it.
export type { BackendPlugin, EncodeOptions, Encoder, Example, Examples, ExampleShape, Logger, ModelSpec, Progress, RunContext, TextKind, TrainingEvent, TrainLoss, TrainRequest, TrainResult } from '../core/types.js';
export { dropoutSeed, runTraining, type TrainerOutcome, type TrainerRequest, type TrainingSession } from '../core/train/trainer.js';
export { hfDecay, NonFiniteLossError, type StepResult } from '../core/train/engine.js';
export { chunkSeed, columnSeed, lossBatch, lossGradients, LossSeam, type ColumnTrainer, type GradFn, type SeededColumn } from '../core/train/seam.js';
export { lossColumns, negativesOf, type ColumnRole, type ColumnValues, type LossColumns, type TextColumn } from '../core/train/columns.js';
export type { Embedder } from '../core/train/evaluator.js';
export { readTrainingConfig, type FullTrainingConfig } from '../core/train/training-schema.js';

// The checkpoint format (core/): optimizer state by weight name, weights as safetensors.
export type { AdamWParamState, AdamWState, OptimizerHyper } from '../core/train/optimizer-state.js';
export { f16ToF32, readSafetensors, readSafetensorsHeader, SAFETENSORS_DTYPES, writeSafetensors, type HeaderEntry, type SafeTensor, type SafetensorsHeader, type TensorToWrite } from '../core/safetensors.js';
export { deriveSeed, mixSeed, mulberry32 } from '../core/rng.js';

// Full fine-tuning as engines run it: the shared loop, then the model saved and exported.
export { trainFull, type FullTrainingEngine } from './train/full.js';

// Models: tokenizer, hub download, directory layout, BERT config, pooling, saving.
export { Tokenizer, type PaddedBatch } from './tokenizer.js';
export { hfCacheDir, resolveModelDir, type ResolveOptions, type WeightFormat } from './model/hub.js';
export { loadModelLayout, ONNX_CANDIDATES, type ModelLayout } from './model/layout.js';
export { bertWeightShapes, parseBertConfig, SUPPORTED_MODELS, type BertConfig } from './model/bert-config.js';
export { normalizeRowsBackward, normalizeRowsHost, poolAndNormalize, POOLING_MODES, poolRows, poolRowsBackward, type PooledRows, type PoolingMode } from './model/pooling.js';
export { saveSentenceTransformer } from './model/model-dir.js';

// ONNX: the BERT exporter, the graph builder and the protobuf writer under it.
export { bertOnnxBytes, DEFAULT_OPSET, exportBertOnnx, SUPPORTED_OPSETS, type OnnxExportOptions } from './export/onnx.js';
export { buildBertOnnx, irVersionFor, type BertGraphOptions, type SentenceEmbeddingOutput } from './export/bert-graph.js';
export { attr, GraphBuilder } from './export/graph.js';
export { DataType, encodeAttribute, encodeGraph, encodeModel, encodeNode, encodeTensor, encodeValueInfo, type Attribute, type Graph as OnnxGraph, type Model as OnnxModel, type Node as OnnxNode, type Tensor as OnnxTensor, type ValueInfo } from './export/onnx-proto.js';
export { littleEndianBytes, PROTOBUF_MAX_BYTES, ProtoWriter } from './export/protobuf.js';

// Optimizers: AdamW as torch (tfjs and host Float32Array), clipping by global norm.
export { AdamW, type AdamWConfig } from './train/optim.js';
export { HostAdamW, type HostParam } from './train/host-adamw.js';
export { clipCoef, clipGradNorm, globalNorm, type ClipResult, type NormType } from './train/clip.js';
