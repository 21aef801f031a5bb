/**
 * The ONNX graphs the `ort` trainer runs, generated from a BERT config (weights are graph
 * inputs, so one session serves every step while the weights change on the host):
 *
 * - forward (`mode: 'train'`): token ids, the float attention mask, every encoder weight and, when
 *   the config has dropout, the keep-masks (0 or 1/(1−p), drawn on the host) → `last_hidden_state`
 *   [B, S, H] plus the activations the backward graph needs (`saved.*`);
 * - forward (`mode: 'eval'`): the same without masks or saved activations (evaluation during
 *   training);
 * - backward: the saved activations, the masks, the weights and ∂loss/∂last_hidden_state → the
 *   gradient of every encoder weight except the three embedding tables, and `d_embeddings`
 *   [B·S, H], the gradient at word + position + token-type embedding sum, which the host
 *   scatter-adds into the (row-sparse) tables.
 *
 * Hidden states are kept as [B·S, H] matrices, so each Linear layer is one Gemm with the weight
 * in its Hugging Face layout [out, in] (transB = 1) and each weight gradient one Gemm with
 * transA = 1 ([out, N]·[N, in]) — no weight is ever transposed. Layer by layer the backward pass is:
 *   LayerNorm: x̂ = (z − μ)·r, g = dy·γ, dz = r·(g − mean(g) − x̂·mean(g·x̂)), dγ = Σ dy·x̂, dβ = Σ dy
 *   GELU (erf): dh = dy·(Φ(h) + h·φ(h))
 *   attention: dP = dC·Vᵀ, dV = Pᵀ·dC, dS = P·(dP − Σ dP·P), dQ = dS·K/√d, dK = dSᵀ·Q/√d
 * exactly the maths of the tfjs ops (plugins/backend/tfjs/ops.ts), whose gradients test/plugins/backend/ort checks these against.
 */
import type { BertConfig } from '../../../engine/model/bert-config.js';
import { bertWeightShapes } from '../../../engine/model/bert-config.js';
import { attr, GraphBuilder } from '../../../engine/export/graph.js';
import { DataType, encodeModel, type ValueInfo } from '../../../engine/export/onnx-proto.js';

export const TRAIN_OPSET = 17;

/** torch.finfo(float32).min, the additive mask value of Hugging Face BERT. */
const MASK_MIN = -3.4028234663852886e38;

/** Weights the graphs read (names without the file's prefix); the embedding tables are gathered on the host side of the backward pass. */
export const EMBEDDING_TABLES = ['embeddings.word_embeddings.weight', 'embeddings.position_embeddings.weight', 'embeddings.token_type_embeddings.weight'] as const;

export interface TrainGraphOptions {
  /** Dropout keep-mask inputs (`mask.*`): hidden dropout > 0 and attention dropout > 0. */
  hiddenDropout: boolean;
  attentionDropout: boolean;
}

/** Names of the dropout mask inputs, in the order the tfjs encoder draws them (see masks.ts). */
export function maskNames(cfg: BertConfig, opts: TrainGraphOptions): Array<{ name: string; kind: 'hidden' | 'attention' }> {
  const out: Array<{ name: string; kind: 'hidden' | 'attention' }> = [];
  if (opts.hiddenDropout) out.push({ name: 'mask.embeddings', kind: 'hidden' });
  for (let l = 0; l < cfg.numLayers; l++) {
    if (opts.attentionDropout) out.push({ name: `mask.${l}.probs`, kind: 'attention' });
    if (opts.hiddenDropout) out.push({ name: `mask.${l}.attention_output`, kind: 'hidden' }, { name: `mask.${l}.output`, kind: 'hidden' });
  }
  return out;
}

