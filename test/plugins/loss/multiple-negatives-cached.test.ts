/**
 * `cached-multiple-negatives-ranking` and the options of the multiple-negatives-ranking family:
 * - on both engines (tiny-bert fixture, dropout 0), the cached loss (GradCache in chunks of its own
 *   mini_batch_size) gives the value and every weight gradient of plain `multiple-negatives-ranking`
 *   with the same options;
 * - `ftrun validate` refuses, at their line, the option combinations sentence-transformers refuses,
 *   options that cannot take effect, and a training.mini_batch_size that contradicts the loss's.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Example } from '../../../core/types.js';
import type { LossPlugin } from '../../../core/train/loss.js';
import { LossSeam } from '../../../core/train/seam.js';
import { loadModelLayout } from '../../../engine/model/layout.js';
import { AdamW } from '../../../engine/train/optim.js';
import { OrtBertEngine } from '../../../plugins/backend/ort/bert-engine.js';
import { OrtTrainStep, prepareHostLoss } from '../../../plugins/backend/ort/train-step.js';
import { TfjsSentenceModel } from '../../../plugins/backend/tfjs/sentence.js';
import { TrainStep } from '../../../plugins/backend/tfjs/train-step.js';
import Cached from '../../../plugins/loss/cached-multiple-negatives-ranking.js';
import Mnrl from '../../../plugins/loss/multiple-negatives-ranking.js';
import { cli, tempDir } from '../../helpers/cli.js';
import { makeContext } from '../../helpers/context.js';
import { describeShared, ROOT, TINY_BERT, transactionsWithTwoNegatives } from '../../helpers/shared.js';


/** max over weights of max |a − b| / max |a| (weights whose gradient is below 1e-4 of the largest measured against that). */
function worstRelative(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
  let top = 0;
  for (const g of a.values()) for (const v of g) top = Math.max(top, Math.abs(v));
  expect(top).toBeGreaterThan(0);
  let worst = 0;
  for (const [k, g] of a) {
    const h = b.get(k)!;
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < g.length; i++) {
      diff = Math.max(diff, Math.abs(g[i]! - h[i]!));
      scale = Math.max(scale, Math.abs(g[i]!));
    }
    // softmax ignores the attention key biases: their gradient is rounding noise on both sides
    if (k.endsWith('attention.self.key.bias')) continue;
    worst = Math.max(worst, diff / Math.max(scale, 1e-4 * top));
  }
  return worst;
}

const OPTIONS = {
  scale: 20,
  similarity: 'cos',
  directions: ['query_to_doc', 'query_to_query', 'doc_to_query', 'doc_to_doc'],
  partition_mode: 'joint',
  hardness_mode: 'all_negatives',
  hardness_strength: 5,
};

describeShared('cached-multiple-negatives-ranking = multiple-negatives-ranking on both engines (tiny-bert)', () => {
  const layout = () => loadModelLayout(TINY_BERT, { query_prompt: '', document_prompt: '' });
  let engine: OrtBertEngine;
  let model: TfjsSentenceModel;
  let items: Example[];
  let plain: LossPlugin;
  let cached: LossPlugin;
  beforeAll(async () => {
    await prepareHostLoss();
    engine = await OrtBertEngine.load(layout(), { threads: 1, executionProviders: ['cpu'] });
    model = TfjsSentenceModel.load(layout());
    items = transactionsWithTwoNegatives();
    plain = (await new Mnrl(OPTIONS as never, makeContext())) as LossPlugin;
    cached = (await new Cached({ ...OPTIONS, mini_batch_size: 3 } as never, makeContext())) as LossPlugin;
  });
  afterAll(async () => {
    await engine.dispose();
    model.dispose();
  });

  const ort = async (loss: LossPlugin) => {
    const step = new OrtTrainStep(engine, LossSeam.forExamples(loss, items), { weightDecay: 0 });
    const r = await step.gradients([items], [7]);
    const grads = new Map([...r.grads].map(([k, g]) => [k, Float32Array.from(g)]));
    step.clearTables(r.touched, r.positions);
    return { loss: r.loss, grads };
  };
  const tfjs = async (loss: LossPlugin) => {
    const opt = new AdamW(model.trainableVariables, { lr: 1e-3 });
    const step = new TrainStep(model, LossSeam.forExamples(loss, items), opt);
    const r = await step.lossAndGrads(items, 1, 7);
    const names = new Map([...model.bert.weights].map(([file, v]) => [v.name, file]));
    const grads = new Map(Object.entries(r.grads).map(([k, g]) => [names.get(k)!, Float32Array.from(g.dataSync() as Float32Array)]));
    tf.dispose(Object.values(r.grads));
    opt.dispose();
    return { loss: r.loss, grads };
  };

  it('the seam caches the cached loss in chunks of its mini_batch_size (3 of 10), the plain one not at all', () => {
    expect(LossSeam.forExamples(cached, items).miniBatchSize).toBe(3);
    expect(LossSeam.forExamples(plain, items).miniBatchSize).toBe(0);
  });

  for (const [engineName, run] of [['ort', ort], ['tfjs', tfjs]] as const) {
    it(`${engineName}: the same value and every weight gradient within 1e-5 (all four directions, hardness all_negatives 5, 2 negatives)`, async () => {
      const a = await run(plain);
      const b = await run(cached);
      expect(Number.isFinite(a.loss)).toBe(true);
      expect(Math.abs(b.loss - a.loss) / a.loss).toBeLessThan(1e-5);
      expect(worstRelative(a.grads, b.grads)).toBeLessThan(1e-5);
    });
  }
});

