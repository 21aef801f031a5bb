/**
 * A run on a disk that fills up (ENOSPC): the reference workflow's config (`configs/bge.yaml`,
 * LanceDB store, ort trainer) runs with its runs directory on a 1.5 MB tmpfs, so the base model is
 * evaluated and recorded but the first training checkpoint does not fit. The run must exit 1 with a
 * message naming the file and "no space left on device", end with status `failed` in env.json and
 * metrics.json (holding the base metrics), leave no half-written files, and — once there is room —
 * resume to exactly the metrics of an uninterrupted run. A resume on a disk too full for the
 * run's 256 KiB reserve says the disk is full and leaves the records as they were.
 *
 * The small disk is a tmpfs mounted in a private mount namespace (`unshare`), so nothing outside
 * the test sees it; the run directory is copied out before the namespace ends. Where namespaces
 * are not allowed the test is skipped with the reason.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { privateMounts } from '../helpers/mounts.js';
import { ROOT, TINY_BERT, describeShared } from '../helpers/shared.js';

const BGE = join(ROOT, 'configs', 'bge.yaml');
const ARGS = ['--set', `model={path: ${TINY_BERT}}`, '--set', 'training.epochs=4', '--set', 'training.learning_rate=1e-3', '--set', 'training.eval_every=3', '--set', 'backend={type: ort, intra_op_threads: 1}'];
const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'));

const ns = privateMounts();
if ('skip' in ns) console.warn(`skipping the disk-full test: ${ns.skip}`);

describeShared('a run that fills the disk', () => {
  it.skipIf('skip' in ns)('fails naming the file, records status and base metrics, and resumes once there is room', async () => {
    const reference = await cli(['run', BGE, '--runs-dir', tempDir(), '--json', '--quiet', ...ARGS]);
    expect(reference.code).toBe(0);
    const expected = JSON.parse(reference.stdout);

    const work = tempDir();
    const bin = join(ROOT, 'bin', 'ftrun.js');
    const q = (x: string) => `'${x.replace(/'/g, `'\\''`)}'`;
    const ftrun = (args: string[]) => [process.execPath, bin, ...args].map(q).join(' ');
    // In the namespace, for each disk size: mount it, run (fails), keep the output and a copy of
    // the run directory; on the larger one, grow the disk, resume and copy the run again.
    const script = ['set -u'];
    for (const [size, resume] of [['320k', false], ['1536k', true]] as const) {
      const disk = join(work, size, 'disk');
      const out = join(work, size);
      script.push(
        `mkdir -p ${q(disk)} ${q(out)}/failed ${q(out)}/resumed`,
        `mount -t tmpfs -o size=${size} tmpfs ${q(disk)} || exit 99`,
        `${ftrun(['run', BGE, '--runs-dir', join(disk, 'runs'), ...ARGS])} >${q(out)}/run.stdout 2>${q(out)}/run.stderr; echo $? >${q(out)}/run.code`,
        `cp -a ${q(disk)}/runs/. ${q(out)}/failed/`,
      );
      if (resume) {
        script.push(
          // The disk filled up but for 128 KiB: room for the lock, not for the reserve.
          `dd if=/dev/zero of=${q(disk)}/keep bs=4k count=32 2>/dev/null && { dd if=/dev/zero of=${q(disk)}/filler bs=4k 2>/dev/null; rm ${q(disk)}/keep; }`,
          `mkdir -p ${q(out)}/full && ${[process.execPath, bin].map(q).join(' ')} resume "$(ls -d ${q(disk)}/runs/*/*)" --quiet >${q(out)}/full.stdout 2>${q(out)}/full.stderr; echo $? >${q(out)}/full.code`,
          `cp -a ${q(disk)}/runs/. ${q(out)}/full/ && rm ${q(disk)}/filler`,
          `mount -o remount,size=64m ${q(disk)} || exit 98`,
          `${[process.execPath, bin].map(q).join(' ')} resume "$(ls -d ${q(disk)}/runs/*/*)" --json --quiet >${q(out)}/resume.stdout 2>${q(out)}/resume.stderr; echo $? >${q(out)}/resume.code`,
          `cp -a ${q(disk)}/runs/. ${q(out)}/resumed/`,
        );
      }
    }
    writeFileSync(join(work, 'script.sh'), script.join('\n') + '\n');
    const argv = (ns as { argv: string[] }).argv;
    const r = spawnSync(argv[0]!, [...argv.slice(1), 'sh', join(work, 'script.sh')], { encoding: 'utf8', cwd: work });
    expect(r.status, r.stderr).toBe(0);

    const all = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? [e.name, ...all(join(dir, e.name))] : [e.name]));
    /** The failed run on a disk of `size`: exit 1 naming `file`, status failed, the base metrics kept, nothing half-written. */
    const failedRun = (size: string, file: RegExp): string => {
      const read = (f: string) => readFileSync(join(work, size, f), 'utf8');
      expect(read('run.code').trim()).toBe('1');
      const stderr = read('run.stderr');
      expect(stderr).toMatch(new RegExp(`ftrun: run failed: could not write \\S+/${file.source}: no space left on device\n`));
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(stderr).toMatch(/continue it \(once the cause is fixed\): ftrun resume \S+/);
      const experiment = join(work, size, 'failed', 'bge-base-transactions');
      const run = join(experiment, readdirSync(experiment)[0]!);
      const env = readJson(join(run, 'env.json'));
      expect(env.status).toBe('failed');
      expect(env.error.message).toMatch(/no space left on device/);
      const metrics = readJson(join(run, 'metrics.json'));
      expect(metrics.status).toBe('failed');
      expect(metrics.models).toEqual({ base: expected.models.base });
      expect(readFileSync(join(run, 'report.md'), 'utf8')).toContain('failed');
      // No temporary files, no partial checkpoint, the space reserve released.
      expect(all(run).filter((n) => /\.tmp|ftrun-reserve|^step-/.test(n))).toEqual([]);
      return run;
    };

    // 320 KB: the disk fills while the base model's per-query results are appended.
    failedRun('320k', /per_query\.jsonl/);
    // 1.5 MB: the base model is evaluated, the first checkpoint does not fit.
    failedRun('1536k', /checkpoints\/step-3/);
    const read = (f: string) => readFileSync(join(work, '1536k', f), 'utf8');
    // With the disk full again, resume says so before it starts, and the records stay as the failed run left them.
    const run = join(work, '1536k', 'failed', 'bge-base-transactions', readdirSync(join(work, '1536k', 'failed', 'bge-base-transactions'))[0]!);
    const runOnDisk = join(work, '1536k', 'disk', 'runs', 'bge-base-transactions', run.split('/').pop()!);
    expect(read('full.stderr')).toBe(
      `ftrun: run failed: the disk is full: could not write ${runOnDisk}/.ftrun-reserve: no space left on device; a run holds back 256 KiB in its directory before it starts, to record how it ends. ` +
        `Nothing was run and the records in ${runOnDisk} are as they were. Free some space on that disk, then run the same command again\n(run with --verbose for the stack trace)\n`,
    );
    expect(read('full.code').trim()).toBe('1');
    const full = run.replace(`${join(work, '1536k', 'failed')}`, join(work, '1536k', 'full'));
    for (const f of ['env.json', 'metrics.json', 'events.jsonl', 'per_query.jsonl']) expect(readFileSync(join(full, f), 'utf8'), f).toBe(readFileSync(join(run, f), 'utf8'));
    expect(all(full).filter((n) => /\.tmp|ftrun-reserve|ftrun-lock|^step-/.test(n))).toEqual([]);
    // Once there is room, resume finishes with the uninterrupted metrics.
    // No checkpoint was written before the disk filled up, so training starts over (and says so).
    expect(read('resume.stderr')).toMatch(/^warning: no checkpoint in \S+\/checkpoints: training starts from the beginning\n$/);
    expect(read('resume.code').trim()).toBe('0');
    const resumed = JSON.parse(read('resume.stdout'));
    expect(resumed.status).toBe('ok');
    expect(resumed.models).toEqual(expected.models);
  });
});
