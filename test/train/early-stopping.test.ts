/**
 * training.early_stopping: the patience / min_delta rule (as Lightning's EarlyStopping), and the
 * training loop that follows it (scripted evaluations, no model): where it stops, the early_stop
 * event, the best checkpoint kept for load_best, the state in each checkpoint and a resume that
 * stays stopped; a sweep's pruner stops a trial with TrialStopped after its checkpoint is written;
 * sweep.stop's median rule (min_trials, grace_steps) and its files in the sweep directory.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listCheckpoints, readCheckpoint } from '../../core/train/checkpoint.js';
import { EarlyStopper, TrialStopped, type Pruner } from '../../core/train/early-stopping.js';
import { TrainLoop } from '../../core/train/loop.js';
import { RunPlan } from '../../core/train/plan.js';
import { readTrainingConfig, type FullTrainingConfig } from '../../core/train/training-schema.js';
import type { Example, TrainingEvent } from '../../core/types.js';
import { FileIntermediateStore, median, medianPruner, type IntermediateStore } from '../../core/run/sweep-stop.js';

describe('EarlyStopper', () => {
  const run = (values: number[], patience: number, min_delta = 0) => {
    const s = new EarlyStopper({ metric: 'mrr@1', patience, min_delta });
    const at = values.findIndex((v, i) => s.update(i + 1, { 'mrr@1': v }));
    return { stoppedAt: at < 0 ? undefined : at + 1, state: s.state };
  };

  it('stops after `patience` evaluations in a row without improvement; an improvement starts the count again', () => {
    expect(run([0.5, 0.6, 0.6, 0.55], 2)).toEqual({ stoppedAt: 4, state: { metric: 'mrr@1', best: 0.6, best_step: 2, wait: 2 } });
    expect(run([0.5, 0.5, 0.6, 0.6, 0.7, 0.6], 2).stoppedAt).toBeUndefined();
    expect(run([0.5, 0.4], 1)).toEqual({ stoppedAt: 2, state: { metric: 'mrr@1', best: 0.5, best_step: 1, wait: 1 } });
    // the first evaluation is always the best so far
    expect(run([0.1], 1)).toEqual({ stoppedAt: undefined, state: { metric: 'mrr@1', best: 0.1, best_step: 1, wait: 0 } });
  });

  it('counts only increases of more than min_delta as improvements, and keeps the best value of the last real improvement', () => {
    // +0.01 twice is not more than 0.02: the best stays 0.5 at step 1
    expect(run([0.5, 0.51, 0.52], 2, 0.02)).toEqual({ stoppedAt: 3, state: { metric: 'mrr@1', best: 0.5, best_step: 1, wait: 2 } });
    expect(run([0.5, 0.53, 0.54, 0.545], 2, 0.02).state).toEqual({ metric: 'mrr@1', best: 0.53, best_step: 2, wait: 2 });
    // without min_delta any increase counts
    expect(run([0.5, 0.51, 0.52], 2).state).toEqual({ metric: 'mrr@1', best: 0.52, best_step: 3, wait: 0 });
  });

  it('watches its own metric and ignores evaluations without it; a saved state continues for the same metric only', () => {
    const s = new EarlyStopper({ metric: 'triplet_accuracy', patience: 1, min_delta: 0 });
    expect(s.update(1, { 'mrr@1': 0.9 })).toBe(false);
    expect(s.state).toBeUndefined();
    expect(s.update(2, { triplet_accuracy: 0.9, 'mrr@1': 0.1 })).toBe(false);
    expect(s.update(3, { triplet_accuracy: 0.9, 'mrr@1': 1 })).toBe(true);
    const saved = { metric: 'mrr@1', best: 0.5, best_step: 2, wait: 1 };
    expect(new EarlyStopper({ metric: 'mrr@1', patience: 2, min_delta: 0 }, saved).update(4, { 'mrr@1': 0.4 })).toBe(true);
    expect(new EarlyStopper({ metric: 'mrr@1', patience: 1, min_delta: 0 }, saved).stopped).toBe(true);
    expect(new EarlyStopper({ metric: 'ndcg@3', patience: 1, min_delta: 0 }, saved).state).toBeUndefined();
  });
});

// ── The loop, with scripted evaluations ──────────────────────────────────────────────────────

const items: Example[] = Array.from({ length: 40 }, (_, i) => ({ anchor: `query ${i}`, positive: `document ${i}` }));

function loop(over: Partial<FullTrainingConfig>, values: number[], dir: string, prune?: Pruner) {
  const cfg = readTrainingConfig({ method: 'full', batch_size: 4, learning_rate: 1e-3, max_steps: 20, eval_every: 2, save_total_limit: 1, ...over });
  const events: TrainingEvent[] = [];
  const infos: string[] = [];
  let evaluations = 0;
  const l = new TrainLoop({
    label: 'training',
    logPrefix: '',
    lrOption: 'training.learning_rate',
    learningRate: cfg.learning_rate,
    cfg,
    plan: new RunPlan(cfg, items, 'pairs', 7),
    seed: 7,
    fingerprint: { test: 1 },
    primary: 'mrr@1',
    checkpointDir: dir,
    optimizer: { beta1: 0.9, beta2: 0.999, eps: 1e-6, weightDecay: 0 },
    onEvent: (e) => events.push(e),
    logger: { info: (m) => infos.push(m), warn() {}, debug() {} },
    step: () => ({ loss: 1, gradNorm: 1 }),
    evaluate: () => ({ 'mrr@1': values[evaluations++] ?? 0 }),
    save: () => ({ weights: new Map([['w', { shape: [1], data: Float32Array.of(l.step) }]]), optimizer: { params: [] } }),
    ...(prune ? { prune } : {}),
  });
  return { l, events, infos };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'ftrun-es-'));

describe('TrainLoop with training.early_stopping', () => {
  it('stops at the evaluation that runs out of patience, says so, and keeps the best checkpoint for load_best', async () => {
    const dir = tmp();
    const { l, events, infos } = loop({ early_stopping: { patience: 2, min_delta: 0 } }, [0.3, 0.5, 0.45, 0.5, 0.2, 0.9], dir);
    await l.run();
    // evaluations at steps 2, 4, 6, 8: the best is step 4's 0.5; 6 and 8 do not improve on it
    expect(l.step).toBe(8);
    expect(l.earlyStop).toEqual({ rule: 'patience', step: 8, metric: 'mrr@1', value: 0.5, best: { step: 4, value: 0.5 }, patience: 2, min_delta: 0 });
    expect(events.filter((e) => e.type === 'early_stop')).toEqual([{ type: 'early_stop', epoch: l.epochPos(), ...l.earlyStop }]);
    expect(events.filter((e) => e.type === 'train_step')).toHaveLength(8);
    expect(infos).toEqual(['early stopping at step 8 of 20: mrr@1 did not improve by more than 0 in 2 evaluations (best 0.5000 at step 4)']);
    // save_total_limit 1: the newest and the best are kept; load_best takes the best
    expect(listCheckpoints(dir).map((c) => c.step)).toEqual([4, 8]);
    expect(readCheckpoint(join(dir, 'step-8')).state.early_stopping).toEqual({ metric: 'mrr@1', best: 0.5, best_step: 4, wait: 2 });
    const best = l.bestWeights()!;
    expect(best.weights.get('w')!.data[0]).toBe(4);
    expect(events.at(-1)).toMatchObject({ type: 'load_best', step: 4, value: 0.5 });
  });

  it('watches training.early_stopping.metric with min_delta, and trains to the end when it keeps improving', async () => {
    const { l, events } = loop({ early_stopping: { metric: 'mrr@1', patience: 1, min_delta: 0.05 } }, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1], tmp());
    await l.run();
    expect(l.step).toBe(20);
    expect(l.earlyStop).toBeUndefined();
    expect(events.some((e) => e.type === 'early_stop')).toBe(false);
    const small = loop({ early_stopping: { patience: 1, min_delta: 0.05 } }, [0.1, 0.14, 0.5], tmp());
    await small.l.run();
    expect(small.l.earlyStop).toMatchObject({ step: 4, value: 0.14, best: { step: 2, value: 0.1 } });
  });

  it('a resumed run continues the count from its checkpoint, and one that had stopped stays stopped', async () => {
    const dir = tmp();
    // interrupted after step 6 (one evaluation without improvement so far)
    const first = loop({ early_stopping: { patience: 2, min_delta: 0 }, max_steps: 20 }, [0.3, 0.5, 0.4], dir);
    const ac = new AbortController();
    (first.l as unknown as { s: { signal: AbortSignal } }).s.signal = ac.signal;
    const stepAt = (first.l as unknown as { s: { step: () => unknown } }).s;
    const plain = stepAt.step;
    stepAt.step = () => {
      if (first.l.step === 5) ac.abort();
      return plain();
    };
    await expect(first.l.run()).rejects.toThrow('training interrupted at step 6 of 20');
    const again = loop({ early_stopping: { patience: 2, min_delta: 0 } }, [0.45], dir);
    expect(again.l.resume(() => {})).toBe(true);
    await again.l.run();
    expect(again.l.earlyStop).toMatchObject({ step: 8, best: { step: 4, value: 0.5 } });
    // resumed from step 8's checkpoint: nothing more to train
    const third = loop({ early_stopping: { patience: 2, min_delta: 0 } }, [], dir);
    expect(third.l.resume(() => {})).toBe(true);
    await third.l.run();
    expect(third.l.step).toBe(8);
    expect(third.events.filter((e) => e.type === 'train_step')).toHaveLength(0);
    expect(third.l.earlyStop).toMatchObject({ rule: 'patience', step: 8 });
  });

  it('a sweep pruner stops the trial after the checkpoint of the evaluation it judged, never after the last', async () => {
    const dir = tmp();
    const asked: number[] = [];
    const prune: Pruner = async (step, metrics) => {
      asked.push(step);
      return step === 6 ? { rule: 'median', metric: 'mrr@1', value: metrics['mrr@1']!, median: 0.5, trials: 2 } : undefined;
    };
    const { l, events } = loop({}, [0.1, 0.2, 0.3], dir, prune);
    const err = await l.run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrialStopped);
    expect((err as Error).message).toBe('stopped at step 6: mrr@1 0.3000 is below the median 0.5000 of 2 other trials at that step (sweep.stop: median)');
    expect(asked).toEqual([2, 4, 6]);
    expect(listCheckpoints(dir).map((c) => c.step)).toContain(6);
    expect(events.at(-1)).toEqual({ type: 'early_stop', epoch: l.epochPos(), rule: 'median', step: 6, metric: 'mrr@1', value: 0.3, median: 0.5, trials: 2 });
    const last: number[] = [];
    const end = loop({ max_steps: 4 }, [0.1, 0.2], tmp(), async (step) => void last.push(step));
    await end.l.run();
    expect(last).toEqual([2]);
  });
});

// ── sweep.stop: the median rule and the intermediate files ──────────────────────────────────

describe('sweep.stop: median', () => {
  const memory = (): IntermediateStore & { rows: Map<number, Map<number, number>> } => {
    const rows = new Map<number, Map<number, number>>();
    return {
      rows,
      async report(trial, step, value) {
        if (!rows.has(step)) rows.set(step, new Map());
        rows.get(step)!.set(trial, value);
        return [...rows.get(step)!].filter(([t]) => t !== trial).map(([, v]) => v);
      },
    };
  };

  it('median: the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([0.4, 0.2])).toBeCloseTo(0.3, 12);
    expect(median([5])).toBe(5);
  });

  it('stops a trial below the median of at least min_trials others at that step, after grace_steps, never at or above it', async () => {
    const store = memory();
    const rule = { rule: 'median' as const, min_trials: 2, grace_steps: 2 };
    const p = (trial: number) => medianPruner(rule, store, trial, 'mrr@1');
    // trials 1 and 2 ran first: alone or with one other, nobody is stopped
    expect(await p(1)(2, { 'mrr@1': 0.5 })).toBeUndefined();
    expect(await p(1)(4, { 'mrr@1': 0.6 })).toBeUndefined();
    expect(await p(2)(2, { 'mrr@1': 0.3 })).toBeUndefined();
    expect(await p(2)(4, { 'mrr@1': 0.4 })).toBeUndefined();
    // trial 3: at step 2 (within grace_steps) it is only recorded; at step 4 it is below the median 0.5 of 0.6 and 0.4
    expect(await p(3)(2, { 'mrr@1': 0.1 })).toBeUndefined();
    expect(store.rows.get(2)!.get(3)).toBe(0.1);
    expect(await p(3)(4, { 'mrr@1': 0.45 })).toEqual({ rule: 'median', metric: 'mrr@1', value: 0.45, median: 0.5, trials: 2 });
    // at the median is not below it; a metric the evaluation lacks is not judged
    expect(await p(4)(4, { 'mrr@1': 0.45 })).toBeUndefined(); // others 0.6, 0.4, 0.45: median 0.45
    expect(await p(5)(4, { ndcg: 0.1 })).toBeUndefined();
    expect(store.rows.get(4)!.has(5)).toBe(false);
  });

  it('a shared record that cannot be reached: with warn the trial goes on unjudged (said once), without it the error ends the run', async () => {
    const away: IntermediateStore = { report: async () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')) };
    const rule = { rule: 'median' as const, min_trials: 2, grace_steps: 0 };
    const warnings: string[] = [];
    const p = medianPruner(rule, away, 3, 'mrr@1', (m) => warnings.push(m));
    expect(await p(2, { 'mrr@1': 0.1 })).toBeUndefined();
    expect(await p(4, { 'mrr@1': 0.1 })).toBeUndefined();
    expect(warnings).toEqual(["sweep.stop: cannot record or read the trials' values at step 2 (connect ECONNREFUSED 127.0.0.1:6379); trial 3 goes on without being compared until it can"]);
    await expect(medianPruner(rule, away, 3, 'mrr@1')(2, { 'mrr@1': 0.1 })).rejects.toThrow('connect ECONNREFUSED 127.0.0.1:6379');
  });

  it('the files in the sweep directory: each trial writes its own, reads the others at the same step, and keeps its earlier values on resume', async () => {
    const dir = tmp();
    const a = new FileIntermediateStore(dir, 'mrr@1');
    expect(await a.report(1, 2, 0.5)).toEqual([]);
    expect(await a.report(1, 4, 0.6)).toEqual([]);
    expect(await new FileIntermediateStore(dir, 'mrr@1').report(2, 2, 0.3)).toEqual([0.5]);
    // trial 1 resumed in a new process: its file keeps step 2 and 4
    expect(await new FileIntermediateStore(dir, 'mrr@1').report(1, 6, 0.7)).toEqual([]);
    expect(JSON.parse(readFileSync(join(dir, 'intermediate', '1.json'), 'utf8'))).toEqual({ trial: 1, metric: 'mrr@1', values: { '2': 0.5, '4': 0.6, '6': 0.7 } });
    expect(readdirSync(join(dir, 'intermediate')).sort()).toEqual(['1.json', '2.json']);
    expect(await new FileIntermediateStore(dir, 'mrr@1').report(3, 2, 0.1)).toEqual(expect.arrayContaining([0.5, 0.3]));
  });
});
