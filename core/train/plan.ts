/**
 * Planning helpers of the training loop: the batch plan of a run (RunPlan), the number of
 * optimizer steps, the pre-flight checks of
 * the batch plan (can a batch triplet loss find valid triplets?), and the fingerprint that a
 * resumed run must share with the checkpoint it continues.
 */
import { createHash } from 'node:crypto';
import { UserError } from '../errors.js';
import type { Example, ExampleShape, Logger } from '../types.js';
import type { LossPlugin } from './loss.js';
import { type BatchSampler, createSampler, validTripletShare } from './samplers.js';
import type { FullTrainingConfig } from './training-schema.js';

/**
 * The batch plan of a run: the seeded sampler, each epoch's batches (made on first use, dropped
 * once the epoch is done), the number of optimizer steps, and each example's label ('' if none).
 */
export class RunPlan {
  readonly sampler: BatchSampler;
  readonly totalSteps: number;
  readonly labels: string[];
  private readonly plans = new Map<number, number[][]>();

  constructor(cfg: FullTrainingConfig, items: readonly Example[], needs: ExampleShape, seed: number) {
    this.sampler = createSampler(items, needs, { kind: cfg.batch_sampler, batchSize: cfg.batch_size, samplesPerLabel: cfg.samples_per_label, seed });
    this.totalSteps = planSteps(cfg, (e) => this.epoch(e));
    this.labels = items.map((e) => e.label ?? '');
  }

  /** The batches (example indices) of epoch `e`. */
  epoch(e: number): number[][] {
    return this.plans.get(e) ?? this.plans.set(e, this.sampler.epoch(e)).get(e)!;
  }

  /** Forget a finished epoch's batches. */
  drop(e: number): void {
    this.plans.delete(e);
  }
}

/**
 * Optimizer steps of the run: max_steps when set (epochs then repeat as needed, as Hugging Face),
 * else the sum over epochs of ceil(batches / gradient_accumulation_steps) — an epoch's last
 * update may accumulate fewer batches.
 */
export function planSteps(cfg: FullTrainingConfig, plan: (epoch: number) => number[][]): number {
  if (cfg.max_steps !== undefined) return cfg.max_steps;
  let total = 0;
  for (let e = 0; e < cfg.epochs; e++) total += Math.ceil(plan(e).length / cfg.gradient_accumulation_steps);
  return total;
}

/** Warnings about a batch plan that cannot train well (logged, not fatal). */
export function preflight(
  req: { loss: LossPlugin; training: FullTrainingConfig; logger: Logger },
  sampler: BatchSampler,
  batches: number[][],
  labels: readonly string[],
): void {
  const cfg = req.training;
  const log = req.logger;
  if (sampler.excluded > 0) {
    log.warn(`training.batch_sampler group-by-label: ${sampler.excluded} example(s) whose label occurs only once are never sampled`);
  }
  if (req.loss.needs === 'labelled') {
    const counts = new Map<string, number>();
    for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
    if (![...counts.values()].some((c) => c >= 2)) {
      log.warn(`the loss needs batches holding some label at least twice, but no label occurs twice among the ${labels.length} training examples: every loss is 0 and training cannot change the model`);
      return;
    }
    const share = validTripletShare(batches, labels);
    if (share < 0.5) {
      const fix = cfg.batch_sampler === 'group-by-label' ? 'raise training.batch_size' : 'use training.batch_sampler: group-by-label, or raise training.batch_size';
      log.warn(
        `only ${(share * 100).toFixed(0)}% of the batches (batch_size ${cfg.batch_size}, sampler ${cfg.batch_sampler}) can hold a valid triplet ` +
          `(a label twice plus another label), so most batches give a zero loss; ${fix}`,
      );
    }
  }
  if (sampler.kind === 'no-duplicates' && batches.length > 1) {
    const mean = batches.reduce((s, b) => s + b.length, 0) / batches.length;
    if (mean < 0.75 * cfg.batch_size) {
      log.warn(`no-duplicates batches average ${mean.toFixed(1)} examples instead of ${cfg.batch_size}: the examples repeat texts (e.g. few distinct positives, or negatives that are other examples' positives), which cannot share a batch`);
    }
  }
}

const STRICT = [
  'examples', 'examples_hash', 'needs', 'seed', 'batch_size', 'gradient_accumulation_steps', 'batch_sampler', 'samples_per_label',
  'learning_rate', 'weight_decay', 'max_grad_norm', 'scheduler', 'warmup_ratio', 'warmup_steps',
] as const;
const LENIENT = ['epochs', 'max_steps'] as const;

export function fingerprintOf(cfg: FullTrainingConfig, seed: number, items: readonly Example[], needs: ExampleShape): Record<string, unknown> {
  const h = createHash('sha256');
  for (const e of items) {
    // Negatives, scores and teacher values join the hash only when present (earlier checkpoints keep their fingerprint).
    const extra = e.negatives !== undefined || e.score !== undefined || e.teacher !== undefined ? [e.negatives ?? null, e.score ?? null, e.teacher ?? null] : [];
    h.update(JSON.stringify([e.anchor, e.positive, e.negative, e.label, e.pairLabel, ...extra]));
  }
  const out: Record<string, unknown> = { examples: items.length, examples_hash: h.digest('hex').slice(0, 16), needs, seed };
  for (const k of [...STRICT, ...LENIENT]) if (!(k in out)) out[k] = (cfg as unknown as Record<string, unknown>)[k] ?? null;
  return out;
}

/** A resume must continue the same run: strict differences are an error, a changed budget a warning. */
export function resumeCheck(saved: Record<string, unknown>, now: Record<string, unknown>, dir: string, logger: Logger): void {
  const differs = (k: string) => JSON.stringify(saved[k] ?? null) !== JSON.stringify(now[k] ?? null);
  const strict = STRICT.filter(differs);
  if (strict.length > 0) {
    const what = strict.map((k) => `${k} ${JSON.stringify(saved[k])} → ${JSON.stringify(now[k])}`).join(', ');
    throw new UserError('E_RUN', `cannot resume from ${dir}: the training data or configuration changed since the checkpoint (${what})`);
  }
  const lenient = LENIENT.filter(differs);
  if (lenient.length > 0) {
    logger.warn(`resuming from ${dir} with a different ${lenient.join(' and ')}: the learning-rate schedule is recomputed for the new length`);
  }
}
