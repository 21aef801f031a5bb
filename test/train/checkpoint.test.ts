import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type CheckpointData,
  latestCheckpoint,
  listCheckpoints,
  pruneCheckpoints,
  readCheckpoint,
  removePartialCheckpoints,
  writeCheckpoint,
} from '../../core/train/checkpoint.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'ftrun-ckpt-'));

function data(step: number, best?: number): CheckpointData {
  const f = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i * k + step)));
  return {
    state: {
      global_step: step,
      epoch: 1,
      batch_in_epoch: 3,
      samples_seen: step * 16,
      seed: 42,
      sampler: 'no-duplicates',
      metrics: { 'mrr@1': 0.5 },
      ...(best !== undefined ? { best: { metric: 'mrr@1', value: 0.7, step: best } } : {}),
      train_seconds: 1.5,
      fingerprint: { examples: 10 },
    },
    weights: new Map([
      ['embeddings.word_embeddings.weight', { shape: [3, 4], data: f(12, 1) }],
      ['pooler.dense.bias', { shape: [4], data: f(4, 2) }],
    ]),
    optimizer: { params: [{ name: 'embeddings.word_embeddings.weight', shape: [3, 4], step: step, m: f(12, 3), v: f(12, 4).map(Math.abs) }] },
    optimizerConfig: { type: 'AdamW', lr: 2e-5, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0.01 },
  };
}

describe('checkpoints', () => {
  it('round-trip weights, optimizer moments and steps, and trainer state exactly', () => {
    const dir = tmp();
    const d = data(7, 5);
    const path = writeCheckpoint(dir, d);
    expect(path).toBe(join(dir, 'step-7'));
    expect(readdirSync(path).sort()).toEqual(['model.safetensors', 'optimizer.json', 'optimizer.safetensors', 'trainer_state.json']);
    const back = readCheckpoint(path);
    expect(back.state).toEqual(d.state);
    expect(back.optimizerConfig).toEqual(d.optimizerConfig);
    for (const [name, t] of d.weights) {
      expect(back.weights.get(name)!.shape).toEqual(t.shape);
      expect(back.weights.get(name)!.data).toEqual(t.data);
    }
    const p = back.optimizer.params[0]!;
    expect(p).toMatchObject({ name: 'embeddings.word_embeddings.weight', shape: [3, 4], step: 7 });
    expect(p.m).toEqual(d.optimizer.params[0]!.m);
    expect(p.v).toEqual(d.optimizer.params[0]!.v);
  });

  it('ignores and removes a checkpoint left half-written by a killed process', () => {
    const dir = tmp();
    writeCheckpoint(dir, data(2));
    mkdirSync(join(dir, '.step-4.tmp-999-abc'));
    writeFileSync(join(dir, '.step-4.tmp-999-abc', 'model.safetensors'), 'partial');
    mkdirSync(join(dir, 'step-6')); // no trainer_state.json: incomplete
    expect(latestCheckpoint(dir)?.step).toBe(2);
    removePartialCheckpoints(dir);
    expect(existsSync(join(dir, '.step-4.tmp-999-abc'))).toBe(false);
  });

  it('save_total_limit keeps the newest checkpoints and always the best', () => {
    const dir = tmp();
    for (const s of [1, 2, 3, 4, 5]) writeCheckpoint(dir, data(s));
    expect(pruneCheckpoints(dir, 2, 1)).toHaveLength(3);
    expect(listCheckpoints(dir).map((c) => c.step)).toEqual([1, 5]);
    writeCheckpoint(dir, data(6));
    pruneCheckpoints(dir, 2, 6);
    expect(listCheckpoints(dir).map((c) => c.step)).toEqual([5, 6]);
    writeCheckpoint(dir, data(7));
    pruneCheckpoints(dir, 1, 5);
    expect(listCheckpoints(dir).map((c) => c.step)).toEqual([5, 7]);
    writeCheckpoint(dir, data(8));
    expect(pruneCheckpoints(dir, 0, 5)).toEqual([]);
    expect(listCheckpoints(dir).map((c) => c.step)).toEqual([5, 7, 8]);
  });

  it('rewriting a step replaces it', () => {
    const dir = tmp();
    writeCheckpoint(dir, data(3));
    const d = data(3, 3);
    writeCheckpoint(dir, d);
    expect(readCheckpoint(join(dir, 'step-3')).state.best).toEqual(d.state.best);
    expect(readdirSync(dir)).toEqual(['step-3']);
  });
});
