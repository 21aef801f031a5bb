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
import { UserError } from '../errors.js';
import { checkpointPath, latestCheckpoint, pruneCheckpoints, readCheckpoint, removePartialCheckpoints, writeCheckpoint, type BestMetric, type CheckpointRef } from '../train/checkpoint.js';
import { TrainingEvaluator } from '../train/evaluator.js';
import { textColumns } from '../train/loss.js';
import { AdamW } from '../train/optim.js';
import { fingerprintOf, planSteps, preflight, resumeCheck } from '../train/plan.js';
import { createSampler } from '../train/samplers.js';
import { LrSchedule } from '../train/schedule.js';
import { NonFiniteLossError } from '../train/step.js';
import { trainingDefaults, type FullTrainingConfig } from '../train/training-schema.js';
import type { Logger, TrainResult } from '../types.js';
import { initAdapter, mapVectors, TfAdapter, type AdapterWeights } from './model.js';
import { finishAdapter } from './finish.js';
import { checkRequest, embedTrainingTexts, type AdapterTrainRequest } from './request.js';
import { readAdapterOptions } from './schema.js';
import { adapterStep } from './step.js';

export type { AdapterTrainRequest } from './request.js';

const r6 = (x: number): number => Math.round(x * 1e6) / 1e6;
const quiet: Logger = { info() {}, warn() {}, debug() {} };

