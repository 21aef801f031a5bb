/**
 * ONNX encoder benchmark: sentences/s of onnxruntime-node (CPU) on a BERT of bge-small shape
 * (384 hidden, 12 layers, 12 heads, 1536 intermediate, vocab 30522, 512 positions) with random
 * weights, exported to ONNX by the project's own exporter (engine/export/onnx.ts). Inputs are
 * random token ids, `--batch` rows of `--seq` tokens (default 32 × 41, no padding). When
 * ../shared is present it also times the tiny-bert fixture: our export against torch's model.onnx.
 * Run (after `npm run build`): `node dist/bench/encode-onnx.js [--threads 2] [--batch 32] [--seq 41] [--repeats 10] [--opset 17]`
 *
 * Also exported for other benchmarks: writeRandomBertDir / exportRandomBertOnnx.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { exportBertOnnx, type OnnxExportOptions } from '../engine/export/onnx.js';
import { Rng } from '../core/rng.js';
import { writeSafetensors, type TensorToWrite } from '../core/safetensors.js';
import { bertWeightShapes, parseBertConfig } from '../engine/model/bert-config.js';

/** The Hugging Face config.json fields that fix a BERT's shape. */
export interface BertShape {
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  vocab_size: number;
  max_position_embeddings: number;
}

export const BGE_SMALL_SHAPE: BertShape = {
  hidden_size: 384,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 1536,
  vocab_size: 30522,
  max_position_embeddings: 512,
};

/** Write a HF BERT directory (config.json + model.safetensors) with N(0, 0.02) weights, LayerNorm 1/0, zero biases. */
export function writeRandomBertDir(shape: BertShape, dir: string, seed = 1): void {
  const json = { model_type: 'bert', architectures: ['BertModel'], hidden_act: 'gelu', layer_norm_eps: 1e-12, type_vocab_size: 2, initializer_range: 0.02, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, ...shape };
  const cfg = parseBertConfig(json);
  const rng = new Rng(seed);
  const tensors = new Map<string, TensorToWrite>();
  for (const [name, dims] of bertWeightShapes(cfg)) {
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    if (name.endsWith('LayerNorm.weight')) data.fill(1);
    else if (dims.length === 2) for (let i = 0; i < data.length; i++) data[i] = 0.02 * rng.normal();
    tensors.set(name, { shape: dims, data });
  }
  writeFileSync(join(dir, 'config.json'), JSON.stringify(json, null, 2) + '\n');
  writeSafetensors(join(dir, 'model.safetensors'), tensors);
}

/** Export a random-weight BERT of `shape` to `outFile` (via a temporary model directory). */
export async function exportRandomBertOnnx(shape: BertShape, outFile: string, opts: OnnxExportOptions & { seed?: number } = {}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ftrun-random-bert-'));
  try {
    writeRandomBertDir(shape, dir, opts.seed);
    await exportBertOnnx(dir, outFile, opts);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function int64(batch: number, seq: number, value: (b: number, t: number) => number): ort.Tensor {
  const data = new BigInt64Array(batch * seq);
  for (let b = 0; b < batch; b++) for (let t = 0; t < seq; t++) data[b * seq + t] = BigInt(value(b, t));
  return new ort.Tensor('int64', data, [batch, seq]);
}

/** Median sentences/s of `repeats` timed runs (after one warmup) of `file` on batch × seq random ids. */
async function time(file: string, vocab: number, o: { threads: number; batch: number; seq: number; repeats: number }): Promise<number[]> {
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: o.threads, graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  const rng = new Rng(7);
  const feeds = {
    input_ids: int64(o.batch, o.seq, (_, t) => (t === 0 ? Math.min(2, vocab - 1) : t === o.seq - 1 ? Math.min(3, vocab - 1) : 5 + rng.int(vocab - 5))),
    attention_mask: int64(o.batch, o.seq, () => 1),
    token_type_ids: int64(o.batch, o.seq, () => 0),
  };
  await session.run(feeds, ['last_hidden_state']);
  const rates: number[] = [];
  for (let r = 0; r < o.repeats; r++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds, ['last_hidden_state']);
    rates.push(o.batch / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  await session.release();
  return rates.sort((a, b) => a - b);
}

const fmt = (r: number[]) => `median ${r[Math.floor(r.length / 2)]!.toFixed(1)}, best ${r[r.length - 1]!.toFixed(1)}, worst ${r[0]!.toFixed(1)}`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { threads: { type: 'string' }, batch: { type: 'string' }, seq: { type: 'string' }, repeats: { type: 'string' }, opset: { type: 'string' } } });
  const num = (v: string | undefined, d: number) => {
    const n = v === undefined ? d : Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`expected a positive integer, got ${v}`);
    return n;
  };
  const o = { threads: num(values.threads, 2), batch: num(values.batch, 32), seq: num(values.seq, 41), repeats: num(values.repeats, 10) };
  const opset = num(values.opset, 17);
  const cpu = cpus();
  console.log(`machine: ${cpu[0]?.model ?? 'unknown'}, ${cpu.length} cores, ${platform()} ${release()}, node ${process.version}, onnxruntime-node ${ort.env.versions.common}`);
  console.log(`settings: intra_op_threads ${o.threads}, batch ${o.batch}, ${o.seq} tokens, ${o.repeats} repeats after a warmup, opset ${opset}`);

  const work = mkdtempSync(join(tmpdir(), 'ftrun-bench-onnx-'));
  try {
    const file = join(work, 'bge-small-random.onnx');
    const t0 = Date.now();
    await exportRandomBertOnnx(BGE_SMALL_SHAPE, file, { opset });
    console.log(`bge-small shape (random weights), exported in ${((Date.now() - t0) / 1000).toFixed(1)} s: sentences/s ${fmt(await time(file, BGE_SMALL_SHAPE.vocab_size, o))}`);

    let dir = dirname(fileURLToPath(import.meta.url));
    while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
    const tiny = resolve(dir, '..', 'shared', 'fixtures', 'sentence-transformers', 'tiny-bert');
    if (existsSync(join(tiny, 'model.onnx'))) {
      const ours = join(work, 'tiny-bert.onnx');
      await exportBertOnnx(tiny, ours, { opset });
      console.log(`tiny-bert fixture, ftrun export:  sentences/s ${fmt(await time(ours, 1200, o))}`);
      console.log(`tiny-bert fixture, torch export:  sentences/s ${fmt(await time(join(tiny, 'model.onnx'), 1200, o))}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
