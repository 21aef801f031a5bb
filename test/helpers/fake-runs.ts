/** Small fake run and sweep directories (the run-directory contract) for output-side tests. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ensureNewDir, writeFileAtomic, writeJsonAtomic } from '../../core/fsutil.js';
import type { RunMetrics } from '../../core/run/records.js';

export function tempRoot(): string {
  return mkdtempSync(join(tmpdir(), 'ftrun-runs-'));
}

export function metrics(models: Record<string, Record<string, number>>, status = 'ok', primary = 'mrr@1'): RunMetrics {
  const delta: Record<string, number> = {};
  if (models.base && models.finetuned) for (const k of Object.keys(models.base)) delta[k] = models.finetuned[k]! - models.base[k]!;
  return { models, delta, primary, status };
}

export interface FakeRun {
  config?: Record<string, unknown>;
  metrics?: RunMetrics;
  env?: Record<string, unknown>;
}

/** Writes `dir` as a run directory and returns it. */
export function writeRun(dir: string, run: FakeRun): string {
  ensureNewDir(dir);
  if (run.config) writeFileAtomic(join(dir, 'resolved.yaml'), stringify(run.config));
  if (run.metrics) writeJsonAtomic(join(dir, 'metrics.json'), run.metrics);
  if (run.env) writeJsonAtomic(join(dir, 'env.json'), run.env);
  return dir;
}

export interface FakeTrial extends FakeRun {
  overrides: Record<string, unknown>;
  status?: string;
}

/** Writes `dir` as a sweep directory with trials/<n>/ run directories. */
export function writeSweep(dir: string, trials: FakeTrial[], primary = 'mrr@1'): string {
  ensureNewDir(dir);
  const list = trials.map((t, i) => {
    const index = i + 1; // trials count from 1, like ftrun's
    const runDir = writeRun(join(dir, 'trials', String(index)), t);
    return { index, overrides: t.overrides, run_dir: runDir, status: t.status ?? t.metrics?.status ?? 'failed' };
  });
  writeJsonAtomic(join(dir, 'sweep.json'), { name: 'exp', primary, trials: list });
  return dir;
}

export const BASE_CONFIG = {
  name: 'bge',
  seed: 42,
  dataset: { type: 'jsonl', queries: 'data/train.jsonl', corpus: { path: 'data/categories.json', text: 'category' } },
  loss: { type: 'batch-semi-hard-triplet', margin: 5 },
  model: { id: 'BAAI/bge-base-en', query_prompt: '' },
  backend: { type: 'ort', device: 'cpu' },
  training: { method: 'full', epochs: 5, learning_rate: 2e-5 },
  evaluate: { compare: ['base', 'finetuned'], metrics: ['mrr', 'recall'], k: [1, 3], primary: 'mrr@1' },
  store: { type: 'memory' },
  sinks: [{ type: 'console', digits: 3 }],
};
