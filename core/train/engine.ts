/**
 * What every training engine shares besides the loop (trainer.ts) and the checkpoint format:
 * the result of one optimizer step, the NaN/Inf guard's error, and which weights get weight decay.
 */

/** A non-finite loss or gradient norm; the update was not applied. */
export class NonFiniteLossError extends Error {
  constructor(
    readonly loss: number,
    readonly gradNorm: number,
  ) {
    super(`non-finite ${Number.isFinite(loss) ? `gradient norm (${gradNorm})` : `loss (${loss})`}`);
    this.name = 'NonFiniteLossError';
  }
}

export interface StepResult {
  /** Mean loss of the batches (before the update). */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
}

/** No weight decay for biases and LayerNorm weights, as transformers.Trainer. */
export const hfDecay = (name: string): boolean => !/\.bias$|LayerNorm\./.test(name);
