/**
 * `ftrun rm RUN|SWEEP…`: asks on a terminal (y/N) or needs --yes; refuses a run that is running
 * (its lock) and anything that is not a run or sweep directory; removes a sweep with its trials.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../core/cli/main.js';
import { lockDir } from '../../core/run/lock.js';
import { cli } from '../helpers/cli.js';
import { metrics, tempRoot, writeRun, writeSweep } from '../helpers/fake-runs.js';

const M = metrics({ base: { 'mrr@1': 0.3 }, finetuned: { 'mrr@1': 0.5 } });

function twoRuns() {
  const root = tempRoot();
  const a = writeRun(join(root, 'bge', '20250101-000000-aaaaaa'), { config: { name: 'bge' }, metrics: M, env: { started_at: '2025-01-01T00:00:00Z', status: 'ok' } });
  const b = writeRun(join(root, 'bge', '20250102-000000-bbbbbb'), { config: { name: 'bge' }, metrics: M, env: { started_at: '2025-01-02T00:00:00Z', status: 'ok' } });
  return { root, a, b };
}

/** The CLI with a terminal that answers `answer` (and records the questions). */
async function withTerminal(argv: string[], answer: string) {
  let stderr = '';
  const asked: string[] = [];
  const code = await main(argv, { out: () => {}, err: (s) => void (stderr += s), ask: async (q) => (asked.push(q), answer) });
  return { code, stderr, asked };
}

describe('ftrun rm', () => {
  it('without a terminal needs --yes (exit 2) and removes nothing', async () => {
    const { root, b } = twoRuns();
    const r = await cli(['rm', 'latest', '--runs-dir', root]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error[E_USAGE]: ftrun rm: not asking for confirmation: stdin is not a terminal. Give --yes to remove latest without asking\n');
    expect(existsSync(b)).toBe(true);
  });

  it('--yes removes the run, and the experiment folder with its last run', async () => {
    const { root, a, b } = twoRuns();
    const r = await cli(['rm', 'latest', '--yes', '--runs-dir', root]);
    expect(r.stderr).toBe(`removed ${b}\n`);
    expect(r.code).toBe(0);
    expect(existsSync(b)).toBe(false);
    expect(existsSync(a)).toBe(true);
    const last = await cli(['rm', '20250101', '--yes', '--runs-dir', root]);
    expect(last.stderr).toBe(`removed ${a}\n`);
    expect(existsSync(join(root, 'bge'))).toBe(false);
    expect(existsSync(root)).toBe(true);
  });

  it('on a terminal asks (y/N): y removes, anything else keeps', async () => {
    const { root, a, b } = twoRuns();
    const no = await withTerminal(['rm', 'latest', 'latest~1', '--runs-dir', root], '');
    expect(no.code).toBe(0);
    expect(no.asked).toEqual(['remove? [y/N] ']);
    expect(no.stderr).toBe(`ftrun rm: remove these 2?\n  ${b} (run)\n  ${a} (run)\nnothing removed\n`);
    expect(existsSync(a) && existsSync(b)).toBe(true);
    const yes = await withTerminal(['rm', 'latest', '--runs-dir', root], 'y');
    expect(yes.code).toBe(0);
    expect(yes.stderr).toBe(`ftrun rm: remove this?\n  ${b} (run)\nremoved ${b}\n`);
    expect(existsSync(b)).toBe(false);
  });

  it('refuses a run that is running (its lock), even with --yes', async () => {
    const { root, b } = twoRuns();
    const lock = lockDir(b, 'ftrun run');
    try {
      const held = JSON.parse(readFileSync(join(b, '.ftrun-lock'), 'utf8')) as { started_at: string };
      const r = await cli(['rm', 'latest', '--yes', '--runs-dir', root]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `error[E_LOCKED]: ftrun rm: cannot remove latest: it is running: ${b} is in use: ftrun run holds it (pid ${process.pid} on this host, ${hostname()}, since ${held.started_at}). ` +
          'Started twice? Wait for that process to finish, or stop it; once it has ended, the next ftrun takes the directory over\n',
      );
      expect(existsSync(join(b, 'metrics.json'))).toBe(true);
    } finally {
      lock.release();
    }
  });

  it('removes a sweep with its trials, also a trial directory outside the sweep', async () => {
    const root = tempRoot();
    const sweep = writeSweep(join(root, 'bge', 'sweep-20250101-000000-abcdef'), [
      { overrides: { 'training.learning_rate': 1e-5 }, config: { name: 'bge' }, metrics: M },
      { overrides: { 'training.learning_rate': 2e-5 }, config: { name: 'bge' }, metrics: M },
    ]);
    // trial 2 recorded at a directory of its own (run_dir is absolute)
    const elsewhere = writeRun(join(root, 'elsewhere', 't2'), { config: { name: 'bge' }, metrics: M });
    const rec = JSON.parse(readFileSync(join(sweep, 'sweep.json'), 'utf8'));
    rec.trials[1].run_dir = elsewhere;
    writeFileSync(join(sweep, 'sweep.json'), JSON.stringify(rec));
    const asked = await withTerminal(['rm', 'sweep-2025', '--runs-dir', root], 'n');
    expect(asked.stderr).toBe(`ftrun rm: remove this?\n  ${sweep} (sweep, 2 trials)\nnothing removed\n`);
    const r = await cli(['rm', sweep, '--yes']);
    expect(r.stderr).toBe(`removed ${sweep}\n`);
    expect(r.code).toBe(0);
    expect(existsSync(sweep)).toBe(false);
    expect(existsSync(elsewhere)).toBe(false);
  });

  it('refuses a sweep whose trial is running', async () => {
    const root = tempRoot();
    const sweep = writeSweep(join(root, 'bge', 'sweep-20250101-000000-abcdef'), [{ overrides: {}, config: { name: 'bge' }, metrics: M }]);
    const trial = join(sweep, 'trials', '1');
    const lock = lockDir(trial, 'ftrun run');
    try {
      const r = await cli(['rm', sweep, '--yes']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^error\\[E_LOCKED\\]: ftrun rm: cannot remove ${sweep} \\(its trial ${trial}\\): it is running: ${trial} is in use: ftrun run holds it \\(pid ${process.pid} `));
      expect(existsSync(trial)).toBe(true);
    } finally {
      lock.release();
    }
  });

  it('refuses a trial alone, a directory that is not a run, and nothing named (exit 2)', async () => {
    const root = tempRoot();
    const sweep = writeSweep(join(root, 'bge', 'sweep-20250101-000000-abcdef'), [{ overrides: {}, config: { name: 'bge' }, metrics: M }]);
    const trial = join(sweep, 'trials', '1');
    const t = await cli(['rm', trial, '--yes']);
    expect(t.code).toBe(2);
    expect(t.stderr).toBe(`error[E_USAGE]: ftrun rm: ${trial} is trial 1 of the sweep ${sweep}; remove the whole sweep (ftrun rm ${sweep})\n`);
    const other = join(root, 'src');
    mkdirSync(other);
    writeFileSync(join(other, 'keep.txt'), 'x');
    const o = await cli(['rm', other, '--yes']);
    expect(o.code).toBe(2);
    expect(o.stderr).toBe(`error[E_RUN]: ftrun rm: ${other} is not a run or sweep directory (no env.json, metrics.json or sweep.json in it); ftrun rm removes only those\n`);
    expect(existsSync(join(other, 'keep.txt'))).toBe(true);
    const none = await cli(['rm', '--yes']);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe('error[E_USAGE]: ftrun rm: expected one or more runs or sweeps (directories, latest, latest~N or id prefixes), got nothing. See: ftrun rm --help\n');
  });
});
