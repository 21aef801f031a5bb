/**
 * Learning-rate schedules as Hugging Face transformers defines them (get_linear_schedule_with_warmup,
 * get_constant_schedule, get_constant_schedule_with_warmup) with torch's LambdaLR stepping: the
 * optimizer update number k (0-based, i.e. the number of updates already done) uses
 * lr = base_lr · λ(k), so with warmup the very first update has lr 0.
 */
export type ScheduleType = 'linear' | 'constant' | 'constant_with_warmup';
export const SCHEDULE_TYPES: readonly ScheduleType[] = ['linear', 'constant', 'constant_with_warmup'];

export interface ScheduleConfig {
  type: ScheduleType;
  /** Total number of optimizer updates of the run (after gradient accumulation). */
  totalSteps: number;
  /** Warmup updates; when > 0 it wins over warmupRatio (as HF TrainingArguments.get_warmup_steps). */
  warmupSteps?: number;
  /** Warmup as a share of totalSteps, rounded up. */
  warmupRatio?: number;
}

/** HF: warmup_steps if warmup_steps > 0 else ceil(num_training_steps · warmup_ratio). */
export function resolveWarmupSteps(totalSteps: number, warmupSteps = 0, warmupRatio = 0): number {
  if (warmupSteps < 0 || warmupRatio < 0 || warmupRatio > 1) {
    throw new Error(`warmup must be ≥ 0 steps or a ratio in [0, 1] (got steps ${warmupSteps}, ratio ${warmupRatio})`);
  }
  return warmupSteps > 0 ? Math.floor(warmupSteps) : Math.ceil(totalSteps * warmupRatio);
}

/** The multiplier λ(step) of the base learning rate. */
export function lrLambda(cfg: ScheduleConfig): (step: number) => number {
  const warmup = resolveWarmupSteps(cfg.totalSteps, cfg.warmupSteps, cfg.warmupRatio);
  const total = cfg.totalSteps;
  switch (cfg.type) {
    case 'constant':
      return () => 1;
    case 'constant_with_warmup':
      return (step) => (step < warmup ? step / Math.max(1, warmup) : 1);
    case 'linear':
      return (step) =>
        step < warmup ? step / Math.max(1, warmup) : Math.max(0, (total - step) / Math.max(1, total - warmup));
  }
}

/** Learning rate for optimizer update `step` (0-based): base_lr · λ(step). */
export class LrSchedule {
  readonly warmupSteps: number;
  private readonly lambda: (step: number) => number;

  constructor(
    readonly baseLr: number,
    readonly config: ScheduleConfig,
  ) {
    this.warmupSteps = resolveWarmupSteps(config.totalSteps, config.warmupSteps, config.warmupRatio);
    this.lambda = lrLambda(config);
  }

  lrAt(step: number): number {
    return this.baseLr * this.lambda(step);
  }
}
