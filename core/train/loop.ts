/**
 * The optimizer-step loop shared by full fine-tuning (trainer.ts) and adapter training
 * (engine/adapter/train.ts). Each trainer supplies its own update (`step`), evaluation and weights;
 * the loop owns the rest: the learning-rate schedule, the position in the batch plan (step, epoch,
 * batch, samples, train seconds), resume from the latest checkpoint, train_step/eval/checkpoint
 * events, evaluation + checkpoint every eval_every steps (or at each epoch end) and at the end,
 * best-metric tracking, early stopping (training.early_stopping, and a sweep's stopping rule through
 * `prune`), the divergence error, the abort checkpoint, and the load_best checkpoint.
 */
import type { Logger, Progress, TrainingEvent } from '../types.js';
import { type BestMetric, type CheckpointData, type CheckpointRef, checkpointPath, latestCheckpoint, pruneCheckpoints, readCheckpoint, removePartialCheckpoints, writeCheckpoint } from './checkpoint.js';
import type { OptimizerHyper } from './optimizer-state.js';
import { resumeCheck, type RunPlan } from './plan.js';
import { LrSchedule } from './schedule.js';
import { NonFiniteLossError, type StepResult } from './engine.js';
import { EarlyStopper, TrialStopped, type EarlyStopRecord, type Pruner } from './early-stopping.js';
import type { FullTrainingConfig } from './training-schema.js';

export interface LoopSpec {
  /** Names the run in messages and the progress bar: 'training' or 'adapter training'. */
  label: string;
  /** Prefix of info log lines ('' or e.g. 'adapter: '). */
  logPrefix: string;
  /** The option a diverged run should lower, e.g. training.learning_rate. */
  lrOption: string;
  learningRate: number;
  cfg: FullTrainingConfig;
  plan: RunPlan;
  seed: number;
  fingerprint: Record<string, unknown>;
  primary: string;
  checkpointDir: string;
  /** AdamW hyper-parameters, recorded in each checkpoint's optimizer.json. */
  optimizer: OptimizerHyper;
  onEvent(event: TrainingEvent): void;
  logger: Logger;
  signal?: AbortSignal;
  /** One optimizer update over `micro`, the batches starting at (epoch, batchIdx). */
  step(micro: number[][], lr: number, epoch: number, batchIdx: number): StepResult | Promise<StepResult>;
  /** Metrics of the current weights; undefined when there is nothing to evaluate. */
  evaluate(): Record<string, number> | undefined | Promise<Record<string, number> | undefined>;
  /** The current weights and optimizer state, for a checkpoint. */
  save(): Pick<CheckpointData, 'weights' | 'optimizer'>;
  /** A sweep trial's stopping rule (sweep.stop), asked after each evaluation but the last; a verdict ends training with TrialStopped. */
  prune?: Pruner;
}

const r6 = (x: number): number => Math.round(x * 1e6) / 1e6;

export class TrainLoop {
  step = 0;
  epoch = 0;
  batchIdx = 0;
  samples = 0;
  /** Seconds in optimizer steps (all sessions of the run). */
  trainSeconds = 0;
  best: BestMetric | undefined;
  /** Metrics of the last evaluation. */
  metrics: Record<string, number> | undefined;
  last: CheckpointRef | undefined;
  /** training.early_stopping: how the run stopped before its last step (undefined when it did not). */
  earlyStop: EarlyStopRecord | undefined;
  readonly totalSteps: number;
  readonly schedule: LrSchedule;
  private stopper: EarlyStopper | undefined;

  constructor(private readonly s: LoopSpec) {
    this.totalSteps = s.plan.totalSteps;
    this.schedule = new LrSchedule(s.learningRate, {
      type: s.cfg.scheduler === 'linear' ? 'linear' : 'constant_with_warmup',
      totalSteps: this.totalSteps,
      warmupSteps: s.cfg.warmup_steps,
      warmupRatio: s.cfg.warmup_ratio,
    });
    const es = s.cfg.early_stopping;
    if (es) this.stopper = new EarlyStopper({ metric: es.metric ?? s.primary, patience: es.patience, min_delta: es.min_delta });
  }

