/**
 * Random search and the Hydra habits on the command line: `plan` prints the same random trials
 * every time; a small random sweep (the tiny BERT, evaluation only) records in sweep.json the
 * trials `plan` prints, run sequentially, with --parallel, on a Redis queue and as array jobs;
 * `--sweep path=a,b` builds a grid; a positional `path=value` and an unknown command get a
 * did-you-mean (exit 2).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { BIN, REDIS, freePort } from '../helpers/redis.js';
import { TINY_BERT, TRANSACTIONS, describeShared } from '../helpers/shared.js';

const EXPERIMENT = `name: random-tiny
dataset: { type: jsonl, queries: ${TRANSACTIONS}/eval_transactions.jsonl, corpus: { path: ${TRANSACTIONS}/categories.json, text: category } }
model: { path: ${TINY_BERT} }
sinks: [{ type: json }]
`;
const RANDOM = `${EXPERIMENT}sweep:
  random:
    trials: 3
    seed: 5
    space:
      model.pooling: {choice: [cls, mean, max]}
      model.max_seq_length: {int: [8, 64], log: true}
`;

type Overrides = Array<Record<string, unknown>>;
const recorded = (sweepDir: string): Overrides => (JSON.parse(readFileSync(join(sweepDir, 'sweep.json'), 'utf8')) as { trials: Array<{ overrides: Record<string, unknown> }> }).trials.map((t) => t.overrides);
const values = (sweepDir: string) => (JSON.parse(readFileSync(join(sweepDir, 'leaderboard.json'), 'utf8')) as { trials: Array<{ index: number; value: number }> }).trials.map((t) => [t.index, t.value]);

describeShared('random search from the command line', () => {
  let redis: ChildProcess | undefined;
  const workers: ChildProcess[] = [];
  afterAll(() => {
    for (const w of workers) w.kill('SIGKILL');
    redis?.kill('SIGKILL');
  });

  it('plan prints the same trials every time, and --json gives their overrides', async () => {
    const dir = tempDir('ftrun-random-');
    const file = join(dir, 'random.yaml');
    writeFileSync(file, RANDOM);
    const a = await cli(['plan', file]);
    const b = await cli(['plan', file]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.stdout).toBe(a.stdout);
    const heads = a.stdout.split('\n').filter((l) => l.startsWith('# '));
    expect(heads).toEqual([
      '# sweep: 3 trials',
      '# --- trial 1/3: model.pooling="mean", model.max_seq_length=17',
      '# --- trial 2/3: model.pooling="cls", model.max_seq_length=32',
      '# --- trial 3/3: model.pooling="max", model.max_seq_length=9',
    ]);
    const json = JSON.parse((await cli(['plan', file, '--json'])).stdout) as { trials: Array<{ overrides: Record<string, unknown>; config: { model: Record<string, unknown> } }> };
    expect(json.trials.map((t) => t.overrides)).toEqual([
      { 'model.pooling': 'mean', 'model.max_seq_length': 17 },
      { 'model.pooling': 'cls', 'model.max_seq_length': 32 },
      { 'model.pooling': 'max', 'model.max_seq_length': 9 },
    ]);
    expect(json.trials[1]!.config.model).toMatchObject({ pooling: 'cls', max_seq_length: 32 });
  });

  it('sequentially, with --parallel, on a queue and as array jobs: the trials plan prints, with the same metrics', async () => {
    const dir = tempDir('ftrun-random-');
    const file = join(dir, 'random.yaml');
    writeFileSync(file, RANDOM);
    const planned = (JSON.parse((await cli(['plan', file, '--json'])).stdout) as { trials: Array<{ overrides: Record<string, unknown> }> }).trials.map((t) => t.overrides);
    expect(planned).toHaveLength(3);

    const seq = await cli(['run', file, '--runs-dir', join(dir, 'seq'), '--json', '--quiet']);
    expect(seq.code, seq.stderr).toBe(0);
    const seqDir = (JSON.parse(seq.stdout) as { sweep_dir: string }).sweep_dir;
    expect(recorded(seqDir)).toEqual(planned);

    const par = await cli(['run', file, '--runs-dir', join(dir, 'par'), '--parallel', '2', '--json', '--quiet']);
    expect(par.code, par.stderr).toBe(0);
    const parDir = (JSON.parse(par.stdout) as { sweep_dir: string }).sweep_dir;
    expect(recorded(parDir)).toEqual(planned);
    expect(values(parDir)).toEqual(values(seqDir));

    const arrays = join(dir, 'arrays');
    expect((await cli(['plan', file, '--prepare', arrays])).code).toBe(0);
    for (const n of ['2', '3', '1']) {
      const r = await cli(['run', file, '--trial', n, '--sweep-dir', arrays, '--quiet']);
      expect(r.code, r.stderr).toBe(0);
    }
    expect((await cli(['sweep', 'collect', arrays])).code).toBe(0);
    expect(recorded(arrays)).toEqual(planned);
    expect(values(arrays)).toEqual(values(seqDir));

    if (!REDIS) return console.warn('skipping the queue part: redis-server is not installed (apt-get install redis-server)');
    const port = await freePort();
    redis = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--dir', tempDir('ftrun-redis-'), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 200; i++) {
      if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const url = `redis://127.0.0.1:${port}`;
    workers.push(spawn(process.execPath, [BIN, 'worker', '--queue', url], { stdio: 'ignore' }));
    const queued = await new Promise<{ code: number | null; stdout: string; stderr: string }>((res) => {
      const c = spawn(process.execPath, [BIN, 'run', file, '--queue', url, '--runs-dir', join(dir, 'queued'), '--json'], { cwd: dir });
      let stdout = '';
      let stderr = '';
      c.stdout.on('data', (d) => (stdout += d));
      c.stderr.on('data', (d) => (stderr += d));
      c.on('close', (code) => res({ code, stdout, stderr }));
    });
    expect(queued.code, queued.stderr).toBe(0);
    const queuedDir = (JSON.parse(queued.stdout) as { sweep_dir: string }).sweep_dir;
    expect(recorded(queuedDir)).toEqual(planned);
    expect(values(queuedDir)).toEqual(values(seqDir));
  }, 600_000);

  it('--sweep path=a,b builds a grid: added to the file\'s grid keys, replacing the list of the same path; with random draws, and recorded for resume', async () => {
    const dir = tempDir('ftrun-random-');
    const file = join(dir, 'grid.yaml');
    writeFileSync(file, `${EXPERIMENT}sweep:\n  grid:\n    model.normalize: [true, false]\n    model.pooling: [cls, mean]\n`);
    const plan = async (...args: string[]) => {
      const r = await cli(['plan', file, '--json', ...args]);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { trials: Array<{ overrides: Record<string, unknown> }> }).trials.map((t) => t.overrides);
    };
    expect(await plan('--sweep', 'model.pooling=max', '--sweep', 'evaluate.k=[1],[1,5]')).toEqual([
      { 'model.normalize': true, 'model.pooling': 'max', 'evaluate.k': [1] },
      { 'model.normalize': true, 'model.pooling': 'max', 'evaluate.k': [1, 5] },
      { 'model.normalize': false, 'model.pooling': 'max', 'evaluate.k': [1] },
      { 'model.normalize': false, 'model.pooling': 'max', 'evaluate.k': [1, 5] },
    ]);
    // values are YAML: numbers stay numbers (1e-5 too), quoted text stays text
    const plain = join(dir, 'plain.yaml');
    writeFileSync(plain, `${EXPERIMENT}training: { method: full, epochs: 1 }\nloss: { type: multiple-negatives-ranking }\n`);
    const r = await cli(['plan', plain, '--json', '--sweep', 'training.learning_rate=1e-5,2e-5,5e-5', '--sweep', "model.query_prompt='a, b',\"\""]);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { trials: Array<{ overrides: unknown }> }).trials.map((t) => t.overrides)).toEqual(
      [1e-5, 2e-5, 5e-5].flatMap((lr) => ['a, b', ''].map((q) => ({ 'training.learning_rate': lr, 'model.query_prompt': q }))),
    );
    // with a random block: every grid value with every draw
    const random = join(dir, 'random.yaml');
    writeFileSync(random, RANDOM);
    const both = await cli(['plan', random, '--json', '--sweep', 'model.normalize=true,false']);
    expect((JSON.parse(both.stdout) as { trials: Array<{ overrides: unknown }> }).trials.map((t) => t.overrides)).toEqual(
      [true, false].flatMap((n) => [['mean', 17], ['cls', 32], ['max', 9]].map(([p, m]) => ({ 'model.normalize': n, 'model.pooling': p, 'model.max_seq_length': m }))),
    );
    // a sweep run with --sweep records it as the --set it stands for (what ftrun resume expands again)
    const base = join(dir, 'base.yaml');
    writeFileSync(base, EXPERIMENT);
    const run = await cli(['run', base, '--set', 'model.normalize=false', '--sweep', 'model.pooling=cls,mean', '--runs-dir', join(dir, 'runs'), '--json', '--quiet']);
    expect(run.code, run.stderr).toBe(0);
    const sweepDir = (JSON.parse(run.stdout) as { sweep_dir: string }).sweep_dir;
    expect(JSON.parse(readFileSync(join(sweepDir, 'sweep.json'), 'utf8')).sets).toEqual(['model.normalize=false', 'sweep.grid["model.pooling"]=["cls","mean"]']);
    expect(recorded(sweepDir)).toEqual([{ 'model.pooling': 'cls' }, { 'model.pooling': 'mean' }]);
  }, 300_000);
});

describe('the Hydra habits: did-you-mean', () => {
  it('an unknown command names the closest one and lists them', async () => {
    const r = await cli(['rn', 'x.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error\[E_USAGE\]: unknown command "rn"\. Did you mean "run"\? Commands: run, worker, validate, plan, [a-z, ]+ \(or a config file to run\)\. See: ftrun --help\n$/);
    expect((await cli(['pln', 'x.yaml'])).stderr).toMatch(/^error\[E_USAGE\]: unknown command "pln"\. Did you mean "plan"\? Commands: /);
  });

  it('a positional path=value after the config: --set (or --sweep for a comma list)', async () => {
    const r = await cli(['run', 'x.yaml', 'training.epochs=2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error[E_USAGE]: ftrun run: "training.epochs=2" is not a file; did you mean --set training.epochs=2? See: ftrun run --help\n');
    expect((await cli(['x.yaml', 'training.learning_rate=1e-5,2e-5'])).stderr).toBe(
      'error[E_USAGE]: ftrun run: "training.learning_rate=1e-5,2e-5" is not a file; did you mean --sweep training.learning_rate=1e-5,2e-5? See: ftrun run --help\n',
    );
    expect((await cli(['plan', 'x.yaml', 'evaluate.k=[1, 5]'])).stderr).toBe(
      "error[E_USAGE]: ftrun plan: \"evaluate.k=[1, 5]\" is not a file; did you mean --set 'evaluate.k=[1, 5]'? See: ftrun plan --help\n",
    );
    expect((await cli(['validate', 'model.pooling=cls', 'x.yaml'])).stderr).toBe(
      'error[E_USAGE]: ftrun validate: "model.pooling=cls" is not a file; did you mean --set model.pooling=cls? See: ftrun validate --help\n',
    );
    // two files are still two files
    expect((await cli(['run', 'a.yaml', 'b.yaml'])).stderr).toBe('error[E_USAGE]: ftrun run: expected one config file, got a.yaml b.yaml. See: ftrun run --help\n');
  });

  it('a malformed --sweep flag is a usage error naming it', async () => {
    const bad = async (flag: string) => {
      const r = await cli(['plan', 'x.yaml', '--sweep', flag]);
      expect(r.code).toBe(2);
      return r.stderr;
    };
    expect(await bad('training.learning_rate')).toBe('error[E_USAGE]: --sweep "training.learning_rate": expected path=value1,value2,… (e.g. --sweep training.learning_rate=1e-5,2e-5,5e-5)\n');
    expect(await bad('model.pooling=cls,,mean')).toBe('error[E_USAGE]: --sweep "model.pooling=cls,,mean": value 2 of 3 is empty\n');
    expect(await bad('evaluate.k=[1,5')).toBe('error[E_USAGE]: --sweep "evaluate.k=[1,5": value 1 ([1,5) is not valid YAML: Flow sequence must end with a ]\n');
    expect(await bad('plugins=a,b')).toBe('error[E_USAGE]: --sweep "plugins=a,b": "plugins" cannot be swept\n');
    expect(await bad('a..b=1,2')).toBe('error[E_USAGE]: --sweep "a..b=1,2": empty segment in path "a..b"\n');
  });
});
