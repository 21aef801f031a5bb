/**
 * The ONNX graph of a Hugging Face BertModel (post-LN encoder, erf GELU, additive attention mask),
 * built with GraphBuilder from float32 weights in HF layout, encoded as an ONNX ModelProto.
 *
 * Embeddings = LayerNorm(Gather(word, input_ids) + Gather(token type, token_type_ids) +
 * Slice(position table, 0..sequence)); per layer: Q/K/V = MatMul + Add, heads by Reshape
 * [0, 0, heads, head_dim] + Transpose, scores / sqrt(head_dim) + (1 − mask)·finfo(float32).min,
 * Softmax, output projection, residual + LayerNormalization, then the erf-GELU feed-forward with
 * its residual + LayerNormalization. The patterns are the ones ONNX Runtime fuses (Add +
 * LayerNormalization → SkipLayerNormalization, bias + erf GELU → BiasGelu). See docs/export.md.
 */
import type { PoolingMode } from '../model/pooling.js';
import type { BertConfig } from '../model/bert-config.js';
import { attr, GraphBuilder } from './graph.js';
import { DataType, encodeModel, type ValueInfo } from './onnx-proto.js';
import { PROTOBUF_MAX_BYTES } from './protobuf.js';

/** Optional pooled output: sentence-transformers Pooling over the attention mask, then Normalize. */
export interface SentenceEmbeddingOutput {
  pooling: PoolingMode;
  normalize: boolean;
}

export interface BertGraphOptions {
  opset: number;
  producerVersion: string;
  sentenceEmbedding?: SentenceEmbeddingOutput;
}

/** torch.finfo(float32).min, the additive mask value of Hugging Face BERT. */
const MASK_MIN = -3.4028234663852886e38;

/** IR version matching an opset (the oldest IR that carries it). */
export function irVersionFor(opset: number): number {
  return opset <= 17 ? 8 : opset <= 20 ? 9 : 10;
}

