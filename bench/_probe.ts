import 'reflect-metadata';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelLayout } from '../core/model/layout.js';
import { OrtBertEngine } from '../plugins/backend/ort/bert-engine.js';
import { OrtTrainStep } from '../plugins/backend/ort/train-step.js';
import BatchSemiHardTripletLoss from '../plugins/loss/batch-semi-hard-triplet.js';
import { BGE_SMALL_SHAPE, writeRandomBertDir } from './encode-onnx.js';
const fixture = '/work/shared/fixtures/sentence-transformers/tiny-bert';
const small = mkdtempSync(join(tmpdir(), 'probe-'));
writeRandomBertDir(BGE_SMALL_SHAPE, small);
for (const f of ['tokenizer.json', 'tokenizer_config.json', 'modules.json', 'sentence_bert_config.json']) copyFileSync(join(fixture, f), join(small, f));
const data = readFileSync('/work/shared/data/transactions/train_transactions.jsonl', 'utf8').trim().split('\n').map((l) => { const r = JSON.parse(l); return { anchor: r.input, label: r.expected[0] }; });
const layout = loadModelLayout(small, { query_prompt: '', document_prompt: '', pooling: 'cls', normalize: true });
const engine = await OrtBertEngine.load(layout, { threads: 2, executionProviders: ['cpu'] });
const loss = new BatchSemiHardTripletLoss({ margin: 5, distance_metric: 'euclidean' }, {} as any);
const step = new OrtTrainStep(engine, loss, { weightDecay: 0.01 }, data.map((e) => e.label));
for (let i = 0; i < 6; i++) {
  const b = data.slice(i * 16, i * 16 + 16);
  const t0 = performance.now();
  const r = await step.step([b], 2e-5, 1.0, [i]);
  const s = (performance.now() - t0) / 1000;
  console.log(`step ${i} ${s.toFixed(3)} s  ${(16 / s).toFixed(1)} samples/s`, JSON.stringify(step.times), r.loss.toFixed(4), 'rss', (process.memoryUsage().rss / 1e9).toFixed(2));
}
const texts = data.slice(0, 64).map((e) => e.anchor);
await engine.embed(texts, 'document', 32);
const t0 = performance.now();
for (let i = 0; i < 3; i++) await engine.embed(texts, 'document', 32);
console.log('eval-graph encode sentences/s', (192 / ((performance.now() - t0) / 1000)).toFixed(1));
{
  const { dropoutMasks } = await import('../plugins/backend/ort/masks.js');
  const b = data.slice(0, 16).map((e) => e.anchor);
  const batch = engine.tokenize(b, 'query');
  console.log('B,S', batch.B, batch.S);
  let t = performance.now();
  const masks = dropoutMasks(engine.cfg, batch.B, batch.S, 7, true);
  console.log('masks ms', (performance.now() - t).toFixed(1));
  for (let r = 0; r < 3; r++) {
    t = performance.now();
    const f = await engine.forwardTrain(batch, masks);
    const tf1 = performance.now() - t;
    t = performance.now();
    await engine.forwardEval(batch);
    const te = performance.now() - t;
    t = performance.now();
    await engine.backward(f, new Float32Array(f.hidden.length).fill(1e-3));
    console.log('fwd-train ms', tf1.toFixed(1), 'fwd-eval ms', te.toFixed(1), 'bwd ms', (performance.now() - t).toFixed(1));
  }
  const g = await step.gradients([data.slice(0, 16)], [1]);
  t = performance.now();
  step.optimizer.step(g.grads, 1e-5, 1, new Map([['embeddings.word_embeddings.weight', g.touched]]));
  console.log('adamw ms', (performance.now() - t).toFixed(1));
}
