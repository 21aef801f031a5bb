/**
 * Benchmark: cached batches (GradCache, training.mini_batch_size) on the `ort` trainer — peak RSS
 * and speed of one optimizer step at a large batch, with and without caching. The model is a BERT
 * of bge-small shape (384 hidden, 12 layers, 1536 intermediate; random weights, dropout 0.1), the
 * loss multiple-negatives ranking over (transaction, category) pairs of the reference data
 * (~40 tokens per transaction), batch 128. Each configuration runs in its own process, so its
 * peak RSS is its own; one step warms up every shape, then the median of the timed steps.
 *
 *   node dist/bench/gradcache.js [--batch 128] [--mini 16] [--steps 2] [--threads 2] [--json]
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModelLayout } from '../engine/model/layout.js';
import { LossSeam } from '../core/train/seam.js';
import type { Example, RunContext } from '../core/types.js';
import { OrtBertEngine } from '../plugins/backend/ort/bert-engine.js';
import { OrtTrainStep, prepareHostLoss } from '../plugins/backend/ort/train-step.js';
import MultipleNegativesRankingLoss from '../plugins/loss/multiple-negatives-ranking.js';
import type { LossPlugin } from '../core/train/loss.js';
import { ARGS, FIXTURE, median, opt, report, TRAIN_FILE } from './common.js';
import { BGE_SMALL_SHAPE, writeRandomBertDir } from './encode-onnx.js';

const batchSize = Number(opt('batch', '128'));
const miniSize = Number(opt('mini', '16'));
const steps = Number(opt('steps', '2'));
const threads = Number(opt('threads', '2'));
const child = opt('child', '');

function pairs(): Example[] {
  return readFileSync(TRAIN_FILE, 'utf8').trim().split('\n').map((l) => {
    const r = JSON.parse(l) as { input: string; expected: string[] };
    return { anchor: r.input, positive: r.expected[0]! };
  });
}

async function row(mini: number, dir: string): Promise<void> {
  const data = pairs();
  const engine = await OrtBertEngine.load(loadModelLayout(dir, { query_prompt: '', document_prompt: '', pooling: 'cls', normalize: true }), { threads, executionProviders: ['cpu'] });
  await prepareHostLoss();
  const loss = (await new MultipleNegativesRankingLoss({ scale: 20, similarity: 'cosine' }, {} as RunContext)) as LossPlugin;
  const step = new OrtTrainStep(engine, new LossSeam(loss, [], mini), { weightDecay: 0.01 });
  const batch = (i: number) => Array.from({ length: batchSize }, (_, j) => data[(i * batchSize + j) % data.length]!);
  await step.step([batch(0)], 2e-5, 1.0, [0]);
  const times: number[] = [];
  let lossValue = 0;
  for (let i = 1; i <= steps; i++) {
    const t0 = performance.now();
    lossValue = (await step.step([batch(i)], 2e-5, 1.0, [i])).loss;
    times.push((performance.now() - t0) / 1000);
  }
  const s = median(times);
  report({
    bench: 'gradcache', engine: 'ort', model: 'bge-small shape', threads, batch: batchSize, mini_batch_size: mini || 'none',
    'samples/s': batchSize / s, 's/step': s, loss: lossValue, peak_rss_MB: Math.round(process.resourceUsage().maxRSS / 1024),
  });
  await engine.dispose();
}

async function main(): Promise<void> {
  if (child) {
    const [mini, dir] = [Number(child.split(':')[0]), child.slice(child.indexOf(':') + 1)];
    await row(mini, dir);
    return;
  }
  if (!existsSync(FIXTURE) || !existsSync(TRAIN_FILE)) {
    console.log(`bench skipped: ../shared not found (looked for ${FIXTURE})`);
    return;
  }
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, ${platform()}, node ${process.version}; threads ${threads}; median of ${steps} steps after one warm-up step`);
  const dir = mkdtempSync(join(tmpdir(), 'ftrun-bench-gradcache-'));
  try {
    writeRandomBertDir(BGE_SMALL_SHAPE, dir);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1 }));
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'modules.json', 'sentence_bert_config.json']) copyFileSync(join(FIXTURE, f), join(dir, f));
    for (const mini of [0, miniSize]) {
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), ...ARGS, '--child', `${mini}:${dir}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      process.stdout.write(out);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
