/**
 * A BERT encoder (Hugging Face BertModel: word + position + token-type embeddings, LayerNorm,
 * post-LN encoder layers, exact-erf GELU, additive attention mask) built from tfjs ops, with
 * weights from a HF model directory (config.json + model.safetensors, names with or without a
 * `bert.` prefix). Every weight the encoder uses is a trainable tf.Variable; tensors it does not
 * use (pooler, task heads) are kept untouched and written back by saveBertWeights.
 *
 * Only model_type "bert" with hidden_act "gelu" and absolute positions is supported (BertModel:
 * bge-*, all-MiniLM-*, e5-* checkpoints); anything else is a UserError E_MODEL.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../../core/errors.js';
import { readSafetensors, writeSafetensors, type SafeTensor, type TensorToWrite } from '../../../core/safetensors.js';
import { bertWeightShapes, parseBertConfig, SUPPORTED_MODELS, type BertConfig } from '../../../engine/model/bert-config.js';
import { bmm, dense, dropout, embeddingLookup, gelu, layerNorm } from './ops.js';

export { bertWeightShapes, parseBertConfig, SUPPORTED_MODELS, type BertConfig } from '../../../engine/model/bert-config.js';

/** Token ids as produced by Tokenizer.encodeBatch (rows padded to one length). */
export interface BertInputs {
  inputIds: number[][];
  attentionMask: number[][];
  tokenTypeIds?: number[][];
}

export interface ForwardOptions {
  /** Training mode: dropout active (with `seed`). */
  training?: boolean;
  /** Dropout seed for this call; by default a per-model counter. */
  seed?: number;
  /**
   * Compute the last layer for the first ([CLS]) token only and return [batch, 1, hidden]: exact
   * for CLS pooling, and it skips most of the last layer's work.
   */
  firstTokenOnly?: boolean;
}

/** Additive mask value of masked keys, torch.finfo(float32).min as in Hugging Face. */
const MASK_MIN = -3.4028234663852886e38;

let instances = 0;

export class BertModel {
  /** Trainable weights by their name in the weights file (prefix included, if the file had one). */
  readonly weights = new Map<string, tf.Variable>();
  /** Tensors of the weights file the encoder does not use (pooler, heads…), written back unchanged. */
  readonly extras = new Map<string, SafeTensor>();
  private readonly w: (name: string) => tf.Variable;
  private dropoutCounter = 0;

  private constructor(readonly config: BertConfig, tensors: Map<string, { shape: number[]; data: Float32Array }>, readonly prefix: string, source: string) {
    const id = ++instances;
    const shapes = bertWeightShapes(config);
    const missing = [...shapes.keys()].filter((n) => !tensors.has(prefix + n));
    if (missing.length > 0) {
      const more = missing.length > 3 ? ` and ${missing.length - 3} more` : '';
      throw new UserError('E_MODEL', `${source}: missing BERT weights ${missing.slice(0, 3).join(', ')}${more}; ${SUPPORTED_MODELS}`);
    }
    for (const [name, shape] of shapes) {
      const t = tensors.get(prefix + name)!;
      if (t.shape.join(',') !== shape.join(',')) {
        throw new UserError('E_MODEL', `${source}: weight ${prefix + name} has shape [${t.shape}], config.json implies [${shape}]`);
      }
      const init = tf.tensor(t.data, shape, 'float32');
      this.weights.set(prefix + name, tf.variable(init, true, `bert${id}/${prefix + name}`));
      init.dispose();
    }
    for (const [name, t] of tensors) {
      if (!this.weights.has(name)) this.extras.set(name, { dtype: 'dtype' in t ? (t as SafeTensor).dtype : 'F32', shape: t.shape, data: t.data });
    }
    this.w = (name) => this.weights.get(prefix + name)!;
  }

  /** Build from decoded tensors (e.g. readSafetensors); `source` names the file in errors. */
  static fromTensors(config: BertConfig, tensors: Map<string, { shape: number[]; data: Float32Array }>, source = 'model.safetensors'): BertModel {
    const prefix = tensors.has('embeddings.word_embeddings.weight') || !tensors.has('bert.embeddings.word_embeddings.weight') ? '' : 'bert.';
    return new BertModel(config, tensors, prefix, source);
  }

