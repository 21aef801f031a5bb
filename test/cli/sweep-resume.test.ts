/**
 * A `--parallel` sweep whose parent is SIGKILLed: its workers stop with it (their trials left
 * interrupted, with checkpoints), and `ftrun resume <sweep-dir>` finishes the sweep — kept,
 * resumed and fresh trials alike — with the metrics of an uninterrupted sweep.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { ROOT, TINY_BERT, describeShared } from '../helpers/shared.js';

const ARGS = [
  join(ROOT, 'configs', 'bge.yaml'),
  '--set', `model={path: ${TINY_BERT}}`, '--set', 'store.type=memory', '--set', 'training.epochs=4', '--set', 'training.eval_every=3',
  '--set', 'backend={type: ort, intra_op_threads: 1}', '--set', 'sweep={grid: {seed: [1, 2, 3]}}',
];
const checkpointed = (trialDir: string) => existsSync(join(trialDir, 'events.jsonl')) && readFileSync(join(trialDir, 'events.jsonl'), 'utf8').includes('"type":"checkpoint"');
const workersOf = (dir: string) => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes('--_trial') && l.includes(dir)).length;

describeShared('a killed --parallel sweep', () => {
  it('takes its workers with it, and resumes to the uninterrupted leaderboard', async () => {
    const reference = await cli(['run', ...ARGS, '--runs-dir', tempDir(), '--quiet', '--json']);
    expect(reference.code).toBe(0);
    const want = JSON.parse(reference.stdout) as { trials: Array<{ index: number; models: unknown }> };

    const runs = tempDir();
    const parent = spawn(process.execPath, [join(ROOT, 'bin', 'ftrun.js'), 'run', ...ARGS, '--parallel', '2', '--runs-dir', runs, '--quiet'], { stdio: 'ignore' });
    const exited = new Promise<void>((res) => parent.on('close', () => res()));
    let sweepDir = '';
    for (let i = 0; i < 2400; i++) {
      await new Promise((r) => setTimeout(r, 25));
      const names = existsSync(join(runs, 'bge-base-transactions')) ? readdirSync(join(runs, 'bge-base-transactions')) : [];
      if (names[0]) sweepDir = join(runs, 'bge-base-transactions', names[0]);
      if (sweepDir && checkpointed(join(sweepDir, 'trials', '1')) && checkpointed(join(sweepDir, 'trials', '2'))) break;
    }
    parent.kill('SIGKILL');
    await exited;
    // The workers notice their parent is gone and stop (gracefully: their trials stay resumable).
    for (let i = 0; i < 600 && workersOf(sweepDir) > 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(workersOf(sweepDir)).toBe(0);

    const r = await cli(['resume', sweepDir, '--quiet', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const got = JSON.parse(r.stdout) as { trials: Array<{ index: number; status: string; models: unknown }> };
    expect(got.trials.map((t) => t.status)).toEqual(['ok', 'ok', 'ok']);
    for (const t of want.trials) expect(got.trials.find((g) => g.index === t.index)!.models, `trial ${t.index}`).toEqual(t.models);
    const sweep = JSON.parse(readFileSync(join(sweepDir, 'sweep.json'), 'utf8')) as { trials: Array<{ status: string }> };
    expect(sweep.trials.map((t) => t.status)).toEqual(['ok', 'ok', 'ok']);
    expect(readFileSync(join(sweepDir, 'trials', '1', 'events.jsonl'), 'utf8')).toContain('"type":"resume"');
  });
});
