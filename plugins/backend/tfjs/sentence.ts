/**
 * A sentence-transformers model on tfjs: tokenizer (prompts, max_seq_length) → BertModel →
 * pooling (cls / mean / max) → optional L2 normalize, all differentiable, so `forward` can sit
 * inside tf.variableGrads / optimizer.minimize. `embed` is the batched inference path.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelLayout } from '../../../engine/model/layout.js';
import { Tokenizer } from '../../../engine/tokenizer.js';
import type { TextKind } from '../../../core/types.js';
import { BertModel, saveBertWeights, type BertInputs, type ForwardOptions } from './bert.js';
import { l2Normalize, poolTf } from './pooling.js';

export class TfjsSentenceModel {
  private constructor(
    readonly layout: ModelLayout,
    readonly bert: BertModel,
    readonly tokenizer: Tokenizer,
  ) {}

  /** Load weights (model.safetensors) and tokenizer of a model directory read by loadModelLayout. */
  static load(layout: ModelLayout): TfjsSentenceModel {
    const tokenizer = Tokenizer.fromFile(layout.tokenizerFile);
    const bert = BertModel.load(layout.dir, layout.weightsFile);
    return new TfjsSentenceModel(layout, bert, tokenizer);
  }

  /** Wrap an existing encoder (e.g. random weights for benchmarks). */
  static fromParts(layout: ModelLayout, bert: BertModel, tokenizer: Tokenizer): TfjsSentenceModel {
    return new TfjsSentenceModel(layout, bert, tokenizer);
  }

  get dim(): number {
    return this.bert.config.hiddenSize;
  }

  get trainableVariables(): tf.Variable[] {
    return this.bert.trainableVariables;
  }

  /** Token ids for texts (the query/document prompt prepended), truncated to max_seq_length. */
  tokenize(texts: string[], kind?: TextKind): BertInputs {
    const prompt = kind === 'query' ? this.layout.queryPrompt : kind === 'document' ? this.layout.documentPrompt : '';
    const max = Math.min(this.layout.maxSeqLength, this.bert.config.maxPositions);
    return this.tokenizer.encodeBatch(prompt ? texts.map((t) => prompt + t) : texts, max);
  }

  /** Sentence embeddings [batch, dim] (pooled, normalized if the model normalizes). */
  forward(inputs: BertInputs, opts: ForwardOptions = {}): tf.Tensor2D {
    return tf.tidy(() => {
      const mode = this.layout.pooling;
      const hidden = this.bert.forward(inputs, { ...opts, firstTokenOnly: mode === 'cls' });
      const [B, S] = [inputs.inputIds.length, hidden.shape[1]];
      const mask = tf.tensor2d(inputs.attentionMask.map((r) => r.slice(0, S)).flat(), [B, S], 'float32');
      const pooled = poolTf(hidden, mask, mode);
      return this.layout.normalize ? l2Normalize(pooled) : pooled;
    });
  }

  /** Inference: embeddings of texts, in order, batched by similar length. */
  embed(texts: string[], kind?: TextKind, batchSize = 32, onProgress?: (done: number, total: number) => void): Float32Array[] {
    const prompt = kind === 'query' ? this.layout.queryPrompt : kind === 'document' ? this.layout.documentPrompt : '';
    const order = texts.map((_, i) => i).sort((a, b) => (prompt + texts[b]!).length - (prompt + texts[a]!).length);
    const out = new Array<Float32Array>(texts.length);
    for (let i = 0; i < order.length; i += batchSize) {
      const idx = order.slice(i, i + batchSize);
      const inputs = this.tokenize(idx.map((j) => texts[j]!), kind);
      const emb = this.forward(inputs);
      const data = emb.dataSync() as Float32Array;
      emb.dispose();
      idx.forEach((j, r) => (out[j] = data.slice(r * this.dim, (r + 1) * this.dim)));
      onProgress?.(Math.min(i + batchSize, texts.length), texts.length);
    }
    return out;
  }

  /** Write model.safetensors (original tensor names) to `path`. */
  saveWeights(path: string): void {
    saveBertWeights(this.bert, path);
  }

  dispose(): void {
    this.bert.dispose();
  }
}