  /** Load config.json + model.safetensors from a Hugging Face model directory. */
  static load(dir: string, weightsFile = join(dir, 'model.safetensors')): BertModel {
    const cfgPath = join(dir, 'config.json');
    if (!existsSync(cfgPath)) throw new UserError('E_MODEL', `${dir}: no config.json (not a Hugging Face model directory)`);
    if (!existsSync(weightsFile)) {
      const alt = existsSync(join(dir, 'pytorch_model.bin')) ? ' (only pytorch_model.bin is present: convert it to safetensors)' : '';
      throw new UserError('E_MODEL', `${dir}: no model.safetensors${alt}`);
    }
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new UserError('E_MODEL', `${cfgPath}: unreadable JSON: ${(e as Error).message}`, { cause: e });
    }
    return BertModel.fromTensors(parseBertConfig(json, cfgPath), readSafetensors(weightsFile), weightsFile);
  }

  /** Random weights (normal, std 0.02; LayerNorm 1/0; biases 0), e.g. for benchmarks. */
  static random(config: BertConfig, seed = 0): BertModel {
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    let s = seed;
    for (const [name, shape] of bertWeightShapes(config)) {
      const data = tf.tidy(() => {
        if (name.endsWith('LayerNorm.weight')) return tf.ones(shape);
        if (shape.length === 1) return tf.zeros(shape);
        return tf.randomNormal(shape, 0, 0.02, 'float32', ++s);
      });
      tensors.set(name, { shape, data: data.dataSync() as Float32Array });
      data.dispose();
    }
    return BertModel.fromTensors(config, tensors, 'random weights');
  }

  /** The trainable variables, in HF order. */
  get trainableVariables(): tf.Variable[] {
    return [...this.weights.values()];
  }

  /** Last hidden state [batch, seq, hidden]. Differentiable w.r.t. every weight. */
  forward(inputs: BertInputs, opts: ForwardOptions = {}): tf.Tensor3D {
    const cfg = this.config;
    const B = inputs.inputIds.length;
    const S = inputs.inputIds[0]?.length ?? 0;
    if (B === 0 || S === 0) throw new Error('BertModel.forward: empty batch');
    if (S > cfg.maxPositions) throw new Error(`BertModel.forward: sequence length ${S} exceeds max_position_embeddings ${cfg.maxPositions}`);
    const training = opts.training ?? false;
    let seed = opts.seed ?? 0x5eed + 7919 * this.dropoutCounter++;
    const drop = (x: tf.Tensor, rate: number): tf.Tensor => (training && rate > 0 ? dropout(x, rate, seed++) : x);
    const H = cfg.hiddenSize;
    const N = B * S;

    return tf.tidy(() => {
      const ids = int2d(inputs.inputIds, B, S);
      const types = inputs.tokenTypeIds ? int2d(inputs.tokenTypeIds, B, S) : tf.zeros([B, S], 'int32');
      const mask = tf.tensor2d(inputs.attentionMask.flat(), [B, S], 'float32');
      const maskAdd = tf.reshape(tf.mul(tf.sub(1, mask), MASK_MIN), [B, 1, 1, S]);

      const words = tf.reshape(embeddingLookup(this.w('embeddings.word_embeddings.weight') as tf.Tensor2D, ids), [B, S, H]);
      const pos = tf.slice(this.w('embeddings.position_embeddings.weight'), [0, 0], [S, H]);
      const tt = embeddingLookup(this.w('embeddings.token_type_embeddings.weight') as tf.Tensor2D, types);
      const emb = tf.reshape(tf.add(tf.add(words, pos), tt), [N, H]);
      let h = drop(layerNorm(emb, this.v1('embeddings.LayerNorm.weight'), this.v1('embeddings.LayerNorm.bias'), cfg.layerNormEps), cfg.hiddenDropout) as tf.Tensor2D;

      const last = cfg.numLayers - 1;
      for (let l = 0; l < last; l++) h = this.layer(`encoder.layer.${l}.`, h, h, maskAdd, B, S, S, drop);
      if (!opts.firstTokenOnly) return tf.reshape(this.layer(`encoder.layer.${last}.`, h, h, maskAdd, B, S, S, drop), [B, S, H]);
      const first = tf.reshape(tf.slice(tf.reshape(h, [B, S, H]), [0, 0, 0], [B, 1, H]), [B, H]) as tf.Tensor2D;
      return tf.reshape(this.layer(`encoder.layer.${last}.`, first, h, maskAdd, B, 1, S, drop), [B, 1, H]);
    });
  }

  private v1(name: string): tf.Tensor1D {
    return this.w(name) as tf.Tensor as tf.Tensor1D;
  }

  private dense(p: string, x: tf.Tensor2D): tf.Tensor2D {
    return dense(x, this.w(p + '.weight') as tf.Tensor2D, this.v1(p + '.bias'));
  }

  /**
   * One post-LN encoder layer. `hq` [B·Sq, H] are the rows whose outputs are wanted (queries and
   * residual stream), `hkv` [B·Sk, H] the rows attended to (the same tensor except for the last
   * layer of a firstTokenOnly pass).
   */
  private layer(
    p: string, hq: tf.Tensor2D, hkv: tf.Tensor2D, maskAdd: tf.Tensor, B: number, Sq: number, Sk: number,
    drop: (x: tf.Tensor, r: number) => tf.Tensor,
  ): tf.Tensor2D {
    const cfg = this.config;
    const nh = cfg.numHeads;
    const d = cfg.hiddenSize / nh;
    const eps = cfg.layerNormEps;
    const heads = (x: tf.Tensor2D, S: number, perm: number[], shape: [number, number, number]) =>
      tf.reshape(tf.transpose(tf.reshape(x, [B, S, nh, d]), perm), shape) as tf.Tensor3D;

    const q = heads(tf.mul(this.dense(p + 'attention.self.query', hq), 1 / Math.sqrt(d)), Sq, [0, 2, 1, 3], [B * nh, Sq, d]);
    const k = heads(this.dense(p + 'attention.self.key', hkv), Sk, [0, 2, 1, 3], [B * nh, Sk, d]);
    const v = heads(this.dense(p + 'attention.self.value', hkv), Sk, [0, 2, 1, 3], [B * nh, Sk, d]);
    const scores = tf.add(tf.reshape(bmm(q, k, false, true), [B, nh, Sq, Sk]), maskAdd);
    const probs = drop(tf.softmax(scores), cfg.attentionDropout);
    const ctx = bmm(tf.reshape(probs, [B * nh, Sq, Sk]) as tf.Tensor3D, v);
    const merged = tf.reshape(tf.transpose(tf.reshape(ctx, [B, nh, Sq, d]), [0, 2, 1, 3]), [B * Sq, nh * d]) as tf.Tensor2D;
    const h = hq;

    const attnOut = drop(this.dense(p + 'attention.output.dense', merged), cfg.hiddenDropout);
    const h1 = layerNorm(tf.add(attnOut, h), this.v1(p + 'attention.output.LayerNorm.weight'), this.v1(p + 'attention.output.LayerNorm.bias'), eps) as tf.Tensor2D;
    const inter = gelu(this.dense(p + 'intermediate.dense', h1)) as tf.Tensor2D;
    const out = drop(this.dense(p + 'output.dense', inter), cfg.hiddenDropout);
    return layerNorm(tf.add(out, h1), this.v1(p + 'output.LayerNorm.weight'), this.v1(p + 'output.LayerNorm.bias'), eps) as tf.Tensor2D;
  }

  /** Current weights (and untouched extras) by their file names, as float32 host arrays. */
  exportTensors(): Map<string, TensorToWrite> {
    const out = new Map<string, TensorToWrite>();
    for (const [name, v] of this.weights) out.set(name, { shape: v.shape, data: v.dataSync() as Float32Array });
    for (const [name, t] of this.extras) if (isFloat(t.dtype)) out.set(name, { shape: t.shape, data: t.data });
    return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  dispose(): void {
    for (const v of this.weights.values()) v.dispose();
    this.weights.clear();
  }
}

const isFloat = (dtype: string): boolean => dtype === 'F32' || dtype === 'F16' || dtype === 'BF16' || dtype === 'F64';

function int2d(rows: number[][], B: number, S: number): tf.Tensor2D {
  const flat = new Int32Array(B * S);
  rows.forEach((r, i) => {
    if (r.length !== S) throw new Error(`BertModel.forward: row ${i} has ${r.length} tokens, expected ${S} (pad the batch)`);
    flat.set(r, i * S);
  });
  return tf.tensor2d(flat, [B, S], 'int32');
}

/**
 * Write the model's weights as model.safetensors with the original names (integer buffers such
 * as position_ids are dropped; everything else, pooler included, is written as F32).
 */
export function saveBertWeights(model: BertModel, path: string, metadata: Record<string, string> = { format: 'pt' }): void {
  writeSafetensors(path, model.exportTensors(), metadata);
}
