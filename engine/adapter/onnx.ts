/**
 * One ONNX file for a tuned ONNX model: the base model's graph, unchanged, followed by
 * sentence-transformers pooling over the attention mask (when the base outputs token vectors),
 * the base's Normalize (when it has one), the adapter and an L2 normalisation. Outputs:
 *   sentence_embedding  [batch, dim]  the adapted, normalised vector (what queries get)
 *   document_embedding  [batch, dim]  apply_to query only: the base vector (what documents get)
 * The base model is spliced at the protobuf level (its weights are copied byte for byte, never
 * decoded): its outputs are replaced by these, and the adapter nodes and weights (names prefixed
 * `ftrun_adapter/`) are appended with the base's opset. Written to <outDir>/onnx/model.onnx with the
 * base's tokenizer and config files beside it, so the `ort` backend loads <outDir> as a model.
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { attr, GraphBuilder } from '../export/graph.js';
import { DataType, encodeNode, encodeTensor, encodeValueInfo } from '../export/onnx-proto.js';
import { ProtoWriter, PROTOBUF_MAX_BYTES } from '../export/protobuf.js';
import { writeFileAtomic } from '../../core/fsutil.js';
import type { PoolingMode } from '../model/pooling.js';
import type { Encoder } from '../../core/types.js';
import type { AdapterWeights } from './model.js';
import { firstBytes, readFields, strings, text, writeField, type WireField } from './proto-read.js';
import type { AdapterApplyTo } from '../../core/train/adapter-schema.js';

/** What the export needs to know of an ONNX base encoder (the `ort` backend reports it in `info`). */
export interface OnnxBase {
  onnxFile: string;
  /** The graph output the encoder reads. */
  output: string;
  pooling: PoolingMode;
  normalize: boolean;
  /** Directory whose tokenizer and config files are copied beside the export. */
  modelDir: string;
}

/** The ONNX base of an encoder served by the `ort` backend; undefined for other encoders. */
export function onnxBaseOf(encoder: Encoder): OnnxBase | undefined {
  const i = encoder.info;
  if (i.backend !== 'ort' || i.adapter !== undefined) return undefined;
  if (typeof i.onnx_file !== 'string' || typeof i.output !== 'string' || typeof i.model_dir !== 'string') return undefined;
  return { onnxFile: i.onnx_file, output: i.output, pooling: (i.pooling as PoolingMode) ?? 'mean', normalize: i.normalize === true, modelDir: i.model_dir };
}

const PREFIX = 'ftrun_adapter/';
const COPIED = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt', 'sentence_bert_config.json', 'config_sentence_transformers.json'];