/** Names and dims ('B', 'S', 'N' symbolic) of the activations the forward pass saves for the backward pass. */
export function savedValues(cfg: BertConfig): Array<{ name: string; shape: Array<number | string> }> {
  const H = cfg.hiddenSize;
  const nh = cfg.numHeads;
  const out: Array<{ name: string; shape: Array<number | string> }> = [
    { name: 'saved.emb.z', shape: ['N', H] },
    { name: 'saved.emb.mean', shape: ['N', 1] },
    { name: 'saved.emb.rstd', shape: ['N', 1] },
  ];
  for (let l = 0; l < cfg.numLayers; l++) {
    const p = `saved.${l}.`;
    out.push(
      { name: `${p}q`, shape: ['N', H] },
      { name: `${p}k`, shape: ['N', H] },
      { name: `${p}v`, shape: ['N', H] },
      { name: `${p}probs`, shape: ['B', nh, 'S', 'S'] },
      { name: `${p}z1`, shape: ['N', H] },
      { name: `${p}mean1`, shape: ['N', 1] },
      { name: `${p}rstd1`, shape: ['N', 1] },
      { name: `${p}h`, shape: ['N', cfg.intermediateSize] },
      { name: `${p}z2`, shape: ['N', H] },
      { name: `${p}mean2`, shape: ['N', 1] },
      { name: `${p}rstd2`, shape: ['N', 1] },
    );
  }
  return out;
}

/** Weight gradients the backward graph outputs (`grad.<name>`), in HF order. */
export function gradientNames(cfg: BertConfig): string[] {
  return [...bertWeightShapes(cfg).keys()].filter((n) => !(EMBEDDING_TABLES as readonly string[]).includes(n));
}

const floatInput = (name: string, shape: Array<number | string>): ValueInfo => ({ name, elemType: DataType.FLOAT, shape });

function weightInputs(cfg: BertConfig, names: Iterable<string>): ValueInfo[] {
  const shapes = bertWeightShapes(cfg);
  return [...names].map((n) => floatInput(n, shapes.get(n)!));
}

function encode(g: GraphBuilder, name: string, inputs: ValueInfo[], outputs: ValueInfo[], producerVersion: string): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opsetImports: [{ domain: '', version: TRAIN_OPSET }],
    producerName: 'ftrun',
    producerVersion,
    graph: { name, nodes: g.nodes, initializers: g.initializers, inputs, outputs },
  }).finish();
}

/** Shared helpers of both graphs. */
class Ops {
  readonly H: number;
  readonly nh: number;
  readonly d: number;
  /** int64 [4]: (−1, S, heads, head dim) and (−1, H). */
  headShape = '';
  flatShape = '';

  constructor(readonly g: GraphBuilder, readonly cfg: BertConfig) {
    this.H = cfg.hiddenSize;
    this.nh = cfg.numHeads;
    this.d = this.H / this.nh;
  }

  /** Shape constants from the sequence length S (an int64 [1] value). */
  shapes(seqLen: string): void {
    const g = this.g;
    this.headShape = g.op('Concat', [g.int64s([-1]), seqLen, g.int64s([this.nh, this.d])], [attr.int('axis', 0)]);
    this.flatShape = g.int64s([-1, this.H]);
  }

  linear(x: string, w: string, b: string): string {
    return this.g.op('Gemm', [x, w, b], [attr.int('transB', 1)]);
  }

  /** [N, H] → [B, heads, S, d] (perm [0, 2, 1, 3]) or [B, heads, d, S] (perm [0, 2, 3, 1]). */
  split(x: string, perm: number[]): string {
    return this.g.op('Transpose', [this.g.op('Reshape', [x, this.headShape])], [attr.ints('perm', perm)]);
  }

  /** [B, heads, S, d] → [N, H]. */
  merge(x: string): string {
    return this.g.op('Reshape', [this.g.op('Transpose', [x], [attr.ints('perm', [0, 2, 1, 3])]), this.flatShape]);
  }

  mul(a: string, b: string): string {
    return this.g.op('Mul', [a, b]);
  }

  add(a: string, b: string): string {
    return this.g.op('Add', [a, b]);
  }

  layerNorm(z: string, gamma: string, beta: string, out?: { y?: string; mean: string; rstd: string }): { y: string; mean: string; rstd: string } {
    const g = this.g;
    const names = [out?.y ?? g.name('ln'), out?.mean ?? g.name('ln_mean'), out?.rstd ?? g.name('ln_rstd')];
    const [y, mean, rstd] = g.opMulti('LayerNormalization', [z, gamma, beta], names, [attr.int('axis', -1), attr.float('epsilon', this.cfg.layerNormEps), attr.int('stash_type', 1)]);
    return { y: y!, mean: mean!, rstd: rstd! };
  }

