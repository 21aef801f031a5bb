/**
 * Benchmark: full fine-tuning speed — training samples/s of ftrun's real trainer step (tokenize,
 * forward in training mode, BatchSemiHardTripletLoss, backward, clip, AdamW) at batch 16 on the
 * reference workflow's transactions (~40 tokens each), for the tiny-bert fixture and for a BERT of
 * bge-small shape (384 hidden, 12 layers, 12 heads, 1536 intermediate, vocab 30522; random
 * weights written by this benchmark), on each tfjs device available here; and the `ort`
 * encoder's sentences/s on the same bge-small shape through ftrun's own ONNX export.
 *
 *   node dist/bench/train.js [--devices wasm,cpu] [--threads 2] [--steps 3] [--only fixture|small]
 *
 * Prints one line per measurement (and a JSON line with --json). The pure-JS `cpu` device is ~30×
 * slower than wasm, so for the bge-small shape it runs a single step.
 */
import 'reflect-metadata';
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { cpus, platform, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModelLayout } from '../core/model/layout.js';
import { selectTfjsDevice, type TfjsDevice } from '../core/tfjs/device.js';
import { TfjsSentenceModel } from '../core/tfjs/sentence.js';
import { createOptimizer, TrainStep } from '../core/train/step.js';
import type { Example, RunContext } from '../core/types.js';
import OrtBackend from '../plugins/backend/ort.js';
import BatchSemiHardTripletLoss from '../plugins/loss/batch-semi-hard-triplet.js';
import { BGE_SMALL_SHAPE, exportRandomBertOnnx, writeRandomBertDir } from './encode-onnx.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const threads = Number(opt('threads', '2'));
const steps = Number(opt('steps', '3'));
const devices = opt('devices', 'wasm,cpu').split(',') as TfjsDevice[];
const only = opt('only', '');
const json = args.includes('--json');
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const shared = resolve(root, '..', 'shared');
const fixture = join(shared, 'fixtures', 'sentence-transformers', 'tiny-bert');
const trainFile = join(shared, 'data', 'transactions', 'train_transactions.jsonl');

const report = (r: Record<string, unknown>) => {
  const what = Object.entries(r).map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(2) : String(v)}`).join('  ');
  console.log(json ? JSON.stringify(r) : what);
};

function examples(): Example[] {
  return readFileSync(trainFile, 'utf8').trim().split('\n').map((l) => {
    const r = JSON.parse(l) as { input: string; expected: string[] };
    return { anchor: r.input, label: r.expected[0] };
  });
}

/** Median seconds per optimizer step after one warmup step. */
function timeSteps(model: TfjsSentenceModel, data: Example[], n: number): number {
  const loss = new BatchSemiHardTripletLoss({ margin: 5, distance_metric: 'euclidean' }, {} as RunContext);
  const step = new TrainStep(model, loss, createOptimizer(model, 2e-5, 0.01), data.map((e) => e.label!));
  const batch = (i: number) => data.slice((i * 16) % (data.length - 16), ((i * 16) % (data.length - 16)) + 16);
  step.step([batch(0)], 2e-5, 1.0); // warmup: kernels, buffers
  const times: number[] = [];
  for (let i = 1; i <= n; i++) {
    const t0 = performance.now();
    step.step([batch(i)], 2e-5, 1.0);
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

async function main(): Promise<void> {
  if (!existsSync(fixture) || !existsSync(trainFile)) {
    console.log(`bench skipped: ../shared not found (looked for ${fixture})`);
    return;
  }
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, ${platform()}, node ${process.version}; threads ${threads}`);
  const data = examples();
  // A bge-small-shaped model directory: random weights + the fixture's tokenizer (its ids < 30522).
  const small = mkdtempSync(join(tmpdir(), 'ftrun-bench-small-'));
  writeRandomBertDir(BGE_SMALL_SHAPE, small);
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'modules.json', 'sentence_bert_config.json']) copyFileSync(join(fixture, f), join(small, f));
  const models = [
    { name: 'tiny-bert fixture', dir: fixture, key: 'fixture' },
    { name: 'bge-small shape', dir: small, key: 'small' },
  ].filter((m) => !only || m.key === only);

  for (const device of devices) {
    const sel = await selectTfjsDevice(device, { threads });
    for (const m of models) {
      const model = TfjsSentenceModel.load(loadModelLayout(m.dir, { query_prompt: '', document_prompt: '', pooling: 'cls', normalize: true }));
      const n = device === 'cpu' && m.key === 'small' ? 1 : steps;
      const seconds = timeSteps(model, data, n);
      report({ bench: 'train', model: m.name, device: sel.device, gemm: String(sel.details?.gemm ?? ''), batch: 16, steps: n, 'samples/s': 16 / seconds, 's/step': seconds });
      model.bert.dispose();
    }
  }

  if (!only || only === 'small') {
    const onnx = join(small, 'onnx', 'model.onnx');
    await exportRandomBertOnnx(BGE_SMALL_SHAPE, onnx);
    const ctx = { resolvePath: (p: string) => p, signal: new AbortController().signal, logger: { info() {}, warn() {}, debug() {} }, progress: { start: () => ({ update() {}, done() {} }) } } as unknown as RunContext;
    const enc = await new OrtBackend({ intra_op_threads: threads, batch_size: 32, execution_providers: ['cpu'] }, ctx).loadEncoder(
      { path: small, query_prompt: '', document_prompt: '' },
      'bench',
    );
    const texts = data.slice(0, 64).map((e) => e.anchor);
    await enc.encode(texts, { kind: 'document' });
    const t0 = performance.now();
    const reps = 3;
    for (let i = 0; i < reps; i++) await enc.encode(texts, { kind: 'document' });
    report({ bench: 'encode', model: 'bge-small shape (ftrun ONNX export)', backend: 'ort', batch: 32, 'sentences/s': (reps * texts.length) / ((performance.now() - t0) / 1000) });
    await enc.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