/** The encoded ONNX model of a BERT with `cfg` and its weights (HF names without prefix, HF layouts). */
export function buildBertOnnx(cfg: BertConfig, weights: Map<string, Float32Array>, opts: BertGraphOptions): Uint8Array {
  const { opset, sentenceEmbedding: pooling } = opts;
  const g = new GraphBuilder(opset);
  const H = cfg.hiddenSize;
  const heads = cfg.numHeads;
  const headDim = H / heads;
  const w = (name: string, dims: number[]) => g.floatTensor(name, dims, weights.get(name)!);
  const eps = attr.float('epsilon', cfg.layerNormEps);
  const layerNorm = (x: string, p: string, out?: string) => g.op('LayerNormalization', [x, w(`${p}.weight`, [H]), w(`${p}.bias`, [H])], [attr.int('axis', -1), eps], out);
  const linear = (x: string, p: string, inDim: number, outDim: number) => {
    const wt = g.floatTensor(`${p}.weight.T`, [inDim, outDim], transpose(weights.get(`${p}.weight`)!, outDim, inDim));
    return g.op('Add', [g.op('MatMul', [x, wt]), w(`${p}.bias`, [outDim])]);
  };

  // Embeddings: word + token type + positions 0..sequence-1, then LayerNorm.
  const seqLen = g.op('Shape', ['input_ids'], [attr.int('start', 1), attr.int('end', 2)]);
  const positions = g.op('Slice', [w('embeddings.position_embeddings.weight', [cfg.maxPositions, H]), g.int64s([0]), seqLen, g.int64s([0])]);
  const words = g.op('Gather', [w('embeddings.word_embeddings.weight', [cfg.vocabSize, H]), 'input_ids'], [attr.int('axis', 0)]);
  const types = g.op('Gather', [w('embeddings.token_type_embeddings.weight', [cfg.typeVocabSize, H]), 'token_type_ids'], [attr.int('axis', 0)]);
  let x = layerNorm(g.op('Add', [g.op('Add', [words, types]), positions]), 'embeddings.LayerNorm');

  // Additive attention mask [batch, 1, 1, sequence]: 0 where attended, finfo.min where padded.
  const maskF = g.op('Cast', ['attention_mask'], [attr.int('to', DataType.FLOAT)]);
  const additive = g.op('Mul', [g.op('Sub', [g.scalar(1), maskF]), g.scalar(MASK_MIN)]);
  const mask4 = g.op('Unsqueeze', [additive, g.int64s([1, 2])]);
  const headShape = g.int64s([0, 0, heads, headDim]);
  const mergedShape = g.int64s([0, 0, H]);
  const scale = g.scalar(Math.sqrt(headDim));

  for (let l = 0; l < cfg.numLayers; l++) {
    const p = `encoder.layer.${l}`;
    const split = (t: string, perm: number[]) => g.op('Transpose', [g.op('Reshape', [t, headShape])], [attr.ints('perm', perm)]);
    const q = split(linear(x, `${p}.attention.self.query`, H, H), [0, 2, 1, 3]);
    const k = split(linear(x, `${p}.attention.self.key`, H, H), [0, 2, 3, 1]);
    const v = split(linear(x, `${p}.attention.self.value`, H, H), [0, 2, 1, 3]);
    const scores = g.op('Add', [g.op('Div', [g.op('MatMul', [q, k]), scale]), mask4]);
    const probs = g.op('Softmax', [scores], [attr.int('axis', -1)]);
    const ctx = g.op('Transpose', [g.op('MatMul', [probs, v])], [attr.ints('perm', [0, 2, 1, 3])]);
    const attnOut = linear(g.op('Reshape', [ctx, mergedShape]), `${p}.attention.output.dense`, H, H);
    const x1 = layerNorm(g.op('Add', [attnOut, x]), `${p}.attention.output.LayerNorm`);
    const h = linear(x1, `${p}.intermediate.dense`, H, cfg.intermediateSize);
    // (h · 0.5) · (1 + erf(h / √2)): the order ONNX Runtime's Gelu fusion recognizes.
    const erf = g.op('Erf', [g.op('Div', [h, g.scalar(Math.SQRT2)])]);
    const gelu = g.op('Mul', [g.op('Mul', [h, g.scalar(0.5)]), g.op('Add', [erf, g.scalar(1)])]);
    const out = linear(gelu, `${p}.output.dense`, cfg.intermediateSize, H);
    x = layerNorm(g.op('Add', [out, x1]), `${p}.output.LayerNorm`, l === cfg.numLayers - 1 ? 'last_hidden_state' : undefined);
  }
  if (cfg.numLayers === 0) x = g.op('Identity', [x], [], 'last_hidden_state');

  const ids = (name: string): ValueInfo => ({ name, elemType: DataType.INT64, shape: ['batch', 'sequence'] });
  const outputs: ValueInfo[] = [{ name: 'last_hidden_state', elemType: DataType.FLOAT, shape: ['batch', 'sequence', H] }];
  if (pooling) {
    poolSentence(g, x, maskF, pooling);
    outputs.push({ name: 'sentence_embedding', elemType: DataType.FLOAT, shape: ['batch', H] });
  }
  const model = encodeModel({
    irVersion: irVersionFor(opset),
    opsetImports: [{ domain: '', version: opset }],
    producerName: 'ftrun',
    producerVersion: opts.producerVersion,
    docString: `BERT encoder (hidden ${H}, ${cfg.numLayers} layers, ${heads} heads) exported by ftrun`,
    graph: {
      name: 'bert',
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [ids('input_ids'), ids('attention_mask'), ids('token_type_ids')],
      outputs,
      // Slice's output length is the sequence length; saying so lets shape inference match the
      // residual Adds' shapes, so ONNX Runtime fuses Add + LayerNormalization (SkipLayerNormalization).
      valueInfo: [{ name: positions, elemType: DataType.FLOAT, shape: ['sequence', H] }],
    },
  });
  if (model.byteLength > PROTOBUF_MAX_BYTES) {
    throw new Error(`ONNX export: the model is ${model.byteLength} bytes, over protobuf's 2 GiB limit (external data is not supported)`);
  }
  return model.finish();
}

/** sentence-transformers Pooling (+ Normalize) over `hidden` [B, S, H] with the float mask [B, S]. */
function poolSentence(g: GraphBuilder, hidden: string, maskF: string, p: SentenceEmbeddingOutput): void {
  let pooled: string;
  if (p.pooling === 'cls') {
    pooled = g.op('Gather', [hidden, g.int64s([0])], [attr.int('axis', 1)]); // [B, 1, H]
    pooled = g.op('Squeeze', [pooled, g.int64s([1])]);
  } else {
    const m3 = g.op('Unsqueeze', [maskF, g.int64s([2])]); // [B, S, 1]
    if (p.pooling === 'mean') {
      const sum = g.reduce('ReduceSum', g.op('Mul', [hidden, m3]), [1], false);
      const count = g.op('Max', [g.reduce('ReduceSum', m3, [1], false), g.scalar(1e-9)]);
      pooled = g.op('Div', [sum, count]);
    } else {
      const masked = g.op('Where', [g.op('Cast', [m3], [attr.int('to', DataType.BOOL)]), hidden, g.scalar(-1e9)]);
      pooled = g.reduce('ReduceMax', masked, [1], false);
    }
  }
  if (p.normalize) {
    const norm = g.op('Max', [g.reduce('ReduceL2', pooled, [1], true), g.scalar(1e-12)]);
    g.op('Div', [pooled, norm], [], 'sentence_embedding');
  } else {
    g.op('Identity', [pooled], [], 'sentence_embedding');
  }
}

/** [rows, cols] row-major → [cols, rows]. */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = a[base + c]!;
  }
  return out;
}