export async function trainAdapter(req: AdapterTrainRequest): Promise<TrainResult> {
  const started = performance.now();
  await tf.ready();
  const cfg = { ...trainingDefaults(), ...req.training } as FullTrainingConfig;
  const ad = readAdapterOptions(req.training);
  const logger = req.logger ?? quiet;
  const seed = cfg.seed ?? req.seed ?? 42;
  const needs = req.loss.needs;
  const items = req.examples.items;
  checkRequest(req, cfg.batch_size);
  const cols = textColumns(needs, items, new Map());
  // 1. Embed every distinct text once (cached in the run).
  const { query: q, document: d, seconds: embedSeconds } = await embedTrainingTexts(req, cols);

  // 2. Batches, model, optimizer, schedule, evaluator — as full fine-tuning.
  const sampler = createSampler(items, needs, { kind: cfg.batch_sampler, batchSize: cfg.batch_size, samplesPerLabel: cfg.samples_per_label, seed });
  const plans = new Map<number, number[][]>();
  const plan = (e: number): number[][] => plans.get(e) ?? plans.set(e, sampler.epoch(e)).get(e)!;
  const totalSteps = planSteps(cfg, plan);
  const labels = items.map((e) => e.label ?? '');
  preflight({ loss: req.loss, training: cfg, logger }, sampler, plan(0), labels);

  const dim = req.encoder.dim;
  const model = new TfAdapter(initAdapter(ad.kind, dim, ad.hidden, seed));
  const opt = new AdamW(model.variables, { lr: ad.learning_rate, weightDecay: cfg.weight_decay, decay: (n) => n.endsWith('.weight') });
  const schedule = new LrSchedule(ad.learning_rate, {
    type: cfg.scheduler === 'linear' ? 'linear' : 'constant_with_warmup',
    totalSteps,
    warmupSteps: cfg.warmup_steps,
    warmupRatio: cfg.warmup_ratio,
  });
  const evaluator = new TrainingEvaluator({ test: req.test, corpus: req.corpus, metrics: req.metrics, k: req.k, seed });
  const embedder = (w: AdapterWeights) => ({
    embed: (texts: string[], kind: 'query' | 'document' = 'query') => {
      const base = texts.map((t) => (kind === 'query' ? q : d).vectors.get(t)!);
      return kind === 'query' || ad.apply_to === 'both' ? mapVectors(w, base) : base;
    },
  });
  const adapterPrint = { kind: ad.kind, hidden: ad.kind === 'mlp' ? ad.hidden : 0, apply_to: ad.apply_to, dim, learning_rate: ad.learning_rate };
  const fingerprint = { ...fingerprintOf(cfg, seed, items, needs), adapter: adapterPrint };
  const stepData = { cols, query: q.vectors, document: d.vectors, both: ad.apply_to === 'both' };

  let step = 0;
  let epoch = 0;
  let batchIdx = 0;
  let samples = 0;
  let trainSeconds = 0;
  let best: BestMetric | undefined;
  let metrics: Record<string, number> | undefined;
  let last: CheckpointRef | undefined;
  const epochPos = (): number => (batchIdx === 0 ? epoch : r6(epoch + batchIdx / plan(epoch).length));
  const bar = req.progress?.start('adapter training', totalSteps);
  try {
    if (req.resume) {
      removePartialCheckpoints(req.checkpointDir);
      last = latestCheckpoint(req.checkpointDir);
      if (!last) logger.warn(`no checkpoint in ${req.checkpointDir}: adapter training starts from the beginning`);
      else {
        const ck = readCheckpoint(last.dir);
        resumeCheck(ck.state.fingerprint, fingerprint, last.dir, logger);
        if (JSON.stringify(ck.state.fingerprint.adapter) !== JSON.stringify(adapterPrint)) {
          throw new UserError('E_RUN', `cannot resume from ${last.dir}: the adapter settings changed (${JSON.stringify(ck.state.fingerprint.adapter)} → ${JSON.stringify(adapterPrint)})`);
        }
        model.load({ ...model.weights, tensors: ck.weights });
        opt.setState(ck.optimizer);
        ({ global_step: step, epoch, batch_in_epoch: batchIdx, samples_seen: samples, train_seconds: trainSeconds, best, metrics } = ck.state);
        req.onEvent({ type: 'resume', step, epoch: epochPos(), checkpoint: last.dir });
        logger.info(`adapter: resuming from ${last.dir} (step ${step} of ${totalSteps})`);
      }
    }

    const checkpoint = (withMetrics: Record<string, number> | undefined): void => {
      const dir = writeCheckpoint(req.checkpointDir, {
        state: { global_step: step, epoch, batch_in_epoch: batchIdx, samples_seen: samples, seed, sampler: sampler.kind, ...(withMetrics ? { metrics: withMetrics } : {}), ...(best ? { best } : {}), train_seconds: trainSeconds, fingerprint },
        weights: model.snapshot().tensors,
        optimizer: opt.getState(),
        optimizerConfig: { type: 'AdamW', lr: ad.learning_rate, betas: [opt.beta1, opt.beta2], eps: opt.eps, weight_decay: opt.weightDecay },
      });
      last = { step, dir };
      pruneCheckpoints(req.checkpointDir, cfg.save_total_limit, best?.step);
      req.onEvent({ type: 'checkpoint', step, epoch: epochPos(), path: dir, best: best?.step === step });
    };
    const evaluate = (): void => {
      if (evaluator.empty) return;
      metrics = evaluator.evaluate(embedder(model.snapshot()));
      const value = metrics[req.primary];
      if (value !== undefined && (best === undefined || value > best.value)) best = { metric: req.primary, value, step };
      req.onEvent({ type: 'eval', step, epoch: epochPos(), metrics, ...(best ? { best } : {}) });
    };

    bar?.update(step);
    while (step < totalSteps) {
      const batches = plan(epoch);
      const micro = batches.slice(batchIdx, batchIdx + cfg.gradient_accumulation_steps);
      const lr = schedule.lrAt(step);
      const t0 = performance.now();
      let r;
      try {
        r = adapterStep(model, opt, req.loss, stepData, micro, lr, cfg.max_grad_norm);
      } catch (e) {
        if (!(e instanceof NonFiniteLossError)) throw e;
        const kept = last ? `the last good checkpoint is ${last.dir} (step ${last.step})` : 'no checkpoint was saved before it';
        throw new Error(
          `adapter training diverged at step ${step + 1} (epoch ${epoch + 1}): ${e.message}; the update was not applied and training stopped; ${kept}. ` +
            'Lower training.adapter.learning_rate or set training.max_grad_norm',
          { cause: e },
        );
      }
      trainSeconds += (performance.now() - t0) / 1000;
      step++;
      batchIdx += micro.length;
      samples += micro.reduce((s, b) => s + b.length, 0);
      const epochDone = batchIdx >= batches.length;
      req.onEvent({ type: 'train_step', step, epoch: r6(epoch + batchIdx / batches.length), loss: r.loss, lr, grad_norm: r.gradNorm, samples });
      if (epochDone) {
        plans.delete(epoch);
        epoch++;
        batchIdx = 0;
      }
      const final = step >= totalSteps;
      if (final || (cfg.eval_every > 0 ? step % cfg.eval_every === 0 : epochDone)) {
        evaluate();
        checkpoint(metrics);
      }
      bar?.update(step);
      await new Promise((res) => setImmediate(res)); // let signals and I/O through between steps
      if (req.signal?.aborted && !final) {
        if (last?.step !== step) checkpoint(undefined);
        throw new Error(`adapter training interrupted at step ${step} of ${totalSteps}; checkpoint ${last!.dir} (resume with ftrun resume)`);
      }
    }

    // 3. The adapter: the best evaluated one (load_best) or the last.
    let final = model.snapshot();
    if (cfg.load_best && best && best.step !== step) {
      const dir = checkpointPath(req.checkpointDir, best.step);
      final = { ...final, tensors: readCheckpoint(dir).weights };
      req.onEvent({ type: 'load_best', step: best.step, metric: best.metric, value: best.value, path: dir });
    }
    return await finishAdapter({
      req,
      options: ad,
      exportOnnx: cfg.export_onnx,
      weights: final,
      best,
      metrics,
      step,
      epochs: epochPos(),
      samples,
      trainSeconds,
      started,
      info: {
        parameters: model.variables.reduce((n, v) => n + v.size, 0),
        tfjs_backend: tf.getBackend(),
        total_steps: totalSteps,
        examples: items.length,
        batch_sampler: sampler.kind,
        warmup_steps: schedule.warmupSteps,
        seed,
        embed_seconds: r6(embedSeconds),
        texts_cached: q.stats.cached + d.stats.cached,
        texts_encoded: q.stats.encoded + d.stats.encoded,
      },
    });
  } finally {
    bar?.done();
    model.dispose();
    opt.dispose();
  }
}
