/**
 * Benchmark: full fine-tuning speed — training samples/s of ftrun's real trainer step (tokenize,
 * forward in training mode, BatchSemiHardTripletLoss, backward, clip, AdamW) at batch 16 on the
 * reference workflow's transactions (~40 tokens each), per engine:
 *   ort   the onnxruntime trainer (plugins/backend/ort/): seconds per step split into forward
 *         (masks, tokenize, forward graph), loss (pooling, Normalize, loss and their gradients),
 *         backward (backward graph, embedding scatter) and optimizer (norm, clip, AdamW), and the
 *         process's peak RSS (each ort row runs in its own process);
 *   tfjs  the tfjs trainer on each tfjs device available here;
 * for the tiny-bert fixture and BERTs of bge-small shape (384 hidden, 12 layers, 1536
 * intermediate) and bge-base shape (768, 12, 3072), random weights, dropout 0.1 as the bge models;
 * plus the `ort` encoder's sentences/s on the same shapes through ftrun's own ONNX export (batch
 * 32), and — when /usr/bin/python3 has torch — ../shared/bench/pytorch_anchor.py, interleaved
 * with the ftrun runs round by round, so the ratios compare one machine at one time.
 *
 *   node dist/bench/train.js [--engines ort,tfjs] [--shapes fixture,small,base] [--devices wasm]
 *                            [--threads 2] [--steps 4] [--rounds 2] [--dropout 0.1] [--json]
 *
 * Timing is steady state: every measured batch runs once before it is timed (onnxruntime plans
 * memory per input shape), then the median of the timed steps is reported.
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModelLayout } from '../engine/model/layout.js';
import { selectTfjsDevice, type TfjsDevice } from '../plugins/backend/tfjs/device.js';
import { TfjsSentenceModel } from '../plugins/backend/tfjs/sentence.js';
import { createOptimizer, TrainStep } from '../plugins/backend/tfjs/train-step.js';
import type { Example, RunContext } from '../core/types.js';
import OrtBackend from '../plugins/backend/ort.js';
import { OrtBertEngine } from '../plugins/backend/ort/bert-engine.js';
import { OrtTrainStep, prepareHostLoss } from '../plugins/backend/ort/train-step.js';
import BatchSemiHardTripletLoss from '../plugins/loss/batch-semi-hard-triplet.js';
import { ARGS, FIXTURE, median, opt, report, SHARED, TRAIN_FILE } from './common.js';
import { BGE_SMALL_SHAPE, exportRandomBertOnnx, writeRandomBertDir, type BertShape } from './encode-onnx.js';
import { LossSeam } from '../core/train/seam.js';

const BGE_BASE_SHAPE: BertShape = { ...BGE_SMALL_SHAPE, hidden_size: 768, intermediate_size: 3072 };
const SHAPES: Record<string, { name: string; shape?: BertShape; anchor: string }> = {
  fixture: { name: 'tiny-bert fixture', anchor: 'tiny' },
  small: { name: 'bge-small shape', shape: BGE_SMALL_SHAPE, anchor: 'small' },
  base: { name: 'bge-base shape', shape: BGE_BASE_SHAPE, anchor: 'base' },
};

const threads = Number(opt('threads', '2'));
const steps = Number(opt('steps', '4'));
const rounds = Number(opt('rounds', '2'));
const dropout = Number(opt('dropout', '0.1'));
const engines = opt('engines', 'ort,tfjs').split(',');
const shapes = opt('shapes', 'fixture,small,base').split(',');
const devices = opt('devices', 'wasm').split(',') as TfjsDevice[];
const child = opt('child', '');
const anchorScript = join(SHARED, 'bench', 'pytorch_anchor.py');


function examples(): Example[] {
  return readFileSync(TRAIN_FILE, 'utf8').trim().split('\n').map((l) => {
    const r = JSON.parse(l) as { input: string; expected: string[] };
    return { anchor: r.input, label: r.expected[0] };
  });
}

const BATCHES = 4;
const batch = (data: Example[], i: number) => data.slice((i % BATCHES) * 16, (i % BATCHES) * 16 + 16);
const loss = async () => await new BatchSemiHardTripletLoss({ margin: 5, distance_metric: 'euclidean' }, {} as RunContext);

/** A model directory for `key`: the fixture, or random weights of the shape + the fixture's tokenizer. */
function modelDir(key: string): string {
  const s = SHAPES[key]!;
  if (!s.shape) return FIXTURE;
  const dir = mkdtempSync(join(tmpdir(), `ftrun-bench-${key}-`));
  writeRandomBertDir(s.shape, dir);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, hidden_dropout_prob: dropout, attention_probs_dropout_prob: dropout }));
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'modules.json', 'sentence_bert_config.json']) copyFileSync(join(FIXTURE, f), join(dir, f));
  return dir;
}

const layoutOf = (dir: string) => loadModelLayout(dir, { query_prompt: '', document_prompt: '', pooling: 'cls', normalize: true });