  /** Φ(h) = 0.5·(1 + erf(h/√2)). */
  cdf(h: string): string {
    const g = this.g;
    return g.op('Mul', [g.op('Add', [g.op('Erf', [g.op('Mul', [h, g.scalar(Math.SQRT1_2)])]), g.scalar(1)]), g.scalar(0.5)]);
  }

  private ones = '';

  /** Sum over rows: [N, k] → [k], as ones[1, N]·x (a GEMV, much faster than ReduceSum over axis 0). */
  colSum(x: string, out?: string): string {
    const g = this.g;
    if (!this.ones) {
      const n = g.op('Shape', [x], [attr.int('start', 0), attr.int('end', 1)]);
      const one = { name: 'one', dataType: DataType.FLOAT, dims: [1], raw: new Uint8Array(Float32Array.of(1).buffer) };
      this.ones = g.op('ConstantOfShape', [g.op('Concat', [g.int64s([1]), n], [attr.int('axis', 0)])], [{ name: 'value', type: 'tensor', value: one }]);
    }
    return g.op('Reshape', [g.op('MatMul', [this.ones, x]), g.int64s([-1])], [], out);
  }

  /** LayerNorm backward: returns dz; writes dγ, dβ to the given output names. */
  layerNormGrad(dy: string, z: string, mean: string, rstd: string, gamma: string, dGamma: string, dBeta: string, xhatIn?: string): { dz: string; xhat: string } {
    const g = this.g;
    const xhat = xhatIn ?? this.mul(g.op('Sub', [z, mean]), rstd);
    this.colSum(this.mul(dy, xhat), dGamma);
    this.colSum(dy, dBeta);
    const gy = this.mul(dy, gamma);
    const meanGy = g.reduce('ReduceMean', gy, [-1], true);
    const meanGyX = g.reduce('ReduceMean', this.mul(gy, xhat), [-1], true);
    const dz = this.mul(rstd, g.op('Sub', [g.op('Sub', [gy, meanGy]), this.mul(xhat, meanGyX)]));
    return { dz, xhat };
  }
}

/**
 * The forward graph. `train`: outputs the saved activations and takes the dropout masks;
 * `eval`: last_hidden_state only.
 */
