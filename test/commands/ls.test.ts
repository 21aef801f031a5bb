import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lsCommand, type LsArgs } from '../../core/commands/ls.js';
import { metrics, tempRoot, writeRun, writeSweep } from '../helpers/fake-runs.js';

async function ls(args: LsArgs): Promise<string> {
  let text = '';
  expect(await lsCommand(args, { out: (s) => void (text += s) })).toBe(0);
  return text;
}

/** runs/bge: two runs (the newer written first), one sweep; runs/other: an interrupted run. */
function fixture(): string {
  const root = tempRoot();
  writeRun(join(root, 'bge', '20250102-100000-bbbbbb'), {
    metrics: metrics({ base: { 'mrr@1': 0.36, 'mrr@3': 0.5 }, finetuned: { 'mrr@1': 0.6, 'mrr@3': 0.7 } }),
    env: { started_at: '2025-01-02T10:00:00.000Z', status: 'ok' },
  });
  writeRun(join(root, 'bge', '20250101-090000-aaaaaa'), {
    metrics: metrics({ base: { 'mrr@1': 0.36 } }),
    env: { started_at: '2025-01-01T09:00:00.000Z', status: 'ok' },
  });
  const trial = (lr: number, v: number | null) => ({
    overrides: { 'training.learning_rate': lr },
    metrics: v === null ? undefined : metrics({ base: { 'mrr@1': 0.3 }, finetuned: { 'mrr@1': v } }),
  });
  writeSweep(join(root, 'bge', 'sweep-20250103-100000-cccccc'), [trial(1e-5, 0.5), trial(2e-5, 0.62), trial(5e-5, null)]);
  writeRun(join(root, 'other', '20250101-120000-dddddd'), {
    config: { evaluate: { primary: 'ndcg@5' } }, // no metrics.json: the primary comes from resolved.yaml
    env: { started_at: '2025-01-01T12:00:00.000Z', status: 'interrupted' },
  });
  mkdirSync(join(root, '.lancedb')); // hidden folders are not runs
  mkdirSync(join(root, 'bge', 'not-a-run'));
  return root;
}

describe('ftrun ls', () => {
  it('lists runs and sweeps sorted by date with the primary metric per model', async () => {
    const root = fixture();
    expect(await ls({ runsDir: root, format: 'text' })).toBe(
      [
        'name   id                            date (UTC)           status       primary   base  fine-tuned  trials',
        'bge    20250101-090000-aaaaaa        2025-01-01 09:00:00  ok           MRR@1    0.360           —',
        'other  20250101-120000-dddddd        2025-01-01 12:00:00  interrupted  NDCG@5       —           —',
        'bge    20250102-100000-bbbbbb        2025-01-02 10:00:00  ok           MRR@1    0.360       0.600',
        'bge    sweep-20250103-100000-cccccc  2025-01-03 10:00:00  2/3 ok       MRR@1    0.300       0.620  3 (best #2)',
        '',
        "a sweep's values are those of its best trial",
        '',
      ].join('\n'),
    );
  });

  it('accepts one experiment folder as the runs dir', async () => {
    const root = fixture();
    const text = await ls({ runsDir: join(root, 'other'), format: 'text' });
    expect(text).toBe(
      [
        'name   id                      date (UTC)           status       primary',
        'other  20250101-120000-dddddd  2025-01-01 12:00:00  interrupted  NDCG@5',
        '',
      ].join('\n'),
    );
  });

  it('--json lists entries with their values and the best trial of sweeps', async () => {
    const root = fixture();
    const out = JSON.parse(await ls({ runsDir: root, format: 'json' }));
    expect(out.runs_dir).toBe(root);
    expect(out.runs.map((r: { id: string }) => r.id)).toEqual([
      '20250101-090000-aaaaaa', '20250101-120000-dddddd', '20250102-100000-bbbbbb', 'sweep-20250103-100000-cccccc',
    ]);
    expect(out.runs[2]).toEqual({
      kind: 'run', name: 'bge', id: '20250102-100000-bbbbbb', dir: join(root, 'bge', '20250102-100000-bbbbbb'),
      date: '2025-01-02T10:00:00.000Z', status: 'ok', primary: 'mrr@1', models: { base: 0.36, finetuned: 0.6 }, tags: [], note: null,
    });
    expect(out.runs[3]).toMatchObject({
      kind: 'sweep', status: '2/3 ok', trials: 3, models: { base: 0.3, finetuned: 0.62 },
      best: { index: 2, overrides: { 'training.learning_rate': 2e-5 }, model: 'finetuned', value: 0.62 },
    });
  });

  it('prints "no runs in <dir>" for an empty runs dir; a missing one or a file is a usage error', async () => {
    const root = tempRoot();
    await expect(ls({ runsDir: join(root, 'nope'), format: 'text' })).rejects.toThrow(`ftrun ls: ${join(root, 'nope')}: no such directory (runs are listed from a runs directory, e.g. runs/)`);
    writeFileSync(join(root, 'f.txt'), 'x');
    await expect(ls({ runsDir: join(root, 'f.txt'), format: 'text' })).rejects.toThrow(`ftrun ls: ${join(root, 'f.txt')}: is a file, not a runs directory`);
    rmSync(join(root, 'f.txt'));
    expect(await ls({ runsDir: root, format: 'text' })).toBe(`no runs in ${root}\n`);
    expect(JSON.parse(await ls({ runsDir: root, format: 'json' }))).toEqual({ runs_dir: root, runs: [] });
  });
});