/** One ort row (run in a child process: its peak RSS is the row's). */
async function ortRow(key: string): Promise<void> {
  const data = examples();
  const dir = modelDir(key);
  const engine = await OrtBertEngine.load(layoutOf(dir), { threads, executionProviders: ['cpu'] });
  await prepareHostLoss();
  const step = new OrtTrainStep(engine, new LossSeam(await loss(), data.map((e) => e.label!)), { weightDecay: 0.01 });
  for (let i = 0; i < BATCHES; i++) await step.step([batch(data, i)], 2e-5, 1.0, [i]); // warm up every shape
  const times: number[] = [];
  const parts: Record<string, number[]> = { forward: [], loss: [], backward: [], optimizer: [] };
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    await step.step([batch(data, i)], 2e-5, 1.0, [i]);
    times.push((performance.now() - t0) / 1000);
    for (const [k, v] of Object.entries(step.times)) parts[k]!.push(v);
  }
  if (process.env.FTRUN_BENCH_VERBOSE) console.error(`ort ${key} step seconds: ${times.map((t) => t.toFixed(3)).join(' ')}`);
  const s = median(times);
  const tokens = data.slice(0, 16 * BATCHES).map((e) => engine.tokenize([e.anchor]).S);
  report({
    bench: 'train', engine: 'ort', model: SHAPES[key]!.name, threads, batch: 16, dropout: key === 'fixture' ? 0 : dropout,
    'tokens/sentence': tokens.reduce((a, b) => a + b, 0) / tokens.length,
    'samples/s': 16 / s, 's/step': s,
    forward: median(parts.forward!), loss: median(parts.loss!), backward: median(parts.backward!), optimizer: median(parts.optimizer!),
    'peak_rss_MB': Math.round(process.resourceUsage().maxRSS / 1024),
  });
  await engine.dispose();
  if (dir !== FIXTURE) rmSync(dir, { recursive: true, force: true });
}

async function tfjsRow(key: string, device: TfjsDevice): Promise<void> {
  const data = examples();
  const sel = await selectTfjsDevice(device, { threads });
  const dir = modelDir(key);
  const model = TfjsSentenceModel.load(layoutOf(dir));
  const step = new TrainStep(model, new LossSeam(await loss(), data.map((e) => e.label!)), createOptimizer(model, 2e-5, 0.01));
  const n = device === 'cpu' && key !== 'fixture' ? 1 : steps;
  await step.step([batch(data, 0)], 2e-5, 1.0, [0]);
  const times: number[] = [];
  for (let i = 1; i <= n; i++) {
    const t0 = performance.now();
    await step.step([batch(data, i)], 2e-5, 1.0, [i]);
    times.push((performance.now() - t0) / 1000);
  }
  const s = median(times);
  report({ bench: 'train', engine: 'tfjs', model: SHAPES[key]!.name, device: sel.device, gemm: String(sel.details?.gemm ?? ''), batch: 16, 'samples/s': 16 / s, 's/step': s });
  model.dispose();
  if (dir !== FIXTURE) rmSync(dir, { recursive: true, force: true });
}

/** The `ort` encoder on the shape through ftrun's own ONNX export, batch 32. */
async function encodeRow(key: string): Promise<void> {
  const dir = modelDir(key);
  if (dir !== FIXTURE) await exportRandomBertOnnx(SHAPES[key]!.shape!, join(dir, 'onnx', 'model.onnx'));
  const ctx = { resolvePath: (p: string) => p, signal: new AbortController().signal, logger: { info() {}, warn() {}, debug() {} }, progress: { start: () => ({ update() {}, done() {} }) } } as unknown as RunContext;
  const enc = await new OrtBackend({ intra_op_threads: threads, batch_size: 32, execution_providers: ['cpu'] }, ctx).loadEncoder({ path: dir, query_prompt: '', document_prompt: '' }, 'bench');
  const texts = examples().slice(0, 64).map((e) => e.anchor);
  await enc.encode(texts, { kind: 'document' });
  const rates: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await enc.encode(texts, { kind: 'document' });
    rates.push(texts.length / ((performance.now() - t0) / 1000));
  }
  report({ bench: 'encode', engine: 'ort', model: `${SHAPES[key]!.name} (ftrun ONNX export)`, threads, batch: 32, 'sentences/s': median(rates) });
  await enc.dispose();
  if (dir !== FIXTURE) rmSync(dir, { recursive: true, force: true });
}

function anchor(key: string): void {
  try {
    const out = execFileSync('/usr/bin/python3', [anchorScript, '--shape', SHAPES[key]!.anchor, '--threads', String(threads), '--batch', '16', '--seq', '41'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const r = JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
    report({ bench: 'anchor', engine: `pytorch ${String(r.torch)}`, model: SHAPES[key]!.name, threads, batch: 16, seq: 41, 'samples/s': r.train_samples_per_s, 'sentences/s': r.encode_sentences_per_s });
  } catch {
    /* no torch here */
  }
}

const hasTorch = (): boolean => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
    return existsSync(anchorScript);
  } catch {
    return false;
  }
};

async function main(): Promise<void> {
  if (child) {
    const [what, key, device] = child.split(':');
    if (what === 'ort') await ortRow(key!);
    else if (what === 'encode') await encodeRow(key!);
    else await tfjsRow(key!, device as TfjsDevice);
    return;
  }
  if (!existsSync(FIXTURE) || !existsSync(TRAIN_FILE)) {
    console.log(`bench skipped: ../shared not found (looked for ${FIXTURE})`);
    return;
  }
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, ${platform()}, node ${process.version}; threads ${threads}; steady state, median of ${steps} steps`);
  const torch = hasTorch();
  if (!torch) console.log('pytorch anchor: /usr/bin/python3 has no torch (apt-get install python3-torch libopenblas0-pthread), skipped');
  const run = (spec: string) => {
    // Each row in its own process: a clean heap, and the row's own peak RSS.
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), ...ARGS, '--child', spec], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    process.stdout.write(out);
  };
  for (let r = 0; r < rounds; r++) {
    if (rounds > 1) console.log(`-- round ${r + 1} of ${rounds}`);
    for (const key of shapes) {
      if (torch) anchor(key);
      if (engines.includes('ort')) {
        run(`ort:${key}`);
        if (r === 0) run(`encode:${key}`);
      }
      // tfjs on the bge-base shape takes minutes per step: only on request (--shapes base --engines tfjs).
      if (engines.includes('tfjs') && (key !== 'base' || !engines.includes('ort'))) for (const d of devices) run(`tfjs:${key}:${d}`);
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
