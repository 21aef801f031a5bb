/**
 * `ftrun resume` as the reference workflow uses it: configs/bge.yaml (store lancedb, backend ort,
 * relative data paths), killed mid-training, resumed, killed again, resumed again: ends with
 * exactly the metrics of an uninterrupted run, keeps recording the original experiment file, and
 * cleans up what the killed attempts left half-written.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cli, killAfterCheckpoint, tempDir } from '../helpers/cli.js';
import { ROOT, TINY_BERT, describeShared } from '../helpers/shared.js';

const BGE = join(ROOT, 'configs', 'bge.yaml');
const ARGS = ['--set', `model={path: ${TINY_BERT}}`, '--set', 'training.epochs=4', '--set', 'training.learning_rate=1e-3', '--set', 'training.eval_every=3', '--set', 'backend={type: ort, intra_op_threads: 1}'];
const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'));

describeShared('ftrun resume on the LanceDB store, twice', () => {
  it('continues any number of times to the uninterrupted metrics', async () => {
    const reference = await cli(['run', BGE, '--runs-dir', tempDir(), '--json', '--quiet', ...ARGS]);
    expect(reference.code).toBe(0);
    const expected = JSON.parse(reference.stdout);
    expect(readJson(join(expected.run_dir, 'resolved.yaml').replace('resolved.yaml', 'env.json')).config_file).toBe(BGE);

    const runDir = await killAfterCheckpoint(['run', BGE, ...ARGS], { runsDir: tempDir(), experiment: 'bge-base-transactions' }, 1);
    expect(readJson(join(runDir, 'env.json')).status).toBe('running');
    // SIGKILL left the run's lock; its process is gone, so each resume takes it over.
    expect(existsSync(join(runDir, '.ftrun-lock'))).toBe(true);
    expect(existsSync(join(runDir, 'lancedb'))).toBe(true); // the base model's table is there already

    // The first resume is killed too, at its own next checkpoint.
    await killAfterCheckpoint(['resume', runDir], { runDir }, 2);
    expect(readJson(join(runDir, 'env.json')).status).toBe('running');
    expect(readJson(join(runDir, 'env.json')).config_file).toBe(BGE);

    // Leftovers of a write cut short.
    writeFileSync(join(runDir, '.report.md.4242.abcd1234.tmp'), 'half');
    mkdirSync(join(runDir, 'model.tmp-4242'));

    const r = await cli(['resume', runDir, '--json', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const resumed = JSON.parse(r.stdout);
    expect(resumed.status).toBe('ok');
    expect(resumed.models).toEqual(expected.models);
    const env = readJson(join(runDir, 'env.json'));
    expect(env).toMatchObject({ status: 'ok', config_file: BGE, base_dir: join(ROOT, 'configs') });
    expect(existsSync(join(runDir, '.report.md.4242.abcd1234.tmp'))).toBe(false);
    expect(existsSync(join(runDir, 'model.tmp-4242'))).toBe(false);
    expect(existsSync(join(runDir, '.ftrun-lock'))).toBe(false);
  });
});