export function buildForwardGraph(cfg: BertConfig, mode: 'train' | 'eval', opts: TrainGraphOptions, producerVersion: string): Uint8Array {
  const g = new GraphBuilder(TRAIN_OPSET);
  const o = new Ops(g, cfg);
  const H = cfg.hiddenSize;
  const train = mode === 'train';
  const hiddenDrop = train && opts.hiddenDropout;
  const attnDrop = train && opts.attentionDropout;
  /** Name a value the train graph saves: the producing node writes straight into the graph output. */
  const named = (name: string): string | undefined => (train ? name : undefined);

  const seqLen = g.op('Shape', ['input_ids'], [attr.int('start', 1), attr.int('end', 2)]);
  o.shapes(seqLen);
  const positions = g.op('Slice', ['embeddings.position_embeddings.weight', g.int64s([0]), seqLen, g.int64s([0])]);
  const words = g.op('Gather', ['embeddings.word_embeddings.weight', 'input_ids'], [attr.int('axis', 0)]);
  const types = g.op('Gather', ['embeddings.token_type_embeddings.weight', 'token_type_ids'], [attr.int('axis', 0)]);
  const z0 = g.op('Reshape', [g.op('Add', [g.op('Add', [words, positions]), types]), o.flatShape], [], named('saved.emb.z'));
  const ln0 = o.layerNorm(z0, 'embeddings.LayerNorm.weight', 'embeddings.LayerNorm.bias', train ? { mean: 'saved.emb.mean', rstd: 'saved.emb.rstd' } : undefined);
  let x = hiddenDrop ? o.mul(ln0.y, 'mask.embeddings') : ln0.y;

  const additive = g.op('Mul', [g.op('Sub', [g.scalar(1), 'attention_mask']), g.scalar(MASK_MIN)]);
  const mask4 = g.op('Unsqueeze', [additive, g.int64s([1, 2])]);
  const scale = g.scalar(1 / Math.sqrt(o.d));

  for (let l = 0; l < cfg.numLayers; l++) {
    const p = `encoder.layer.${l}.`;
    const s = `saved.${l}.`;
    const xin = x;
    const proj = (n: string, out: string) => g.op('Gemm', [xin, `${p}attention.self.${n}.weight`, `${p}attention.self.${n}.bias`], [attr.int('transB', 1)], named(out));
    const q = proj('query', `${s}q`);
    const k = proj('key', `${s}k`);
    const v = proj('value', `${s}v`);
    const scores = o.add(o.mul(g.op('MatMul', [o.split(q, [0, 2, 1, 3]), o.split(k, [0, 2, 3, 1])]), scale), mask4);
    const probs = g.op('Softmax', [scores], [attr.int('axis', -1)], named(`${s}probs`));
    const dropped = attnDrop ? o.mul(probs, `mask.${l}.probs`) : probs;
    const ctxh = g.op('Transpose', [g.op('MatMul', [dropped, o.split(v, [0, 2, 1, 3])])], [attr.ints('perm', [0, 2, 1, 3])]);
    const ctx = g.op('Reshape', [ctxh, o.flatShape]);
    let ao = o.linear(ctx, `${p}attention.output.dense.weight`, `${p}attention.output.dense.bias`);
    if (hiddenDrop) ao = o.mul(ao, `mask.${l}.attention_output`);
    const z1 = g.op('Add', [ao, xin], [], named(`${s}z1`));
    const ln1 = o.layerNorm(z1, `${p}attention.output.LayerNorm.weight`, `${p}attention.output.LayerNorm.bias`, train ? { mean: `${s}mean1`, rstd: `${s}rstd1` } : undefined);
    const h = g.op('Gemm', [ln1.y, `${p}intermediate.dense.weight`, `${p}intermediate.dense.bias`], [attr.int('transB', 1)], named(`${s}h`));
    const gelu = o.mul(h, o.cdf(h));
    let out = o.linear(gelu, `${p}output.dense.weight`, `${p}output.dense.bias`);
    if (hiddenDrop) out = o.mul(out, `mask.${l}.output`);
    const z2 = g.op('Add', [out, ln1.y], [], named(`${s}z2`));
    x = o.layerNorm(z2, `${p}output.LayerNorm.weight`, `${p}output.LayerNorm.bias`, train ? { mean: `${s}mean2`, rstd: `${s}rstd2` } : undefined).y;
  }
  const hiddenShape = g.op('Concat', [g.int64s([-1]), seqLen, g.int64s([H])], [attr.int('axis', 0)]);
  g.op('Reshape', [x, hiddenShape], [], 'last_hidden_state');

  const ids = (name: string): ValueInfo => ({ name, elemType: DataType.INT64, shape: ['B', 'S'] });
  const inputs: ValueInfo[] = [ids('input_ids'), ids('token_type_ids'), floatInput('attention_mask', ['B', 'S']), ...weightInputs(cfg, bertWeightShapes(cfg).keys())];
  if (train) inputs.push(...maskInputs(cfg, { hiddenDropout: hiddenDrop, attentionDropout: attnDrop }));
  const outputs = [floatInput('last_hidden_state', ['B', 'S', H])];
  if (train) outputs.push(...savedValues(cfg).map((v) => floatInput(v.name, v.shape)));
  return encode(g, `bert_forward_${mode}`, inputs, outputs, producerVersion);
}

function maskInputs(cfg: BertConfig, opts: TrainGraphOptions): ValueInfo[] {
  return maskNames(cfg, opts).map((m) => floatInput(m.name, m.kind === 'hidden' ? ['N', cfg.hiddenSize] : ['B', cfg.numHeads, 'S', 'S']));
}

