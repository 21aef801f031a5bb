/**
 * The optimizer state a checkpoint holds (core/train/checkpoint.ts) and the hyper-parameters it
 * records, in one format for every engine: AdamW's step, m and v per parameter, keyed by
 * weight-file names. The optimizers that fill it are the engine kit's (engine/train/optim.ts,
 * engine/train/host-adamw.ts).
 */

/** The hyper-parameters a checkpoint records (engine/train/optim.ts AdamW and host-adamw.ts HostAdamW). */
export interface OptimizerHyper {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
}

export interface AdamWParamState {
  name: string;
  shape: number[];
  step: number;
  m: Float32Array;
  v: Float32Array;
}

/** Serializable optimizer state (for checkpoints). Parameters that never received a gradient are absent. */
export interface AdamWState {
  params: AdamWParamState[];
}
