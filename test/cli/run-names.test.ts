/**
 * Naming runs on the command line (core/run-names.ts): `latest`, `latest~N` and unique run-id
 * prefixes wherever a run or sweep directory is taken (diff, compare, resume, rm, sweep status);
 * `ftrun run --tag/--note`, recorded in env.json, shown and filtered by `ftrun ls`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, killAfterFirstCheckpoint, tempDir } from '../helpers/cli.js';
import { metrics, tempRoot, writeRun, writeSweep } from '../helpers/fake-runs.js';
import { TRANSACTIONS_EXPERIMENT, describeShared } from '../helpers/shared.js';

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

const env = (dir: string) => JSON.parse(readFileSync(join(dir, 'env.json'), 'utf8')) as { tags?: string[]; note?: string; status: string };

describe('ftrun ls --tag, and bad --tag / --note values', () => {
  it('shows tags and notes, and lists only the runs with every tag given', async () => {
    const root = tempRoot();
    writeRun(join(root, 'bge', '20250101-000000-aaaaaa'), { config: { name: 'bge' }, metrics: M(0.5), env: { started_at: '2025-01-01T00:00:00Z', tags: ['baseline'], note: 'first try' } });
    writeRun(join(root, 'bge', '20250102-000000-bbbbbb'), { config: { name: 'bge' }, metrics: M(0.6), env: { started_at: '2025-01-02T00:00:00Z', tags: ['baseline', 'lr'] } });
    writeRun(join(root, 'bge', '20250103-000000-cccccc'), { config: { name: 'bge' }, metrics: M(0.7), env: { started_at: '2025-01-03T00:00:00Z' } });
    const all = await cli(['ls', root]);
    expect(all.stdout).toBe(
      [
        'name  id                      date (UTC)           status  primary   base  fine-tuned  tags         note',
        'bge   20250101-000000-aaaaaa  2025-01-01 00:00:00  ok      MRR@1    0.300       0.500  baseline     first try',
        'bge   20250102-000000-bbbbbb  2025-01-02 00:00:00  ok      MRR@1    0.300       0.600  baseline,lr',
        'bge   20250103-000000-cccccc  2025-01-03 00:00:00  ok      MRR@1    0.300       0.700',
        '',
      ].join('\n'),
    );
    const lr = await cli(['ls', root, '--tag', 'baseline', '--tag', 'lr', '--json']);
    expect(JSON.parse(lr.stdout).runs.map((r: { id: string; tags: string[]; note: string | null }) => [r.id, r.tags, r.note])).toEqual([['20250102-000000-bbbbbb', ['baseline', 'lr'], null]]);
    const none = await cli(['ls', root, '--tag', 'prod']);
    expect(none.stdout).toBe(`no runs tagged prod in ${root}\n`);
  });

  it('a tag that is not a word, or a note with a line break, is exit 2 before anything runs', async () => {
    const bad = await cli(['run', 'x.yaml', '--tag', 'two words']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('error[E_USAGE]: ftrun run: --tag "two words": a tag is letters, digits and . _ - : / + (starting with a letter or digit, at most 64 characters), e.g. --tag baseline\n');
    const note = await cli(['run', 'x.yaml', '--note', 'a\nb']);
    expect(note.code).toBe(2);
    expect(note.stderr).toBe('error[E_USAGE]: ftrun run: --note: one line of text, without line breaks\n');
  });
});

describeShared('ftrun run --tag/--note (tiny-bert)', () => {
  it('records them in env.json, keeps them on resume, and gives a sweep\'s to sweep.json and every trial', async () => {
    const root = tempDir();
    const runs = join(root, 'runs');
    const plain = join(root, 'none.yaml');
    writeFileSync(plain, `name: tags\n${TRANSACTIONS_EXPERIMENT}training: { method: none }\nevaluate: { compare: [base] }\nstore: { type: memory }\nsinks: []\n`);
    const r = await cli(['run', plain, '--runs-dir', runs, '--quiet', '--tag', 'baseline', '--tag', 'tiny', '--tag', 'baseline', '--note', 'the base only']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [entry] = JSON.parse((await cli(['ls', runs, '--tag', 'tiny', '--json'])).stdout).runs;
    expect(env(entry.dir)).toMatchObject({ tags: ['baseline', 'tiny'], note: 'the base only', status: 'ok' });

    // a sweep: sweep.json and each trial's env.json
    const sweepFile = join(root, 'sweep.yaml');
    writeFileSync(sweepFile, `name: tags-sweep\n${TRANSACTIONS_EXPERIMENT}training: { method: none }\nevaluate: { compare: [base] }\nstore: { type: memory }\nsinks: []\nsweep: { grid: { evaluate.k: [[1], [1, 3]] } }\n`);
    // --parallel: the worker processes get the sweep's --tag
    const s = await cli(['run', sweepFile, '--runs-dir', runs, '--quiet', '--parallel', '2', '--tag', 'sweep1']);
    expect(s.code).toBe(0);
    const sweepDir = JSON.parse((await cli(['ls', runs, '--tag', 'sweep1', '--json'])).stdout).runs[0].dir as string;
    expect(JSON.parse(readFileSync(join(sweepDir, 'sweep.json'), 'utf8')).tags).toEqual(['sweep1']);
    for (const t of ['1', '2']) expect(env(join(sweepDir, 'trials', t)).tags).toEqual(['sweep1']);

    // killed mid-training, then resumed by name: the tags stay
    const train = join(root, 'train.yaml');
    writeFileSync(train, `name: tags-train\n${TRANSACTIONS_EXPERIMENT}splitter: { type: ratio, test: 0.2 }\nminer: { type: random-negative }\nloss: { type: multiple-negatives-ranking }\ntraining: { method: full, epochs: 2, batch_size: 32, eval_every: 3 }\nstore: { type: memory }\nsinks: []\n`);
    const dir = await killAfterFirstCheckpoint(['run', train, '--tag', 'resumed', '--note', 'killed once'], runs, 'tags-train');
    expect(env(dir)).toMatchObject({ tags: ['resumed'], note: 'killed once', status: 'running' });
    const resumed = await cli(['resume', 'latest', '--runs-dir', runs, '--quiet']);
    expect(resumed.code).toBe(0);
    expect(env(dir)).toMatchObject({ tags: ['resumed'], note: 'killed once', status: 'ok' });
  }, 600_000);
});
