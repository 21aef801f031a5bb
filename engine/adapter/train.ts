/**
 * Adapter fine-tuning (training.method adapter): the encoder stays frozen; every distinct text is
 * embedded once (cached in <outDir>/cache/), and a small map (model.ts) is trained on the cached
 * vectors with the run's loss plugin, AdamW, warmup + linear schedule, gradient clipping, the batch
 * samplers, periodic evaluation on the test split, checkpoints and resume — the machinery of full
 * fine-tuning (core/train/*) applied to a d×d problem.
 *
 * Query-side texts (anchors, test queries) go through the adapter; document-side texts (positives,
 * negatives, the corpus) too when apply_to is `both`. Both sides are L2-normalised before the loss,
 * as a sentence-transformers Normalize module would (documents under apply_to `query` only change
 * length, so cosine rankings against existing document vectors are unchanged).
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../core/errors.js';
import { TrainingEvaluator } from '../../core/train/evaluator.js';
import { TrainLoop } from '../../core/train/loop.js';
import { lossColumns } from '../../core/train/columns.js';
import { LossSeam } from '../../core/train/seam.js';
import { AdamW } from '../train/optim.js';
import { fingerprintOf, preflight, RunPlan } from '../../core/train/plan.js';
import { trainingDefaults, type FullTrainingConfig } from '../../core/train/training-schema.js';
import type { Logger, TrainResult } from '../../core/types.js';
import { initAdapter, mapVectors, TfAdapter, type AdapterWeights } from './model.js';
import { finishAdapter } from './finish.js';
import { checkRequest, embedTrainingTexts, type AdapterTrainRequest } from './request.js';
import { ADAPTER_DEFAULT_LR, readAdapterOptions } from '../../core/train/adapter-schema.js';
import { adapterStep } from './step.js';

export type { AdapterTrainRequest } from './request.js';

const r6 = (x: number): number => Math.round(x * 1e6) / 1e6;
const quiet: Logger = { info() {}, warn() {}, debug() {} };

export async function trainAdapter(req: AdapterTrainRequest): Promise<TrainResult> {
  const started = performance.now();
  await tf.ready();
  const cfg = { ...trainingDefaults(), learning_rate: ADAPTER_DEFAULT_LR, ...req.training } as FullTrainingConfig;
  const ad = readAdapterOptions(req.training);
  const logger = req.logger ?? quiet;
  const seed = cfg.seed ?? req.seed ?? 42;
  const needs = req.loss.needs;
  const items = req.examples.items;
  checkRequest(req, cfg.batch_size);
  const cols = lossColumns(needs, items, new Map());
  // 1. Embed every distinct text once (cached in the run).
  const { query: q, document: d, seconds: embedSeconds } = await embedTrainingTexts(req, cols);

  // 2. Batches, model, optimizer, schedule, evaluator — as full fine-tuning.
  const plan = new RunPlan(cfg, items, needs, seed);
  preflight({ loss: req.loss, training: cfg, logger }, plan.sampler, plan.epoch(0), plan.labels);

  const dim = req.encoder.dim;
  const model = new TfAdapter(initAdapter(ad.kind, dim, ad.hidden, seed));
  const opt = new AdamW(model.variables, { lr: cfg.learning_rate, weightDecay: cfg.weight_decay, decay: (n) => n.endsWith('.weight') });
  const evaluator = new TrainingEvaluator({ test: req.test, corpus: req.corpus, metrics: req.metrics, k: req.k, seed });
  const embedder = (w: AdapterWeights) => ({
    embed: (texts: string[], kind: 'query' | 'document' = 'query') => {
      const base = texts.map((t) => (kind === 'query' ? q : d).vectors.get(t)!);
      return kind === 'query' || ad.apply_to === 'both' ? mapVectors(w, base) : base;
    },
  });
  const adapterPrint = { kind: ad.kind, hidden: ad.kind === 'mlp' ? ad.hidden : 0, apply_to: ad.apply_to, dim, learning_rate: cfg.learning_rate };
  const stepData = { items, query: q.vectors, document: d.vectors, both: ad.apply_to === 'both' };
  const seam = LossSeam.forExamples(req.loss, items, cfg.mini_batch_size);
  const loop = new TrainLoop({
    label: 'adapter training',
    logPrefix: 'adapter: ',
    lrOption: 'training.learning_rate',
    learningRate: cfg.learning_rate,
    cfg,
    plan,
    seed,
    fingerprint: { ...fingerprintOf(cfg, seed, items, needs), adapter: adapterPrint },
    primary: req.primary,
    checkpointDir: req.checkpointDir,
    optimizer: opt,
    onEvent: req.onEvent,
    logger,
    signal: req.signal,
    step: (micro, lr) => adapterStep(model, opt, seam, stepData, micro, lr, cfg.max_grad_norm),
    evaluate: () => (evaluator.empty ? undefined : evaluator.evaluate(embedder(model.snapshot()))),
    save: () => ({ weights: model.snapshot().tensors, optimizer: opt.getState() }),
    ...(req.prune ? { prune: req.prune } : {}),
  });

  const bar = req.progress?.start('adapter training', loop.totalSteps);
  try {
    if (req.resume) {
      loop.resume((ck, dir) => {
        if (JSON.stringify(ck.state.fingerprint.adapter) !== JSON.stringify(adapterPrint)) {
          throw new UserError('E_RUN', `cannot resume from ${dir}: the adapter settings changed (${JSON.stringify(ck.state.fingerprint.adapter)} → ${JSON.stringify(adapterPrint)})`);
        }
        model.load({ ...model.weights, tensors: ck.weights });
        opt.setState(ck.optimizer);
      });
    }
    await loop.run(bar);

    // 3. The adapter: the best evaluated one (load_best) or the last.
    let final = model.snapshot();
    const chosen = loop.bestWeights();
    if (chosen) final = { ...final, tensors: chosen.weights };
    const result = await finishAdapter({
      req,
      options: ad,
      learningRate: cfg.learning_rate,
      exportOnnx: cfg.export_onnx,
      weights: final,
      best: loop.best,
      metrics: loop.metrics,
      step: loop.step,
      epochs: loop.epochPos(),
      samples: loop.samples,
      trainSeconds: loop.trainSeconds,
      started,
      info: {
        parameters: model.variables.reduce((n, v) => n + v.size, 0),
        tfjs_backend: tf.getBackend(),
        total_steps: loop.totalSteps,
        examples: items.length,
        batch_sampler: plan.sampler.kind,
        warmup_steps: loop.schedule.warmupSteps,
        seed,
        embed_seconds: r6(embedSeconds),
        texts_cached: q.stats.cached + d.stats.cached,
        texts_encoded: q.stats.encoded + d.stats.encoded,
      },
    });
    return loop.earlyStop ? { ...result, earlyStop: loop.earlyStop } : result;
  } finally {
    bar?.done();
    model.dispose();
    opt.dispose();
  }
}
