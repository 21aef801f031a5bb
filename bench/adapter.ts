/**
 * Benchmark: adapter training speed (optimizer steps/s and samples/s at batch 16, MNRL, on cached
 * embeddings of width 64 / 512 / 768, linear and mlp, on the tfjs wasm and cpu backends) and the
 * end-to-end wall time of the README's quickstart (`ftrun configs/quickstart.yaml`, a fresh
 * process, model load included).
 *
 *   node dist/bench/adapter.js [--backends wasm,cpu] [--skip-quickstart]
 */
import 'reflect-metadata';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { cpus, platform, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trainAdapter } from '../engine/adapter/train.js';
import { ADAPTER_DIR, CHECKPOINTS_DIR } from '../core/run/records.js';
import type { Encoder, EncodeOptions, RunContext } from '../core/types.js';
import MultipleNegativesRankingLoss from '../plugins/loss/multiple-negatives-ranking.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Deterministic unit vectors from a hash of each text: training speed does not depend on what they mean. */
class HashEncoder implements Encoder {
  readonly info = { backend: 'bench-hash' };
  constructor(readonly dim: number) {}
  async encode(texts: string[], _opts: EncodeOptions): Promise<Float32Array[]> {
    return texts.map((t) => {
      const v = new Float32Array(this.dim);
      let seed = createHash('sha1').update(t).digest().readUInt32LE(0);
      for (let i = 0; i < this.dim; i++) {
        seed = (seed * 1664525 + 1013904223) >>> 0;
        v[i] = seed / 2 ** 32 - 0.5;
      }
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    });
  }
  async dispose(): Promise<void> {}
}

async function adapterSpeed(backend: string): Promise<void> {
  await tf.setBackend(backend);
  await tf.ready();
  const items = Array.from({ length: 320 }, (_, i) => ({ anchor: `query ${i}`, positive: `doc ${i % 40}`, negative: `doc ${(i + 7) % 40}`, label: `doc ${i % 40}` }));
  const ctx = {} as RunContext;
  for (const dim of [64, 512, 768]) {
    for (const kind of ['linear', 'mlp'] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'ftrun-bench-adapter-'));
      const res = await trainAdapter({
        encoder: new HashEncoder(dim),
        examples: { shapes: ['pairs'], items },
        loss: await new MultipleNegativesRankingLoss({ scale: 20, similarity: 'cos' }, ctx),
        training: { epochs: 2, batch_size: 16, batch_sampler: 'group-by-label', adapter: { kind, hidden: 256 } },
        test: [],
        corpus: [],
        metrics: ['mrr'],
        k: [1],
        primary: 'mrr@1',
        outDir: join(dir, ADAPTER_DIR),
        checkpointDir: join(dir, CHECKPOINTS_DIR),
        resume: false,
        onEvent: () => {},
        seed: 1,
      });
      const stepsPerSecond = res.steps / res.seconds;
      console.log(
        `bench=adapter  backend=${backend}  dim=${dim}  kind=${kind}  steps=${res.steps}  steps/s=${stepsPerSecond.toFixed(1)}  samples/s=${res.samplesPerSecond.toFixed(0)}`,
      );
    }
  }
}

function quickstart(): void {
  const runs = mkdtempSync(join(tmpdir(), 'ftrun-bench-quickstart-'));
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(root, 'bin', 'ftrun.js'), join(root, 'configs', 'quickstart.yaml'), '--runs-dir', runs, '--json', '--quiet'], {
    encoding: 'utf8',
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`quickstart failed: ${r.stderr}`);
  const s = JSON.parse(r.stdout) as { models: Record<string, Record<string, number>> };
  console.log(
    `bench=quickstart  wall_s=${seconds.toFixed(1)}  base_mrr@1=${s.models.base!['mrr@1']!.toFixed(3)}  finetuned_mrr@1=${s.models.finetuned!['mrr@1']!.toFixed(3)}`,
  );
}

async function main(): Promise<void> {
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, ${platform()}, node ${process.version}`);
  for (const b of opt('backends', 'wasm,cpu').split(',')) await adapterSpeed(b);
  if (!args.includes('--skip-quickstart')) quickstart();
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
