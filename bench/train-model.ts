/**
 * Benchmark: one training step (forward + backward, no optimizer) of the tfjs BERT encoder, batch
 * 16 × 41 tokens, loss = mean of the squared CLS embeddings, for the fixture model (if ../shared
 * is present) and a bge-small-shaped BERT with random weights (384 hidden, 12 layers, 12 heads,
 * 1536 intermediate, vocab 30522, dropout 0.1 as in bge-small's config).
 *
 *   node dist/bench/train-model.js [--device wasm|cpu|auto] [--threads N] [--gemm auto|onnxruntime|backend]
 *                                  [--steps 3] [--profile]
 *                                  [--only small|fixture] [--fixture DIR]
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { BertModel, parseBertConfig, type BertInputs } from '../plugins/backend/tfjs/bert.js';
import { selectTfjsDevice, type TfjsDevice } from '../plugins/backend/tfjs/device.js';
import { poolTf } from '../plugins/backend/tfjs/pooling.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const device = opt('device', 'wasm') as TfjsDevice;
const steps = Number(opt('steps', '3'));
const only = opt('only', '');
const profile = args.includes('--profile');
const BATCH = 16;
const SEQ = 41;

const BGE_SMALL = parseBertConfig({
  model_type: 'bert', hidden_act: 'gelu', vocab_size: 30522, hidden_size: 384, num_hidden_layers: 12,
  num_attention_heads: 12, intermediate_size: 1536, max_position_embeddings: 512, type_vocab_size: 2,
  layer_norm_eps: 1e-12, hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1,
});

function batchOf(vocab: number, seed: number): BertInputs {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const inputIds: number[][] = [];
  const attentionMask: number[][] = [];
  for (let b = 0; b < BATCH; b++) {
    const len = SEQ - Math.floor(rnd() * 8) * (b % 2); // a few rows shorter, padded
    inputIds.push(Array.from({ length: SEQ }, (_, t) => (t === 0 ? 2 : t < len - 1 ? 5 + Math.floor(rnd() * (vocab - 5)) : t === len - 1 ? 3 : 0)));
    attentionMask.push(Array.from({ length: SEQ }, (_, t) => (t < len ? 1 : 0)));
  }
  return { inputIds, attentionMask, tokenTypeIds: inputIds.map((r) => r.map(() => 0)) };
}

function step(model: BertModel, batch: BertInputs, backward: boolean): number {
  const mask = tf.tensor2d(batch.attentionMask.flat(), [BATCH, SEQ]);
  const lossFn = () => tf.mean(tf.square(poolTf(model.forward(batch, { training: true, firstTokenOnly: true }), mask, 'cls'))) as tf.Scalar;
  const t0 = performance.now();
  if (backward) {
    const { value, grads } = tf.variableGrads(lossFn, model.trainableVariables);
    value.dataSync();
    for (const g of Object.values(grads)) g.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  } else {
    tf.tidy(() => lossFn().dataSync());
  }
  mask.dispose();
  return performance.now() - t0;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function bench(name: string, model: BertModel): Promise<void> {
  const batch = batchOf(model.config.vocabSize, 7);
  step(model, batch, true); // warm-up (XNNPACK operators, wasm memory growth)
  const fwd: number[] = [];
  const full: number[] = [];
  for (let i = 0; i < steps; i++) fwd.push(step(model, batch, false));
  for (let i = 0; i < steps; i++) full.push(step(model, batch, true));
  const ms = median(full);
  console.log(
    `${name}: forward ${median(fwd).toFixed(0)} ms, forward+backward ${ms.toFixed(0)} ms ` +
      `→ ${((BATCH * 1000) / ms).toFixed(2)} samples/s (batch ${BATCH} × ${SEQ} tokens, median of ${steps})`,
  );
  if (profile) {
    const info = await tf.profile(() => step(model, batch, true));
    const byKernel = new Map<string, number>();
    for (const k of info.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + (await k.kernelTimeMs as number));
    const total = [...byKernel.values()].reduce((a, b) => a + b, 0);
    console.log(`  kernels (${info.kernels.length} calls, ${total.toFixed(0)} ms in kernels):`);
    for (const [k, t] of [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`    ${k.padEnd(24)} ${t.toFixed(1)} ms`);
  }
}

async function main(): Promise<void> {
  const gemm = opt('gemm', 'auto') as 'auto' | 'onnxruntime' | 'backend';
  const sel = await selectTfjsDevice(device, { threads: Number(opt('threads', '0')) || undefined, gemm });
  console.log(`device: ${sel.device} (backend ${sel.backend}; ${JSON.stringify(sel.details)}); tried: ${sel.tried.join(' | ')}`);
  const fixture = opt('fixture', resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'fixtures', 'sentence-transformers', 'tiny-bert'));
  if (only !== 'small') {
    if (existsSync(join(fixture, 'model.safetensors'))) {
      const m = BertModel.load(fixture);
      await bench('fixture tiny-bert (64 hidden, 2 layers)', m);
      m.dispose();
    } else console.log(`fixture model not found at ${fixture}; skipped`);
  }
  if (only !== 'fixture') {
    const m = BertModel.random(BGE_SMALL, 1);
    await bench('bge-small shape (384 hidden, 12 layers, random weights)', m);
    m.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
