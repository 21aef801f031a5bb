import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rankTrials, writeLeaderboard, type LeaderboardTrial } from '../core/leaderboard.js';
import { metrics, tempRoot } from './helpers/fake-runs.js';

function trials(dir: string): LeaderboardTrial[] {
  const t = (index: number, overrides: Record<string, unknown>, status: string, m?: ReturnType<typeof metrics>) => ({
    index, overrides, runDir: join(dir, 'trials', String(index)), status, metrics: m,
  });
  return [
    t(0, { 'loss.margin': 5 }, 'ok', metrics({ base: { 'mrr@1': 0.3, 'recall@3': 0.6 }, finetuned: { 'mrr@1': 0.5, 'recall@3': 0.8 } })),
    t(1, { 'loss.margin': 0.3 }, 'failed'),
    t(2, { 'loss.margin': 1 }, 'ok', metrics({ base: { 'mrr@1': 0.3, 'recall@3': 0.6 }, finetuned: { 'mrr@1': 0.6, 'recall@3': 0.7 } })),
    t(3, { 'loss.margin': 2 }, 'interrupted', metrics({ base: { 'mrr@1': 0.9 } }, 'interrupted')),
    t(4, { 'loss.margin': 3 }, 'ok', metrics({ base: { 'mrr@1': 0.5, 'recall@3': 0.9 }, finetuned: { 'mrr@1': 0.5, 'recall@3': 0.85 } })),
  ];
}

describe('leaderboard', () => {
  it('ranks by the fine-tuned primary metric, ties by trial index, not-ok trials last', () => {
    const ranked = rankTrials(trials('/s'), 'mrr@1');
    expect(ranked.map((e) => [e.rank, e.index, e.value])).toEqual([
      [1, 2, 0.6], [2, 0, 0.5], [3, 4, 0.5], [null, 1, null], [null, 3, 0.9],
    ]);
  });

  it('falls back to the base model for trials without a fine-tuned one', () => {
    const t = [
      { index: 0, overrides: {}, runDir: 'a', status: 'ok', metrics: metrics({ base: { 'mrr@1': 0.7 } }) },
      { index: 1, overrides: {}, runDir: 'b', status: 'ok', metrics: metrics({ base: { 'mrr@1': 0.1 }, finetuned: { 'mrr@1': 0.6 } }) },
    ];
    expect(rankTrials(t, 'mrr@1').map((e) => [e.index, e.model, e.value])).toEqual([[0, 'base', 0.7], [1, 'finetuned', 0.6]]);
  });

  it('writes leaderboard.json and leaderboard.md atomically', () => {
    const dir = join(tempRoot(), 'bge', 'sweep-1');
    writeLeaderboard(dir, trials(dir), 'mrr@1');
    expect(readdirSync(dir).sort()).toEqual(['leaderboard.json', 'leaderboard.md']);
    const board = JSON.parse(readFileSync(join(dir, 'leaderboard.json'), 'utf8'));
    expect(board.primary).toBe('mrr@1');
    expect(board.trials[0]).toEqual({
      rank: 1, index: 2, overrides: { 'loss.margin': 1 }, run_dir: 'trials/2', status: 'ok', model: 'finetuned',
      value: 0.6, delta: 0.3, metrics: { 'mrr@1': 0.6, 'recall@3': 0.7 },
    });
    expect(board.trials.map((e: { index: number }) => e.index)).toEqual([2, 0, 4, 1, 3]);
    expect(readFileSync(join(dir, 'leaderboard.md'), 'utf8')).toBe(
      [
        '# Leaderboard: bge / sweep-1',
        '',
        'Ranked by MRR@1 of the fine-tuned model (the base model for trials without one), best first; 3 of 5 trials ranked.',
        '',
        '| rank | trial | overrides | MRR@1 | Δ MRR@1 | Recall@3 |',
        '| ---: | ---: | --- | ---: | ---: | ---: |',
        '| 1 | 2 | loss.margin=1 | 0.600 | +0.300 | 0.700 |',
        '| 2 | 0 | loss.margin=5 | 0.500 | +0.200 | 0.800 |',
        '| 3 | 4 | loss.margin=3 | 0.500 | +0.000 | 0.850 |',
        '| — | 1 | loss.margin=0.3 | failed | — | — |',
        '| — | 3 | loss.margin=2 | interrupted | — | — |',
        '',
      ].join('\n'),
    );
  });
});
