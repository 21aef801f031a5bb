/**
 * Naming runs on the command line (core/run-names.ts): `latest`, `latest~N` and unique run-id
 * prefixes wherever a run or sweep directory is taken (diff, compare, resume, rm, sweep status).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { metrics, tempRoot, writeRun, writeSweep } from '../helpers/fake-runs.js';

const M = (ft: number) => metrics({ base: { 'mrr@1': 0.3 }, finetuned: { 'mrr@1': ft } });

function runs() {
  const root = tempRoot();
  const run = (id: string, day: string, ft: number, lr: number) =>
    writeRun(join(root, 'bge', id), { config: { name: 'bge', training: { learning_rate: lr } }, metrics: M(ft), env: { started_at: `2025-01-${day}T00:00:00Z`, status: 'ok' } });
  const a = run('20250101-000000-aaaaaa', '01', 0.5, 1e-5);
  const b = run('20250101-120000-bbbbbb', '02', 0.6, 2e-5);
  const c = run('20250103-000000-cccccc', '03', 0.7, 5e-5);
  return { root, a, b, c };
}

describe('run names: latest, latest~N, id prefixes', () => {
  it('diff takes latest~N and id prefixes', async () => {
    const { root, a, c } = runs();
    const r = await cli(['diff', '20250101-00', 'latest', '--json', '--runs-dir', root]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).config).toEqual([{ path: 'training.learning_rate', a: 1e-5, b: 5e-5 }]);
    const text = await cli(['diff', 'latest~2', 'latest', '--runs-dir', root]);
    expect(text.stdout).toMatch(new RegExp(`^A: ${a} \\(ok\\)\nB: ${c} \\(ok\\)\n`));
  });

  it('resume takes latest (here: a run that finished, named by its directory in the message)', async () => {
    const { root, c } = runs();
    writeRun(join(root, 'x'), {}); // a folder that is no run does not count
    const r = await cli(['resume', 'latest', '--runs-dir', root]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error[E_RUN]: ${c}: this run finished (status ok); nothing to resume. Start a new run with: ftrun <config>\n`);
  });

  it('sweep status takes a sweep id prefix; latest counts a sweep as one', async () => {
    const { root } = runs();
    const sweep = writeSweep(join(root, 'bge', 'sweep-20250104-000000-dddddd'), [{ overrides: { 'training.learning_rate': 1e-5 }, config: { name: 'bge' }, metrics: M(0.5) }]);
    const r = await cli(['sweep', 'status', 'sweep-', '--json', '--runs-dir', root]);
    expect(r.stderr).toBe('1 trials: 1 ok\n');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).sweep_dir).toBe(sweep);
    const latest = await cli(['sweep', 'status', 'latest', '--json', '--runs-dir', root]);
    expect(JSON.parse(latest.stdout).sweep_dir).toBe(sweep);
  });

  it('an ambiguous prefix is exit 2 listing the matches', async () => {
    const { root } = runs();
    const r = await cli(['diff', '20250101', 'latest', '--runs-dir', root]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error[E_USAGE]: 20250101: ambiguous run id prefix: 2 runs and sweeps in ${root} start with it; give more of the id:\n` +
        '  bge/20250101-000000-aaaaaa\n  bge/20250101-120000-bbbbbb\n',
    );
    const rm = await cli(['rm', '20250101', '--yes', '--runs-dir', root]);
    expect(rm.code).toBe(2);
    expect(rm.stderr).toContain('20250101: ambiguous run id prefix');
  });

  it('no match, latest~N past the oldest, and no runs directory are exit 2 saying so', async () => {
    const { root } = runs();
    const none = await cli(['compare', '2024', 'latest', '--runs-dir', root]);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(`error[E_RUN]: 2024: no such run directory, and no run or sweep id in ${root} starts with it (name a run by its directory, latest, latest~N or a unique id prefix; ftrun ls lists them)\n`);
    const far = await cli(['compare', 'latest~3', 'latest', '--runs-dir', root]);
    expect(far.code).toBe(2);
    expect(far.stderr).toBe(`error[E_RUN]: latest~3: ${root} has 3 runs (sweeps count as one): latest to latest~2\n`);
    const missing = join(tempDir(), 'runs');
    const gone = await cli(['resume', 'latest', '--runs-dir', missing]);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toBe(`error[E_RUN]: latest: no runs directory ${missing} to find the latest run in (--runs-dir DIR names it)\n`);
  });

  it('a path wins over a name, and a path that does not exist keeps the command\'s own message', async () => {
    const { root } = runs();
    const r = await cli(['diff', join(root, 'nope'), 'latest', '--runs-dir', root]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error[E_RUN]: ${join(root, 'nope')} does not exist: expected a run directory (with metrics.json) or a sweep directory (with sweep.json)\n`);
  });
});