  /** Position as a fractional epoch (HF's `epoch` in logs). */
  epochPos(): number {
    return this.batchIdx === 0 ? this.epoch : r6(this.epoch + this.batchIdx / this.s.plan.epoch(this.epoch).length);
  }

  /**
   * Continue from the latest complete checkpoint, if any: `load` restores weights and optimizer
   * (after the fingerprint check), then the position, best and metrics. Returns whether it resumed.
   */
  resume(load: (ck: CheckpointData, dir: string) => void): boolean {
    const s = this.s;
    removePartialCheckpoints(s.checkpointDir);
    this.last = latestCheckpoint(s.checkpointDir);
    if (!this.last) {
      s.logger.warn(`no checkpoint in ${s.checkpointDir}: ${s.label} starts from the beginning`);
      return false;
    }
    const dir = this.last.dir;
    const ck = readCheckpoint(dir);
    resumeCheck(ck.state.fingerprint, s.fingerprint, dir, s.logger);
    load(ck, dir);
    ({ global_step: this.step, epoch: this.epoch, batch_in_epoch: this.batchIdx, samples_seen: this.samples, train_seconds: this.trainSeconds, best: this.best, metrics: this.metrics } = ck.state);
    if (this.stopper) this.stopper = new EarlyStopper(this.stopper.options, ck.state.early_stopping);
    s.onEvent({ type: 'resume', step: this.step, epoch: this.epochPos(), checkpoint: dir });
    s.logger.info(`${s.logPrefix}resuming from ${dir} (step ${this.step} of ${this.totalSteps})`);
    return true;
  }

  /** Train up to totalSteps (from the current position), updating `bar` after each step. */
  async run(bar?: ReturnType<Progress['start']>): Promise<void> {
    const { cfg, plan } = this.s;
    bar?.update(this.step);
    // A run that had stopped early (and was resumed after, e.g. a failed export) stays stopped.
    if (this.stopper?.stopped) this.stopEarly();
    while (this.step < this.totalSteps && !this.earlyStop) {
      const batches = plan.epoch(this.epoch);
      const micro = batches.slice(this.batchIdx, this.batchIdx + cfg.gradient_accumulation_steps);
      const lr = this.schedule.lrAt(this.step);
      const t0 = performance.now();
      const r = await this.update(micro, lr);
      this.trainSeconds += (performance.now() - t0) / 1000;
      this.step++;
      this.batchIdx += micro.length;
      this.samples += micro.reduce((n, b) => n + b.length, 0);
      const epochDone = this.batchIdx >= batches.length;
      this.s.onEvent({ type: 'train_step', step: this.step, epoch: r6(this.epoch + this.batchIdx / batches.length), loss: r.loss, lr, grad_norm: r.gradNorm, samples: this.samples });
      if (epochDone) {
        plan.drop(this.epoch);
        this.epoch++;
        this.batchIdx = 0;
      }
      const final = this.step >= this.totalSteps;
      if (final || (cfg.eval_every > 0 ? this.step % cfg.eval_every === 0 : epochDone)) {
        const evaluated = await this.evaluate();
        this.checkpoint(this.metrics);
        if (evaluated && !final) {
          if (this.stopper?.stopped) this.stopEarly();
          else if (this.s.prune) await this.askPruner(evaluated);
        }
      }
      bar?.update(this.step);
      await new Promise((res) => setImmediate(res)); // let signals and I/O through between steps
      if (this.s.signal?.aborted && !final) {
        if (this.last?.step !== this.step) this.checkpoint(undefined);
        throw new Error(`${this.s.label} interrupted at step ${this.step} of ${this.totalSteps}; checkpoint ${this.last!.dir} (resume with ftrun resume)`);
      }
    }
  }

  /**
   * Under load_best, when the best evaluated step is not the last: the best checkpoint's weights
   * (and a load_best event); else undefined.
   */
  bestWeights(): { dir: string; weights: CheckpointData['weights'] } | undefined {
    const best = this.best;
    if (!this.s.cfg.load_best || !best || best.step === this.step) return undefined;
    const dir = checkpointPath(this.s.checkpointDir, best.step);
    const weights = readCheckpoint(dir).weights;
    this.s.onEvent({ type: 'load_best', step: best.step, metric: best.metric, value: best.value, path: dir });
    return { dir, weights };
  }

