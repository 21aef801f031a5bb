/**
 * training.early_stopping, as PyTorch Lightning's EarlyStopping (and Hugging Face's
 * EarlyStoppingCallback): after each evaluation on the test split, the monitored metric improves
 * when it is more than `min_delta` above the best value so far (every metric ftrun computes —
 * the retrieval metrics of core/metrics.ts and triplet_accuracy — is better when higher); then the
 * best value is that one and the count of evaluations without improvement starts again at 0.
 * Otherwise the count grows, and training stops when it reaches `patience`. The first evaluation
 * is always an improvement. The state is kept in each checkpoint (trainer_state.json
 * `early_stopping`), so a resumed run counts on where it was, and a run that had stopped stays stopped.
 */

/** The validated `training.early_stopping` object, with `metric` filled in (evaluate.primary by default). */
export interface EarlyStoppingOptions {
  metric: string;
  patience: number;
  min_delta: number;
}

/** Where early stopping stands: trainer_state.json `early_stopping`. */
export interface EarlyStoppingState {
  metric: string;
  /** The best value of `metric` so far (improvements of at most min_delta do not move it). */
  best: number;
  /** The step it was evaluated at. */
  best_step: number;
  /** Evaluations since then without an improvement of more than min_delta. */
  wait: number;
}

export class EarlyStopper {
  private current: EarlyStoppingState | undefined;

  constructor(
    readonly options: EarlyStoppingOptions,
    state?: EarlyStoppingState,
  ) {
    // A checkpoint's state counts for the metric it monitored only.
    if (state && state.metric === options.metric) this.current = { ...state };
  }

  /** The state to checkpoint (undefined before the first evaluation). */
  get state(): EarlyStoppingState | undefined {
    return this.current ? { ...this.current } : undefined;
  }

  /** Whether `patience` evaluations in a row did not improve: training stops. */
  get stopped(): boolean {
    return this.current !== undefined && this.current.wait >= this.options.patience;
  }

  /**
   * Take the metrics of the evaluation at `step`; returns whether training stops now. Metrics
   * without the monitored one (nothing was evaluated) change nothing.
   */
  update(step: number, metrics: Record<string, number>): boolean {
    const value = metrics[this.options.metric];
    if (value === undefined || !Number.isFinite(value)) return this.stopped;
    const cur = this.current;
    if (cur === undefined || value - this.options.min_delta > cur.best) this.current = { metric: this.options.metric, best: value, best_step: step, wait: 0 };
    else cur.wait++;
    return this.stopped;
  }
}

/**
 * How a run stopped before its last step (events.jsonl `early_stop`, metrics.json and env.json
 * `early_stop`): rule `patience` (training.early_stopping: the run goes on to save its best
 * checkpoint, status ok) or `median` (sweep.stop: the trial ends there, status `stopped`).
 */
export interface EarlyStopRecord {
  rule: 'patience' | 'median';
  /** The step of the evaluation that stopped it. */
  step: number;
  metric: string;
  /** The metric at that step. */
  value: number;
  /** patience: the best value and its step. */
  best?: { step: number; value: number };
  patience?: number;
  min_delta?: number;
  /** median: the median of the other trials at that step, and how many they were. */
  median?: number;
  trials?: number;
}

/** What a sweep's stopping rule says about a trial at an evaluation: stop, below this median of that many trials. */
export interface PruneVerdict {
  rule: 'median';
  metric: string;
  value: number;
  median: number;
  trials: number;
}

/** Asked after each evaluation of a sweep trial (not after the last): a verdict stops the trial. */
export type Pruner = (step: number, metrics: Record<string, number>) => Promise<PruneVerdict | undefined>;

/** A sweep trial stopped by sweep.stop: the run ends with status `stopped`, its checkpoint kept. */
export class TrialStopped extends Error {
  constructor(readonly record: EarlyStopRecord) {
    super(`stopped at step ${record.step}: ${record.metric} ${record.value.toFixed(4)} is below the median ${record.median?.toFixed(4)} of ${record.trials} other trials at that step (sweep.stop: median)`);
  }
}