/** Build the spliced model; returns its bytes. */
export function buildAdapterOnnx(baseBytes: Uint8Array, base: Pick<OnnxBase, 'output' | 'pooling' | 'normalize' | 'onnxFile'>, w: AdapterWeights, applyTo: AdapterApplyTo): Uint8Array {
  const model = readFields(baseBytes);
  const graphBytes = firstBytes(model, 7);
  if (!graphBytes) throw new Error(`${base.onnxFile}: no graph`);
  const graph = readFields(graphBytes);
  const opset = model
    .filter((f) => f.field === 8 && f.wire === 2)
    .map((f) => readFields(f.value as Uint8Array))
    .filter((o) => (firstBytes(o, 1) ? text(firstBytes(o, 1)!) : '') === '')
    .map((o) => Number((o.find((x) => x.field === 2)?.value as bigint | undefined) ?? 0))[0];
  if (!opset || opset < 9) throw new Error(`${base.onnxFile}: opset ${opset ?? 'unknown'}; appending an adapter needs opset ≥ 9`);
  for (const f of graph.filter((x) => x.field === 5)) {
    if (readFields(f.value as Uint8Array).some((t) => t.field === 13)) throw new Error(`${base.onnxFile}: weights in external data files are not supported`);
  }
  const used = new Set<string>(graph.filter((f) => f.field === 1).flatMap((f) => strings(readFields(f.value as Uint8Array), 2)));
  const outName = (want: string) => (used.has(want) ? `${want}_adapted` : want);
  const rank = outputRank(graph, base.output);
  if (rank !== 2 && rank !== 3) throw new Error(`${base.onnxFile}: output ${base.output} has rank ${rank}; expected 2 or 3`);

  const g = new GraphBuilder(opset);
  const axesOp = (op: 'Unsqueeze' | 'Squeeze', x: string, axes: number[]) => (opset >= 13 ? g.op(op, [x, g.int64s(axes)]) : g.op(op, [x], [attr.ints('axes', axes)]));
  let x = base.output;
  if (rank === 3) x = pool(g, x, base.pooling, axesOp);
  const l2 = (v: string, out?: string) => g.op('Div', [v, g.op('Max', [g.reduce('ReduceL2', v, [1], true), g.scalar(1e-12)])], [], out);
  if (base.normalize) x = l2(x);
  const baseVec = x;
  const t = (name: string) => w.tensors.get(name)!;
  const dense = (v: string, p: string) => {
    const [o, i] = t(`${p}.weight`).shape as [number, number];
    const wt = g.floatTensor(`${p}.weight.T`, [i, o], transpose(t(`${p}.weight`).data, o, i));
    return g.op('Add', [g.op('MatMul', [v, wt]), g.floatTensor(`${p}.bias`, [o], t(`${p}.bias`).data)]);
  };
  let y: string;
  if (w.kind === 'linear') y = dense(x, 'linear');
  else {
    const h = dense(x, 'fc1');
    const gelu = g.op('Mul', [g.op('Mul', [h, g.scalar(0.5)]), g.op('Add', [g.op('Erf', [g.op('Div', [h, g.scalar(Math.SQRT2)])]), g.scalar(1)])]);
    y = g.op('Add', [x, dense(gelu, 'fc2')]);
  }
  const outputs = [l2(y, outName('sentence_embedding'))];
  if (applyTo === 'query') outputs.push(g.op('Identity', [baseVec], [], outName('document_embedding')));

  // Prefix every name the builder made (except the outputs), so nothing clashes with the base graph.
  const mine = new Set([...g.nodes.flatMap((n) => n.outputs), ...g.initializers.map((i) => i.name)]);
  outputs.forEach((o) => mine.delete(o));
  const rename = (n: string) => (mine.has(n) ? PREFIX + n : n);
  const gw = new ProtoWriter();
  for (const f of graph) if (f.field !== 12) writeField(gw, f);
  for (const n of g.nodes) gw.message(1, encodeNode({ ...n, name: PREFIX + (n.name ?? n.opType), inputs: n.inputs.map(rename), outputs: n.outputs.map(rename) }));
  for (const i of g.initializers) gw.message(5, encodeTensor({ ...i, name: rename(i.name) }));
  for (const o of outputs) gw.message(12, encodeValueInfo({ name: o, elemType: DataType.FLOAT, shape: ['batch', w.dim] }));
  const mw = new ProtoWriter();
  for (const f of model) {
    if (f.field === 7) mw.message(7, gw);
    else writeField(mw, f);
  }
  if (mw.byteLength > PROTOBUF_MAX_BYTES) throw new Error(`ONNX export: the model is ${mw.byteLength} bytes, over protobuf's 2 GiB limit`);
  return mw.finish();
}

/** Write <outDir>/onnx/model.onnx and copy the base's tokenizer and config files into outDir. */
export async function exportAdapterOnnx(base: OnnxBase, w: AdapterWeights, applyTo: AdapterApplyTo, outDir: string): Promise<string> {
  const bytes = buildAdapterOnnx(readFileSync(base.onnxFile), base, w, applyTo);
  const file = join(outDir, 'onnx', 'model.onnx');
  writeFileAtomic(file, bytes);
  for (const f of COPIED) if (existsSync(join(base.modelDir, f))) copyFileSync(join(base.modelDir, f), join(outDir, f));
  return file;
}

type AxesOp = (op: 'Unsqueeze' | 'Squeeze', x: string, axes: number[]) => string;

/** sentence-transformers Pooling of [B, S, H] over the attention mask (as engine/model/pooling.ts). */
function pool(g: GraphBuilder, hidden: string, mode: PoolingMode, axesOp: AxesOp): string {
  if (mode === 'cls') return axesOp('Squeeze', g.op('Gather', [hidden, g.int64s([0])], [attr.int('axis', 1)]), [1]);
  const maskF = g.op('Cast', ['attention_mask'], [attr.int('to', DataType.FLOAT)]);
  const m3 = axesOp('Unsqueeze', maskF, [2]);
  if (mode === 'mean') {
    const sum = g.reduce('ReduceSum', g.op('Mul', [hidden, m3]), [1], false);
    return g.op('Div', [sum, g.op('Max', [g.reduce('ReduceSum', m3, [1], false), g.scalar(1e-9)])]);
  }
  const masked = g.op('Where', [g.op('Cast', [m3], [attr.int('to', DataType.BOOL)]), hidden, g.scalar(-1e9)]);
  return g.reduce('ReduceMax', masked, [1], false);
}

/** Number of dimensions of graph output `name` (from its ValueInfo), or -1 when not declared. */
function outputRank(graph: WireField[], name: string): number {
  for (const f of graph.filter((x) => x.field === 12)) {
    const vi = readFields(f.value as Uint8Array);
    if (text(firstBytes(vi, 1) ?? new Uint8Array()) !== name) continue;
    const tensor = firstBytes(readFields(firstBytes(vi, 2) ?? new Uint8Array()), 1);
    const shape = tensor ? firstBytes(readFields(tensor), 2) : undefined;
    return shape ? readFields(shape).filter((d) => d.field === 1).length : -1;
  }
  throw new Error(`graph has no output named ${name}`);
}

function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]!;
  return out;
}

