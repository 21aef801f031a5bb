/**
 * Sweeps as array jobs: `plan --prepare`, one `run --trial N --sweep-dir` per trial in any order,
 * then `sweep collect` gives the leaderboard of a sequential sweep, naming trials that are missing;
 * and the shipped Slurm script and Kubernetes manifest parse and run commands the CLI accepts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { ROOT, TINY_BERT, TRANSACTIONS, describeShared } from '../helpers/shared.js';

const SWEEP = `name: arrays
dataset:
  type: jsonl
  queries: ${TRANSACTIONS}/eval_transactions.jsonl
  corpus: { path: ${TRANSACTIONS}/categories.json, text: category }
model: { path: ${TINY_BERT} }
sinks: [{ type: json }]
sweep:
  grid:
    model.pooling: [cls, mean, max]
`;

describeShared('array jobs', () => {
  it('prepared, run trial by trial in any order, collected: the leaderboard of a sequential sweep', async () => {
    const dir = tempDir('ftrun-arrays-');
    const file = join(dir, 'sweep.yaml');
    writeFileSync(file, SWEEP);
    const seq = await cli(['run', file, '--runs-dir', join(dir, 'runs'), '--json', '--quiet']);
    expect(seq.code).toBe(0);
    const want = JSON.parse(readFileSync(join(JSON.parse(seq.stdout).sweep_dir, 'leaderboard.json'), 'utf8')).trials.map((t: { index: number; value: number }) => [t.index, t.value]);

    const swept = join(dir, 'array-sweep');
    const p = await cli(['plan', file, '--prepare', swept]);
    expect(p.code).toBe(0);
    expect(p.stderr).toContain(`prepared ${swept}: 3 trials.`);
    for (const n of ['3', '1']) expect((await cli(['run', file, '--trial', n, '--sweep-dir', swept, '--quiet'])).code).toBe(0);

    const partial = await cli(['sweep', 'collect', swept]);
    expect(partial.code).toBe(1);
    expect(partial.stderr).toContain('1 of 3 trials not ok: trial 2 missing\n');

    expect((await cli(['run', file, '--trial', '2', '--sweep-dir', swept, '--quiet'])).code).toBe(0);
    const done = await cli(['sweep', 'collect', swept, '--json']);
    expect(done.code).toBe(0);
    const got = JSON.parse(readFileSync(join(swept, 'leaderboard.json'), 'utf8')).trials.map((t: { index: number; value: number }) => [t.index, t.value]);
    expect(got).toEqual(want);
    expect(JSON.parse(readFileSync(join(swept, 'sweep.json'), 'utf8')).trials.map((t: { status: string }) => t.status)).toEqual(['ok', 'ok', 'ok']);
  });

  it('refuses a trial out of range, a directory prepared from another sweep, and --trial without --sweep-dir', async () => {
    const dir = tempDir('ftrun-arrays-');
    const file = join(dir, 'sweep.yaml');
    writeFileSync(file, SWEEP);
    await cli(['plan', file, '--prepare', join(dir, 's')]);
    expect((await cli(['run', file, '--trial', '4', '--sweep-dir', join(dir, 's')])).stderr).toBe('error[E_USAGE]: --trial 4: the sweep has trials 1 to 3\n');
    writeFileSync(join(dir, 'other.yaml'), SWEEP.replace('[cls, mean, max]', '[mean, cls, max]'));
    expect((await cli(['run', join(dir, 'other.yaml'), '--trial', '1', '--sweep-dir', join(dir, 's')])).stderr).toBe(
      `error[E_RUN]: ${join(dir, 's')} was prepared from another sweep (trial 1 there: model.pooling="cls"; here: model.pooling="mean")\n`,
    );
    expect((await cli(['run', file, '--trial', '1'])).stderr).toBe('error[E_USAGE]: ftrun run: --trial N and --sweep-dir DIR go together (a trial of a sweep prepared with ftrun plan --prepare DIR)\n');
    // the same trials, but the file changed since the sweep was prepared
    writeFileSync(file, SWEEP.replace('sinks: [{ type: json }]', 'sinks: [{ type: json }]\nevaluate: { k: [1, 3] }'));
    const changed = await cli(['run', file, '--trial', '1', '--sweep-dir', join(dir, 's')]);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toMatch(new RegExp(`^error\\[E_RUN\\]: trial 1: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} changed since ${join(dir, 's').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} was prepared \\(its resolved config hashes to [0-9a-f]{16}, the sweep's to [0-9a-f]{16}\\); prepare a new sweep directory\\n$`));
  });
});

describeShared('the shipped array-job files', () => {
  /** The ftrun arguments of a shell command line, with the paths and index of a test sweep. */
  const ftrunArgs = (line: string, file: string, dir: string, index: string) =>
    line
      .replace(/^.*?npx ftrun /, '')
      .replace(/"\$CONFIG"|\/work\/sweep\.yaml/, file)
      .replace(/"\$SWEEP_DIR"|\/work\/runs\/my-sweep/, dir)
      .replace(/"\$SLURM_ARRAY_TASK_ID"|\$\(\(JOB_COMPLETION_INDEX \+ 1\)\)/, index)
      .trim()
      .split(/\s+/);

  it('the Kubernetes Indexed Job parses and its command runs a trial', async () => {
    const job = parse(readFileSync(join(ROOT, 'deploy', 'k8s', 'sweep-indexed-job.yaml'), 'utf8'));
    expect(job.kind).toBe('Job');
    expect(job.spec.completionMode).toBe('Indexed');
    const container = job.spec.template.spec.containers[0];
    expect(container.command).toEqual(['sh', '-c']);
    // a restarted pod waits for the lock its predecessor left on the trial to go stale
    expect(container.env).toContainEqual({ name: 'FTRUN_LOCK_WAIT_S', value: '140' });
    const dir = tempDir('ftrun-k8s-');
    writeFileSync(join(dir, 'sweep.yaml'), SWEEP);
    await cli(['plan', join(dir, 'sweep.yaml'), '--prepare', join(dir, 's')]);
    const r = await cli(ftrunArgs(container.args[0], join(dir, 'sweep.yaml'), join(dir, 's'), '1'));
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 's', 'trials', '1', 'metrics.json'), 'utf8')).toContain('"status": "ok"');
  });

  it('the Slurm script runs a trial with its array task id', async () => {
    const script = readFileSync(join(ROOT, 'deploy', 'slurm', 'sweep.sbatch'), 'utf8');
    expect(script).toMatch(/^#SBATCH --requeue$/m);
    expect(script).toMatch(/^export FTRUN_LOCK_WAIT_S="\$\{FTRUN_LOCK_WAIT_S:-140\}"$/m);
    const line = script.split('\n').find((l) => l.startsWith('npx ftrun '))!;
    const dir = tempDir('ftrun-slurm-');
    writeFileSync(join(dir, 'sweep.yaml'), SWEEP);
    await cli(['plan', join(dir, 'sweep.yaml'), '--prepare', join(dir, 's')]);
    const r = await cli(ftrunArgs(line, join(dir, 'sweep.yaml'), join(dir, 's'), '2'));
    expect(r.code).toBe(0);
  });
});

describe('the compose file', () => {
  it('parses and its workers run a command the CLI accepts', async () => {
    const compose = parse(readFileSync(join(ROOT, 'deploy', 'compose', 'docker-compose.yaml'), 'utf8'));
    const command = compose.services.worker.command as string[];
    expect(command.slice(0, 3)).toEqual(['npx', 'ftrun', 'worker']);
    // the same flags, against a URL that is not a Redis URL, fail on the URL (so the flags parsed)
    const r = await cli([...command.slice(2, -1), 'http://nowhere']);
    expect(r.stderr).toBe('error[E_USAGE]: --queue http://nowhere: expected redis://[[user]:password@]host[:port][/db] (port 6379 and database 0 by default)\n');
    expect(compose.services.redis.command).toContain('--appendonly');
  });
});

describe('docs/distributed.md', () => {
  it('names the files it documents', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'distributed.md'), 'utf8');
    for (const f of ['deploy/slurm/sweep.sbatch', 'deploy/k8s/sweep-indexed-job.yaml', 'deploy/compose/docker-compose.yaml']) expect(doc).toContain(f);
  });
});
