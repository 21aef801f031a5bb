/**
 * ONNX export of a Hugging Face BERT encoder (BertModel), written by the project itself (our own
 * protobuf encoder, no ONNX package): reads config.json + model.safetensors (names with or without
 * a `bert.` prefix) and writes, atomically, an opset ≥ 17 model with dynamic batch and sequence
 * dimensions: inputs input_ids / attention_mask / token_type_ids (int64 [batch, sequence]), output
 * last_hidden_state (float32 [batch, sequence, hidden]) and, on request, sentence_embedding
 * (sentence-transformers pooling + Normalize). The graph itself is built in bert-graph.ts.
 * Weights the encoder does not use (pooler, task heads) are not exported. See docs/export.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../core/errors.js';
import { FTRUN_VERSION } from '../../core/version.js';
import { writeFileAtomic } from '../../core/fsutil.js';
import { readSafetensors } from '../../core/safetensors.js';
import { bertWeightShapes, parseBertConfig } from '../model/bert-config.js';
import { buildBertOnnx, type SentenceEmbeddingOutput } from './bert-graph.js';

export interface OnnxExportOptions {
  /** ONNX opset, 17 (default) to 21. */
  opset?: number;
  /** Also output `sentence_embedding` [batch, hidden]: pooling over the attention mask, then optional L2 normalization. */
  sentenceEmbedding?: SentenceEmbeddingOutput;
}

export const DEFAULT_OPSET = 17;
/** Opsets the exporter writes (LayerNormalization needs 17). */
export const SUPPORTED_OPSETS = [17, 18, 19, 20, 21];

/** Export `modelDir` (config.json + model.safetensors) to the ONNX file `outFile` (written atomically). */
export async function exportBertOnnx(modelDir: string, outFile: string, opts: OnnxExportOptions = {}): Promise<void> {
  writeFileAtomic(outFile, bertOnnxBytes(modelDir, opts));
}

/** The encoded ONNX model of `modelDir` (config.json + model.safetensors), e.g. to serve it without writing a file. */
export function bertOnnxBytes(modelDir: string, opts: OnnxExportOptions = {}): Uint8Array {
  const opset = opts.opset ?? DEFAULT_OPSET;
  if (!SUPPORTED_OPSETS.includes(opset)) throw new UserError('E_CONFIG', `ONNX export: unsupported opset ${opset}; supported: ${SUPPORTED_OPSETS.join(', ')}`);
  const configFile = join(modelDir, 'config.json');
  const weightsFile = join(modelDir, 'model.safetensors');
  for (const f of [configFile, weightsFile]) {
    if (!existsSync(f)) throw new UserError('E_MODEL', `ONNX export: ${f} not found (expected a Hugging Face BERT directory with config.json and model.safetensors)`);
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new UserError('E_MODEL', `${configFile}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  const cfg = parseBertConfig(json, configFile);
  const tensors = readSafetensors(weightsFile);
  const prefix = tensors.has('embeddings.word_embeddings.weight') || !tensors.has('bert.embeddings.word_embeddings.weight') ? '' : 'bert.';
  const weights = new Map<string, Float32Array>();
  for (const [name, shape] of bertWeightShapes(cfg)) {
    const t = tensors.get(prefix + name);
    if (!t) throw new UserError('E_MODEL', `${weightsFile}: missing BERT weight ${prefix + name}`);
    if (t.shape.join(',') !== shape.join(',')) throw new UserError('E_MODEL', `${weightsFile}: weight ${prefix + name} has shape [${t.shape}], config.json implies [${shape}]`);
    weights.set(name, t.data);
  }
  return buildBertOnnx(cfg, weights, { opset, producerVersion: FTRUN_VERSION, ...(opts.sentenceEmbedding ? { sentenceEmbedding: opts.sentenceEmbedding } : {}) });
}
