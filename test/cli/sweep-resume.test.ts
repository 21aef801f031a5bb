/**
 * A `--parallel` sweep whose parent is SIGKILLed: its workers stop with it (their trials left
 * resumable, with checkpoints), and `ftrun resume <sweep-dir>` finishes the sweep — resumed and
 * fresh trials alike — with the metrics of an uninterrupted sweep.
 *
 * Nothing here waits for a time: each worker is stopped (SIGSTOP) once its trial has written a
 * checkpoint, so the parent is killed with both trials part-way through training however fast or
 * loaded the machine is; then the workers are let go and the test waits for them to end. The
 * training is small (80 queries, 16 steps a trial) so that the three runs of each trial stay short.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { ROOT, TINY_BERT, describeShared } from '../helpers/shared.js';

const ARGS = [
  join(ROOT, 'configs', 'bge.yaml'),
  '--set', `model={path: ${TINY_BERT}}`, '--set', 'store.type=memory', '--set', 'dataset.limit=80', '--set', 'training.epochs=4', '--set', 'training.eval_every=2',
  '--set', 'backend={type: ort, intra_op_threads: 1}', '--set', 'sweep={grid: {seed: [1, 2, 3]}}',
];
const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');
const checkpointed = (trialDir: string) => read(join(trialDir, 'events.jsonl')).includes('"type":"checkpoint"');
/** The pid of the process holding a trial (its lock file), once it holds it. */
const holder = (trialDir: string): number | undefined => {
  try {
    return JSON.parse(readFileSync(join(trialDir, '.ftrun-lock'), 'utf8')).pid as number;
  } catch {
    return undefined;
  }
};
/** Whether `pid` has ended (gone, or a zombie no one has reaped yet). */
const ended = (pid: number) => {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  return read(`/proc/${pid}/stat`).replace(/^.*\) /s, '').startsWith('Z');
};
const workersOf = (dir: string) => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes('--_trial') && l.includes(dir)).length;
const tick = () => new Promise((r) => setTimeout(r, 10));

describeShared('a killed --parallel sweep', () => {
  it('takes its workers with it, and resumes to the uninterrupted leaderboard', async () => {
    const reference = await cli(['run', ...ARGS, '--runs-dir', tempDir(), '--quiet', '--json']);
    expect(reference.code).toBe(0);
    const want = JSON.parse(reference.stdout) as { trials: Array<{ index: number; models: unknown }> };

    const runs = tempDir();
    const parent = spawn(process.execPath, [join(ROOT, 'bin', 'ftrun.js'), 'run', ...ARGS, '--parallel', '2', '--runs-dir', runs, '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let parentErr = '';
    parent.stderr!.on('data', (d: Buffer) => (parentErr += d.toString()));
    const exited = new Promise<void>((res) => parent.on('close', () => res()));
    const experiment = join(runs, 'bge-base-transactions');
    let sweepDir = '';
    const stopped = new Map<string, number>(); // trial → its worker's pid, stopped after its first checkpoint
    try {
      while (stopped.size < 2) {
        if (parent.exitCode !== null) throw new Error(`the sweep ended before both trials were caught: ${parentErr}`);
        sweepDir ||= existsSync(experiment) ? (readdirSync(experiment).map((n) => join(experiment, n))[0] ?? '') : '';
        for (const n of ['1', '2']) {
          const trialDir = sweepDir && join(sweepDir, 'trials', n);
          const pid = trialDir ? holder(trialDir) : undefined;
          if (!stopped.has(n) && pid !== undefined && checkpointed(trialDir)) {
            process.kill(pid, 'SIGSTOP');
            stopped.set(n, pid);
          }
        }
        await tick();
      }
      for (const n of ['1', '2']) expect(read(join(sweepDir, 'trials', n, 'events.jsonl')), `trial ${n} caught before it ended`).not.toContain('"type":"run_end"');
    } finally {
      // Whatever happened above, nothing is left stopped, nor the sweep running.
      parent.kill('SIGKILL');
      await exited;
      for (const pid of stopped.values()) if (!ended(pid)) process.kill(pid, 'SIGCONT');
    }
    // The workers notice their parent is gone and stop (gracefully: their trials stay resumable).
    while (![...stopped.values()].every(ended)) await tick();
    expect(workersOf(sweepDir)).toBe(0);

    const r = await cli(['resume', sweepDir, '--quiet', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const got = JSON.parse(r.stdout) as { trials: Array<{ index: number; status: string; models: unknown }> };
    expect(got.trials.map((t) => t.status)).toEqual(['ok', 'ok', 'ok']);
    for (const t of want.trials) expect(got.trials.find((g) => g.index === t.index)!.models, `trial ${t.index}`).toEqual(t.models);
    const sweep = JSON.parse(readFileSync(join(sweepDir, 'sweep.json'), 'utf8')) as { trials: Array<{ status: string }> };
    expect(sweep.trials.map((t) => t.status)).toEqual(['ok', 'ok', 'ok']);
    // Trials 1 and 2 continued from their checkpoints; trial 3 had not started.
    for (const n of ['1', '2']) expect(read(join(sweepDir, 'trials', n, 'events.jsonl')), `trial ${n}`).toContain('"type":"resume"');
    expect(read(join(sweepDir, 'trials', '3', 'events.jsonl'))).not.toContain('"type":"resume"');
  });
});