/** The backward graph: saved activations + masks + weights + d_last_hidden_state → weight gradients and d_embeddings. */
export function buildBackwardGraph(cfg: BertConfig, opts: TrainGraphOptions, producerVersion: string): Uint8Array {
  const g = new GraphBuilder(TRAIN_OPSET);
  const o = new Ops(g, cfg);
  const H = cfg.hiddenSize;
  const seqLen = g.op('Shape', ['attention_mask'], [attr.int('start', 1), attr.int('end', 2)]);
  o.shapes(seqLen);
  const scale = g.scalar(1 / Math.sqrt(o.d));
  const T = (x: string, perm: number[]) => g.op('Transpose', [x], [attr.ints('perm', perm)]);
  const used = new Set<string>(['embeddings.LayerNorm.weight']);
  const w = (name: string): string => (used.add(name), name);

  // x̂ of a LayerNorm from its saved input, mean and 1/std (shared by the LayerNorm's backward
  // and the recomputed layer input it produced).
  const xhats = new Map<string, string>();
  const xhat = (z: string, mean: string, rstd: string): string => {
    if (!xhats.has(z)) xhats.set(z, o.mul(g.op('Sub', [z, mean]), rstd));
    return xhats.get(z)!;
  };
  /** The input of layer l, recomputed: LayerNorm output of layer l − 1, or the embeddings' (after dropout). */
  const layerInput = (l: number): string => {
    if (l > 0) {
      const p = `encoder.layer.${l - 1}.`;
      const s = `saved.${l - 1}.`;
      return o.add(o.mul(xhat(`${s}z2`, `${s}mean2`, `${s}rstd2`), w(`${p}output.LayerNorm.weight`)), w(`${p}output.LayerNorm.bias`));
    }
    const y0 = o.add(o.mul(xhat('saved.emb.z', 'saved.emb.mean', 'saved.emb.rstd'), 'embeddings.LayerNorm.weight'), w('embeddings.LayerNorm.bias'));
    return opts.hiddenDropout ? o.mul(y0, 'mask.embeddings') : y0;
  };

  let dy = g.op('Reshape', ['d_last_hidden_state', o.flatShape]);
  for (let l = cfg.numLayers - 1; l >= 0; l--) {
    const p = `encoder.layer.${l}.`;
    const s = `saved.${l}.`;
    const G = (n: string) => `grad.${p}${n}`;
    // Output LayerNorm, dropout, residual.
    const ln2 = o.layerNormGrad(dy, `${s}z2`, `${s}mean2`, `${s}rstd2`, w(`${p}output.LayerNorm.weight`), G('output.LayerNorm.weight'), G('output.LayerNorm.bias'), xhat(`${s}z2`, `${s}mean2`, `${s}rstd2`));
    const dOut = opts.hiddenDropout ? o.mul(ln2.dz, `mask.${l}.output`) : ln2.dz;
    // Feed-forward: output dense (input GELU(h)), GELU, intermediate dense (input y1).
    const h = `${s}h`;
    const cdf = o.cdf(h);
    const gelu = o.mul(h, cdf);
    g.op('Gemm', [dOut, gelu], [attr.int('transA', 1)], G('output.dense.weight'));
    o.colSum(dOut, G('output.dense.bias'));
    const dGelu = g.op('MatMul', [dOut, w(`${p}output.dense.weight`)]);
    const pdf = g.op('Mul', [g.op('Exp', [g.op('Mul', [g.op('Mul', [h, h]), g.scalar(-0.5)])]), g.scalar(1 / Math.sqrt(2 * Math.PI))]);
    const dh = o.mul(dGelu, o.add(cdf, o.mul(h, pdf)));
    const xhat1 = o.mul(g.op('Sub', [`${s}z1`, `${s}mean1`]), `${s}rstd1`);
    const y1 = o.add(o.mul(xhat1, w(`${p}attention.output.LayerNorm.weight`)), w(`${p}attention.output.LayerNorm.bias`));
    g.op('Gemm', [dh, y1], [attr.int('transA', 1)], G('intermediate.dense.weight'));
    o.colSum(dh, G('intermediate.dense.bias'));
    const dy1 = o.add(ln2.dz, g.op('MatMul', [dh, w(`${p}intermediate.dense.weight`)]));
    // Attention-output LayerNorm, dropout, residual.
    const ln1 = o.layerNormGrad(dy1, `${s}z1`, `${s}mean1`, `${s}rstd1`, `${p}attention.output.LayerNorm.weight`, G('attention.output.LayerNorm.weight'), G('attention.output.LayerNorm.bias'));
    const dAo = opts.hiddenDropout ? o.mul(ln1.dz, `mask.${l}.attention_output`) : ln1.dz;
    // Attention: C = P'·V with P' = P·mask, P = softmax(Q·Kᵀ/√d + additive mask); C recomputed.
    const probs = `${s}probs`;
    const dropped = opts.attentionDropout ? o.mul(probs, `mask.${l}.probs`) : probs;
    const ctx = o.merge(g.op('MatMul', [dropped, o.split(`${s}v`, [0, 2, 1, 3])]));
    g.op('Gemm', [dAo, ctx], [attr.int('transA', 1)], G('attention.output.dense.weight'));
    o.colSum(dAo, G('attention.output.dense.bias'));
    const dCtx = o.split(g.op('MatMul', [dAo, w(`${p}attention.output.dense.weight`)]), [0, 2, 1, 3]);
    const dDropped = g.op('MatMul', [dCtx, o.split(`${s}v`, [0, 2, 3, 1])]);
    const dV = g.op('MatMul', [T(dropped, [0, 1, 3, 2]), dCtx]);
    const dP = opts.attentionDropout ? o.mul(dDropped, `mask.${l}.probs`) : dDropped;
    const dS = o.mul(o.mul(probs, g.op('Sub', [dP, g.reduce('ReduceSum', o.mul(dP, probs), [-1], true)])), scale);
    const dQ = g.op('MatMul', [dS, o.split(`${s}k`, [0, 2, 1, 3])]);
    const dK = g.op('MatMul', [T(dS, [0, 1, 3, 2]), o.split(`${s}q`, [0, 2, 1, 3])]);
    let dx = ln1.dz;
    const xin = layerInput(l);
    for (const [name, grad] of [['query', dQ], ['key', dK], ['value', dV]] as const) {
      const d2 = o.merge(grad);
      g.op('Gemm', [d2, xin], [attr.int('transA', 1)], G(`attention.self.${name}.weight`));
      o.colSum(d2, G(`attention.self.${name}.bias`));
      dx = o.add(dx, g.op('MatMul', [d2, w(`${p}attention.self.${name}.weight`)]));
    }
    dy = dx;
  }
  // Embedding dropout and LayerNorm; the gradient at the embedding sum goes back to the host.
  const dLn0 = opts.hiddenDropout ? o.mul(dy, 'mask.embeddings') : dy;
  const ln0 = o.layerNormGrad(dLn0, 'saved.emb.z', 'saved.emb.mean', 'saved.emb.rstd', 'embeddings.LayerNorm.weight', 'grad.embeddings.LayerNorm.weight', 'grad.embeddings.LayerNorm.bias', xhat('saved.emb.z', 'saved.emb.mean', 'saved.emb.rstd'));
  g.op('Identity', [ln0.dz], [], 'd_embeddings');
  // Σ g² of each weight gradient, in gradientNames order (the global norm without a host pass).
  const sq = gradientNames(cfg).map((n) => g.op('Reshape', [g.op('ReduceSumSquare', [`grad.${n}`], [attr.int('keepdims', 0)]), g.int64s([1])]));
  g.op('Concat', sq, [attr.int('axis', 0)], 'grad_sumsq');

  const shapes = bertWeightShapes(cfg);
  const inputs: ValueInfo[] = [
    floatInput('attention_mask', ['B', 'S']),
    floatInput('d_last_hidden_state', ['B', 'S', H]),
    ...weightInputs(cfg, [...shapes.keys()].filter((n) => used.has(n))),
    ...maskInputs(cfg, opts),
    ...savedValues(cfg).map((v) => floatInput(v.name, v.shape)),
  ];
  const outputs: ValueInfo[] = [
    ...gradientNames(cfg).map((n) => floatInput(`grad.${n}`, shapes.get(n)!)),
    floatInput('d_embeddings', ['N', H]),
    floatInput('grad_sumsq', [gradientNames(cfg).length]),
  ];
  return encode(g, 'bert_backward', inputs, outputs, producerVersion);
}