describeShared('cached-multiple-negatives-ranking from the CLI (tiny-bert, ort)', () => {
  it('a run takes the steps of multiple-negatives-ranking: every step\'s loss and gradient norm, and the fine-tuned metrics', async () => {
    const lines = (f: string) => readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const go = async (loss: string) => {
      const args = ['run', join(ROOT, 'configs', 'bge.yaml'), '--runs-dir', tempDir(), '--json', '--quiet', '--set', `model={path: ${TINY_BERT}}`];
      for (const s of ['training.epochs=1', 'training.learning_rate=1e-3', 'store.type=memory', 'backend={type: ort, intra_op_threads: 1}', `loss=${loss}`]) args.push('--set', s);
      const r = await cli(args);
      // 27 category names as positives: no-duplicates batches come out short, and ftrun says so.
      expect(r.stderr).toMatch(/^(warning: no-duplicates batches average [\d.]+ examples instead of 16[^\n]*\n)?$/);
      expect(r.code).toBe(0);
      const summary = JSON.parse(r.stdout) as { run_dir: string; models: Record<string, Record<string, number>> };
      const steps = lines(join(summary.run_dir, 'events.jsonl')).filter((e) => e.type === 'train_step') as Array<{ loss: number; grad_norm: number }>;
      return { summary, steps, resolved: readFileSync(join(summary.run_dir, 'resolved.yaml'), 'utf8') };
    };
    const plain = await go('{type: multiple-negatives-ranking}');
    const cached = await go('{type: cached-multiple-negatives-ranking, mini_batch_size: 5}');
    expect(cached.resolved).toMatch(/type: cached-multiple-negatives-ranking\n(.*\n)*?\s+mini_batch_size: 5/);
    expect(cached.steps.length).toBe(plain.steps.length);
    expect(plain.steps.length).toBeGreaterThan(5);
    plain.steps.forEach((p, i) => {
      const c = cached.steps[i]!;
      expect(Math.abs(c.loss - p.loss) / Math.max(Math.abs(p.loss), 1e-6), `step ${i + 1} loss`).toBeLessThan(1e-4);
      expect(Math.abs(c.grad_norm - p.grad_norm) / p.grad_norm, `step ${i + 1} grad norm`).toBeLessThan(1e-4);
    });
    for (const [k, v] of Object.entries(plain.summary.models.finetuned!)) expect(cached.summary.models.finetuned![k], k).toBeCloseTo(v, 4);
  }, 600_000);
});

describe('validate: the options of the multiple-negatives-ranking family', () => {
  const BGE = join(ROOT, 'configs', 'bge.yaml');
  const validate = async (body: string) => {
    const file = join(tempDir(), 'exp.yaml');
    writeFileSync(file, `extends: ${BGE}\n${body}`);
    return cli(['validate', file]);
  };

  it('directions must include query_to_doc', async () => {
    const r = await validate('loss:\n  type: multiple-negatives-ranking\n  directions: [doc_to_query]\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('exp.yaml:4');
    expect(r.stderr).toContain('loss.directions: must include query_to_doc (it holds the positive pair); got [doc_to_query]. Choices: query_to_doc, query_to_query, doc_to_query, doc_to_doc');
  });

  it('per_direction is refused with query_to_query or doc_to_doc', async () => {
    const r = await validate('loss:\n  type: cached-multiple-negatives-ranking\n  directions: [query_to_doc, doc_to_doc]\n  partition_mode: per_direction\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "loss.partition_mode: per_direction needs every direction's candidates to include the positive pair, and doc_to_doc do not; use partition_mode joint or directions from query_to_doc, doc_to_query",
    );
  });

  it('hardness_strength without hardness_mode, and partition_mode with one direction, have no effect', async () => {
    const r = await validate('loss:\n  type: multiple-negatives-ranking\n  hardness_strength: 5\n  partition_mode: per_direction\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/exp\.yaml:4:\d+ loss\.hardness_strength: has no effect here: it weighs hardness_mode, which is none; remove it/);
    expect(r.stderr).toMatch(/exp\.yaml:5:\d+ loss\.partition_mode: has no effect here: with one direction, joint and per_direction are the same loss; remove it/);
  });

  it('a training.mini_batch_size that differs from the cached loss\'s mini_batch_size is refused at its line; equal or one of them is fine', async () => {
    const r = await validate('loss:\n  type: cached-multiple-negatives-ranking\n  mini_batch_size: 4\ntraining:\n  mini_batch_size: 8\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /exp\.yaml:6:\d+ training\.mini_batch_size: 8 differs from loss\.mini_batch_size \(4\) of loss cached-multiple-negatives-ranking; both set the GradCache chunk size: remove one of them, or give both the same value/,
    );
    for (const ok of [
      'loss:\n  type: cached-multiple-negatives-ranking\n  mini_batch_size: 4\ntraining:\n  mini_batch_size: 4\n',
      'loss:\n  type: cached-multiple-negatives-ranking\ntraining:\n  mini_batch_size: 8\n',
    ]) {
      const v = await validate(ok);
      expect(v.stderr).toMatch(/exp\.yaml: valid/);
      expect(v.code).toBe(0);
    }
  });
});