  private async update(micro: number[][], lr: number): Promise<StepResult> {
    try {
      return await this.s.step(micro, lr, this.epoch, this.batchIdx);
    } catch (e) {
      if (!(e instanceof NonFiniteLossError)) throw e;
      const last = this.last;
      const kept = last ? `the last good checkpoint is ${last.dir} (step ${last.step})` : 'no checkpoint was saved before it';
      throw new Error(
        `${this.s.label} diverged at step ${this.step + 1} (epoch ${this.epoch + 1}): ${e.message}; the update was not applied and training stopped; ${kept}. ` +
          `Lower ${this.s.lrOption} or set training.max_grad_norm`,
        { cause: e },
      );
    }
  }

  /** Evaluate on the test split; returns the metrics (undefined when there is nothing to evaluate). */
  private async evaluate(): Promise<Record<string, number> | undefined> {
    const metrics = await this.s.evaluate();
    if (!metrics) return undefined;
    this.metrics = metrics;
    const value = metrics[this.s.primary];
    if (value !== undefined && (this.best === undefined || value > this.best.value)) this.best = { metric: this.s.primary, value, step: this.step };
    this.stopper?.update(this.step, metrics);
    this.s.onEvent({ type: 'eval', step: this.step, epoch: this.epochPos(), metrics, ...(this.best ? { best: this.best } : {}) });
    return metrics;
  }

  /** training.early_stopping ran out of patience: record it; run() ends after this step. */
  private stopEarly(): void {
    const st = this.stopper!.state!;
    const { metric, patience, min_delta } = this.stopper!.options;
    this.earlyStop = { rule: 'patience', step: this.step, metric, value: this.metrics?.[metric] ?? st.best, best: { step: st.best_step, value: st.best }, patience, min_delta };
    this.s.onEvent({ type: 'early_stop', epoch: this.epochPos(), ...this.earlyStop });
    this.s.logger.info(
      `${this.s.logPrefix}early stopping at step ${this.step} of ${this.totalSteps}: ${metric} did not improve by more than ${min_delta} in ${patience} evaluation${patience === 1 ? '' : 's'} (best ${st.best.toFixed(4)} at step ${st.best_step})`,
    );
  }

  /** sweep.stop: a verdict ends the trial here (its checkpoint at this step is written). */
  private async askPruner(metrics: Record<string, number>): Promise<void> {
    const v = await this.s.prune!(this.step, metrics);
    if (!v) return;
    const record: EarlyStopRecord = { rule: v.rule, step: this.step, metric: v.metric, value: v.value, median: v.median, trials: v.trials };
    this.s.onEvent({ type: 'early_stop', epoch: this.epochPos(), ...record });
    throw new TrialStopped(record);
  }

  private checkpoint(withMetrics: Record<string, number> | undefined): void {
    const { s, step, best } = this;
    const opt = s.optimizer;
    const dir = writeCheckpoint(s.checkpointDir, {
      state: {
        global_step: step, epoch: this.epoch, batch_in_epoch: this.batchIdx, samples_seen: this.samples, seed: s.seed, sampler: s.plan.sampler.kind,
        ...(withMetrics ? { metrics: withMetrics } : {}), ...(best ? { best } : {}), ...(this.stopper?.state ? { early_stopping: this.stopper.state } : {}),
        train_seconds: this.trainSeconds, fingerprint: s.fingerprint,
      },
      ...s.save(),
      optimizerConfig: { type: 'AdamW', lr: s.learningRate, betas: [opt.beta1, opt.beta2], eps: opt.eps, weight_decay: opt.weightDecay },
    });
    this.last = { step, dir };
    pruneCheckpoints(s.checkpointDir, s.cfg.save_total_limit, best?.step);
    s.onEvent({ type: 'checkpoint', step, epoch: this.epochPos(), path: dir, best: best?.step === step });
  }
}
