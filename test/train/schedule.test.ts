import { describe, expect, it } from 'vitest';
import { LrSchedule, lrLambda, resolveWarmupSteps } from '../../core/train/schedule.js';

/** transformers' _get_linear_schedule_with_warmup_lr_lambda, transcribed. */
const hfLinear = (step: number, warmup: number, total: number): number =>
  step < warmup ? step / Math.max(1, warmup) : Math.max(0, (total - step) / Math.max(1, total - warmup));

describe('learning-rate schedule', () => {
  it('resolves warmup like TrainingArguments.get_warmup_steps', () => {
    expect(resolveWarmupSteps(65, 0, 0.1)).toBe(7); // ceil(6.5)
    expect(resolveWarmupSteps(100, 0, 0.1)).toBe(10);
    expect(resolveWarmupSteps(100, 5, 0.5)).toBe(5); // warmup_steps > 0 wins
    expect(resolveWarmupSteps(100)).toBe(0);
    expect(() => resolveWarmupSteps(100, 0, 1.5)).toThrow(/ratio/);
  });

  it('linear with warmup: 0 at the first update, base lr after warmup, linear decay to 0', () => {
    const s = new LrSchedule(2e-5, { type: 'linear', totalSteps: 65, warmupRatio: 0.1 });
    expect(s.warmupSteps).toBe(7);
    expect(s.lrAt(0)).toBe(0);
    expect(s.lrAt(1)).toBeCloseTo(2e-5 / 7, 15);
    expect(s.lrAt(7)).toBeCloseTo(2e-5, 15);
    expect(s.lrAt(36)).toBeCloseTo((2e-5 * 29) / 58, 15);
    expect(s.lrAt(65)).toBe(0);
    expect(s.lrAt(80)).toBe(0);
    for (const step of [0, 3, 6, 7, 8, 20, 64, 65]) expect(s.lrAt(step)).toBeCloseTo(2e-5 * hfLinear(step, 7, 65), 15);
  });

  it('linear without warmup starts at the base lr', () => {
    const f = lrLambda({ type: 'linear', totalSteps: 10 });
    expect([0, 5, 9, 10].map(f)).toEqual([1, 0.5, 0.1, 0]);
  });

  it('constant and constant_with_warmup', () => {
    expect([0, 1, 99].map(lrLambda({ type: 'constant', totalSteps: 10, warmupSteps: 4 }))).toEqual([1, 1, 1]);
    expect([0, 2, 4, 50].map(lrLambda({ type: 'constant_with_warmup', totalSteps: 10, warmupSteps: 4 }))).toEqual([0, 0.5, 1, 1]);
  });
});
