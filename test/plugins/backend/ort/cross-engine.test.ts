/**
 * Checkpoints move between engines: a run checkpointed by the tfjs trainer and resumed on the ort
 * trainer (and the other way round) ends within 1e-5 of an uninterrupted run — same checkpoint
 * format, same weight names, same AdamW state, same batch plan and dropout seeds. Compared on the
 * sentence embeddings of the final model (weights whose true gradient is zero, such as the
 * attention key biases, get Adam steps of size ~lr from rounding noise that differs per engine).
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { loadModelLayout } from '../../../../engine/model/layout.js';
import { selectTfjsDevice } from '../../../../plugins/backend/tfjs/device.js';
import { TfjsSentenceModel } from '../../../../plugins/backend/tfjs/sentence.js';
import type { LossPlugin } from '../../../../core/train/loss.js';
import { createOptimizer, TrainStep } from '../../../../plugins/backend/tfjs/train-step.js';
import { runTraining, type TrainerRequest } from '../../../../core/train/trainer.js';
import { OrtBertEngine } from '../../../../plugins/backend/ort/bert-engine.js';
import { OrtTrainStep } from '../../../../plugins/backend/ort/train-step.js';
import BatchSemiHardTripletLoss from '../../../../plugins/loss/batch-semi-hard-triplet.js';
import { makeContext } from '../../../helpers/context.js';
import { describeShared, TINY_BERT } from '../../../helpers/shared.js';
import { training, trainerRequest } from '../../../train/fixture-data.js';
import { LossSeam } from '../../../../core/train/seam.js';

type Engine = 'tfjs' | 'ort';
const semiHard: LossPlugin = await new BatchSemiHardTripletLoss({ margin: 5, distance_metric: 'euclidean' }, makeContext());
const loss = (): LossPlugin => semiHard;
const layout = () => loadModelLayout(TINY_BERT, { query_prompt: '', document_prompt: '' });
const cfg = training({ epochs: 3, eval_every: 5, warmup_ratio: 0.2, learning_rate: 1e-3, max_grad_norm: 1 });

/** Train on `engine` (resuming from `dir` when asked, aborting after `abortAt` steps); returns the final weights. */
const PROBES = ['STARBUCKS #1234 SEATTLE', 'DELTA AIR LINES ATLANTA', 'AMAZON WEB SERVICES', 'HILTON HOTELS CHICAGO', 'UBER TRIP 8X2'];

async function trainOn(engine: Engine, dir: string, opts: { resume?: boolean; abortAt?: number } = {}): Promise<Float32Array[]> {
  const ac = new AbortController();
  let embed: () => Promise<Float32Array[]> | Float32Array[];
  let open: TrainerRequest['open'];
  let close: () => Promise<void>;
  if (engine === 'tfjs') {
    const model = TfjsSentenceModel.load(layout());
    open = (seam) => new TrainStep(model, seam, createOptimizer(model, cfg.learning_rate, cfg.weight_decay));
    embed = () => model.embed(PROBES, 'query');
    close = async () => model.dispose();
  } else {
    const e = await OrtBertEngine.load(layout(), { threads: 1, executionProviders: ['cpu'] });
    open = (seam) => new OrtTrainStep(e, seam, { weightDecay: cfg.weight_decay });
    embed = () => e.embed(PROBES, 'query');
    close = () => e.dispose();
  }
  try {
    await runTraining({
      ...trainerRequest(dir, { training: cfg }),
      loss: loss(),
      open,
      resume: opts.resume ?? false,
      signal: ac.signal,
      onEvent: (e) => e.type === 'train_step' && e.step === opts.abortAt && ac.abort(),
    }).catch((e: Error) => {
      if (!opts.abortAt || !/interrupted at step/.test(e.message)) throw e;
    });
    return await embed();
  } finally {
    await close();
  }
}

function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  let d = 0;
  a.forEach((v, i) => v.forEach((x, k) => (d = Math.max(d, Math.abs(x - b[i]![k]!)))));
  return d;
}

describeShared('checkpoints across engines', () => {
  beforeAll(async () => {
    await selectTfjsDevice('cpu', { threads: 1 });
    await tf.ready();
  });

  it('the two engines train the same model (embeddings within 1e-4 after 12 steps)', async () => {
    const a = await trainOn('tfjs', mkdtempSync(join(tmpdir(), 'ftrun-x-')));
    const b = await trainOn('ort', mkdtempSync(join(tmpdir(), 'ftrun-x-')));
    expect(maxDiff(a, b)).toBeLessThanOrEqual(1e-4);
  });

  for (const [from, to] of [['tfjs', 'ort'], ['ort', 'tfjs']] as const) {
    it(`a ${from} checkpoint resumed on ${to} continues within 1e-5 of an uninterrupted ${from} run`, async () => {
      const full = await trainOn(from, mkdtempSync(join(tmpdir(), 'ftrun-x-')));
      const dir = mkdtempSync(join(tmpdir(), 'ftrun-x-'));
      await trainOn(from, dir, { abortAt: 7 });
      const resumed = await trainOn(to, dir, { resume: true });
      expect(maxDiff(full, resumed)).toBeLessThanOrEqual(1e-5);
    });
  }
});
