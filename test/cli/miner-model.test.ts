/**
 * The hard-negative miner's mining encoder, end to end on tiny-bert (ort): by default the base
 * model ranks the corpus; `miner.model` (a model spec) ranks with that model instead. Naming the
 * base model there mines exactly what the default does (same mined stats, same training steps);
 * another model (the same weights with mean pooling) mines differently. env.json names the mining
 * encoder; a missing miner.model.path is a config error at its line.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { ROOT, TINY_BERT, describeShared, tinyBertSets, readJsonl } from '../helpers/shared.js';

const MINED = join(ROOT, 'configs', 'mnrl-mined.yaml');
const COMMON = tinyBertSets({ maxSteps: 3, backend: '{type: ort, intra_op_threads: 1}' });
const lines = readJsonl;

async function mine(extra: string[] = []) {
  const r = await cli(['run', MINED, '--runs-dir', tempDir(), '--json', '--quiet', ...COMMON, ...extra]);
  expect(r.code, r.stderr).toBe(0);
  const runDir = (JSON.parse(r.stdout) as { run_dir: string }).run_dir;
  const events = lines(join(runDir, 'events.jsonl'));
  const env = JSON.parse(readFileSync(join(runDir, 'env.json'), 'utf8')) as { encoders: Record<string, Record<string, unknown>>; timings: Record<string, number> };
  const { time: _time, ...mined } = events.find((e) => e.type === 'mined')!;
  return {
    mined,
    losses: events.filter((e) => e.type === 'train_step').map((e) => e.loss as number),
    env,
  };
}

describeShared('miner hard-negative: model (the mining encoder)', () => {
  it('miner.model naming the base model mines what the default does; another model mines differently; env.json names the mining encoder', async () => {
    const byDefault = await mine();
    expect(byDefault.mined).toMatchObject({ examples: expect.any(Number), stats: expect.any(Object) });
    expect(byDefault.losses).toHaveLength(3);
    expect(Object.keys(byDefault.env.encoders).sort()).toEqual(['base', 'finetuned']);

    const same = await mine(['--set', `miner.model={path: ${TINY_BERT}}`]);
    expect(same.mined).toEqual(byDefault.mined);
    expect(same.losses).toEqual(byDefault.losses);
    // the mining encoder is recorded as `miner`, the base one is still loaded for evaluation
    expect(Object.keys(same.env.encoders).sort()).toEqual(['base', 'finetuned', 'miner']);
    expect(same.env.encoders.miner).toMatchObject({ backend: 'ort', pooling: 'cls' });
    expect(same.env.timings.load_miner).toBeGreaterThan(0);

    // tiny-bert pools cls: with mean pooling the same weights rank the categories otherwise
    const other = await mine(['--set', `miner.model={path: ${TINY_BERT}, pooling: mean}`]);
    expect(other.env.encoders.miner).toMatchObject({ backend: 'ort', pooling: 'mean' });
    expect(other.env.encoders.base).toMatchObject({ pooling: 'cls' });
    expect(other.mined).not.toEqual(byDefault.mined);
    expect(other.losses).not.toEqual(byDefault.losses);
  }, 300_000);

  it('a miner.model.path that does not exist is a config error at its line, before anything runs', async () => {
    const dir = tempDir();
    const file = join(dir, 'exp.yaml');
    writeFileSync(file, `extends: ${MINED}\nminer:\n  model:\n    path: no-such-model\n`);
    const r = await cli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`exp.yaml:4:11 miner.model.path: no such directory: ${join(dir, 'no-such-model')}`);
    const run = await cli(['run', file, '--runs-dir', tempDir(), ...COMMON.slice(0, 2)]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`exp.yaml:4:11 miner.model.path: no such directory: ${join(dir, 'no-such-model')}`);
  });

  it('miner.model names exactly one model', async () => {
    const dir = tempDir();
    const file = join(dir, 'exp.yaml');
    writeFileSync(file, `extends: ${MINED}\nminer:\n  model:\n    pooling: mean\n`);
    const r = await cli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'exp.yaml:3:3 miner.model: missing "id" (a hub model id), "path" (a model directory) or "bundled" (the model that ranks the corpus; leave model out to rank with the base model)',
    );
  });
});
