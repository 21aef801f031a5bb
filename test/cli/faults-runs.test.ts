/**
 * Faults in runs, sweeps and array jobs (issue 16): a trial or run started twice is refused while
 * its first process lives and taken over once it is gone; sweep.json keeps what another writer put
 * there; a disk too small to start on says so and changes nothing; runs and sweep directories that
 * cannot be created are usage errors naming the flag; --trial takes a plain decimal number;
 * `sweep status` of a queued sweep shows queued trials and fails only on failures.
 *
 * The processes that must be caught holding a directory are stopped (SIGSTOP) once they hold it,
 * so nothing here depends on how fast the machine is.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareSweepDir } from '../../core/commands/sweep-jobs.js';
import { lockDir } from '../../core/run/lock.js';
import { cli, tempDir } from '../helpers/cli.js';
import { ftrunLine, privateMounts, shq } from '../helpers/mounts.js';
import { ROOT, TINY_BERT, TRANSACTIONS, describeShared } from '../helpers/shared.js';

const SINGLE = `name: arrays
dataset:
  type: jsonl
  queries: ${TRANSACTIONS}/eval_transactions.jsonl
  eval: ${TRANSACTIONS}/eval_transactions.jsonl
  corpus: { path: ${TRANSACTIONS}/categories.json, text: category }
model: { path: ${TINY_BERT} }
sinks: [{ type: json }]
`;
const SWEEP = `${SINGLE}sweep:
  grid:
    model.pooling: [cls, mean, max]
`;
const LOCK = '.ftrun-lock';
const BIN = join(ROOT, 'bin', 'ftrun.js');
const readJson = (f: string) => JSON.parse(readFileSync(f, 'utf8'));
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A folder with sweep.yaml and single.yaml. */
function experiment(): { dir: string; sweep: string; single: string } {
  const dir = tempDir('ftrun-faults-runs-');
  writeFileSync(join(dir, 'sweep.yaml'), SWEEP);
  writeFileSync(join(dir, 'single.yaml'), SINGLE);
  return { dir, sweep: join(dir, 'sweep.yaml'), single: join(dir, 'single.yaml') };
}

/** The real CLI in its own process; `exited` resolves with its exit code (or signal) and stderr. */
function ftrun(args: string[], env: Record<string, string> = {}): { child: ChildProcess; exited: Promise<{ code: number | null; signal: string | null; stderr: string }>; stderr: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null; stderr: string }>((res) => child.on('close', (code, signal) => res({ code, signal, stderr })));
  return { child, exited, stderr: () => stderr };
}

/** Wait until `ready()` holds (no time limit but the test's), failing at once if `child` ends first. */
async function until(ready: () => boolean, child: ChildProcess, exited: Promise<{ stderr: string }>): Promise<void> {
  while (!ready()) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the process ended before it was caught: ${(await exited).stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The lock file `dir` holds, once written whole. */
const lockWritten = (dir: string) => {
  try {
    return typeof JSON.parse(readFileSync(join(dir, LOCK), 'utf8')).token === 'string';
  } catch {
    return false;
  }
};

/** per_query.jsonl of a run: each (model, query) once. */
function expectEachQueryOnce(runDir: string): void {
  const lines = readFileSync(join(runDir, 'per_query.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { model: string; query_id: string });
  const keys = lines.map((l) => `${l.model}/${l.query_id}`);
  expect(new Set(keys).size).toBe(keys.length);
  expect(keys.length).toBe(readFileSync(join(TRANSACTIONS, 'eval_transactions.jsonl'), 'utf8').trim().split('\n').length);
}

const here = `on this host, ${hostname()}`;
const stillHeld = 'Started twice? Wait for that process to finish, or stop it; once it has ended, the next ftrun takes the directory over\n';

describeShared('one process per trial, run and sweep (item 1)', () => {
  it('a trial started twice: the second is refused naming the first, which finishes with every query once', async () => {
    const { dir, sweep } = experiment();
    const s = join(dir, 's');
    expect((await cli(['plan', sweep, '--prepare', s])).code).toBe(0);
    const trial = join(s, 'trials', '1');
    const first = ftrun(['run', sweep, '--trial', '1', '--sweep-dir', s, '--quiet']);
    await until(() => lockWritten(trial), first.child, first.exited);
    first.child.kill('SIGSTOP');
    try {
      const holder = readJson(join(trial, LOCK));
      expect(holder).toMatchObject({ pid: first.child.pid, host: hostname(), command: 'ftrun run --trial 1' });
      const second = await cli(['run', sweep, '--trial', '1', '--sweep-dir', s, '--quiet']);
      expect(second.stderr).toBe(`error[E_LOCKED]: ${trial} is in use: ftrun run --trial 1 holds it (pid ${first.child.pid} ${here}, since ${holder.started_at}). ${stillHeld}`);
      expect(second.code).toBe(2);
    } finally {
      first.child.kill('SIGCONT');
    }
    expect((await first.exited).code).toBe(0);
    expectEachQueryOnce(trial);
    expect(existsSync(join(trial, LOCK))).toBe(false);
  });

  it('ftrun resume of a prepared sweep while an array job runs one of its trials is refused, and sweep.json is left as it was', async () => {
    const { dir, sweep } = experiment();
    const s = join(dir, 's');
    expect((await cli(['plan', sweep, '--prepare', s])).code).toBe(0);
    const trial = join(s, 'trials', '2');
    const job = ftrun(['run', sweep, '--trial', '2', '--sweep-dir', s, '--quiet']);
    await until(() => lockWritten(trial), job.child, job.exited);
    job.child.kill('SIGSTOP');
    try {
      const before = readFileSync(join(s, 'sweep.json'), 'utf8');
      const holder = readJson(join(trial, LOCK));
      const r = await cli(['resume', s, '--quiet']);
      expect(r.stderr).toBe(`error[E_LOCKED]: cannot resume the sweep ${s}: trial 2 is running: ${trial} is in use: ftrun run --trial 2 holds it (pid ${job.child.pid} ${here}, since ${holder.started_at}). ${stillHeld}`);
      expect(r.code).toBe(2);
      expect(readFileSync(join(s, 'sweep.json'), 'utf8')).toBe(before);
      expect(existsSync(join(s, 'trials', '1', 'metrics.json'))).toBe(false);
    } finally {
      job.child.kill('SIGCONT');
    }
    expect((await job.exited).code).toBe(0);
    expectEachQueryOnce(trial);
  });

  it('with FTRUN_LOCK_WAIT_S (as queue workers start trials) a trial waits for the process that holds it, then resumes it', async () => {
    const { dir, sweep } = experiment();
    const s = join(dir, 's');
    await cli(['plan', sweep, '--prepare', s]);
    const trial = join(s, 'trials', '1');
    const first = ftrun(['run', sweep, '--trial', '1', '--sweep-dir', s, '--quiet']);
    await until(() => lockWritten(trial), first.child, first.exited);
    first.child.kill('SIGSTOP');
    let second;
    try {
      second = ftrun(['run', sweep, '--trial', '1', '--sweep-dir', s], { FTRUN_LOCK_WAIT_S: '140' });
      await until(() => second!.stderr().includes('waiting'), second.child, second.exited);
      expect(second.stderr()).toBe(`trial 1: ${trial} is in use by another process; waiting up to 140 s for it to end (FTRUN_LOCK_WAIT_S)\n`);
    } finally {
      first.child.kill('SIGCONT');
    }
    expect((await first.exited).code).toBe(0);
    const after = await second.exited;
    expect(after.code, after.stderr).toBe(0);
    expect(after.stderr).toContain(`trial 1/3: model.pooling="cls" (resumed) → ${trial}\n`);
    expectEachQueryOnce(trial);
    expect(readFileSync(join(trial, 'events.jsonl'), 'utf8')).toContain('"type":"run_resume"');

    const bad = ftrun(['run', sweep, '--trial', '2', '--sweep-dir', s], { FTRUN_LOCK_WAIT_S: 'soon' });
    const refused = await bad.exited;
    expect(refused.stderr).toBe('error[E_USAGE]: FTRUN_LOCK_WAIT_S=soon: expected a number of seconds to wait for a trial another process holds (0: refuse at once)\n');
    expect(refused.code).toBe(2);
  });

  it('ftrun resume of a run that is running, and of a sweep that is running, is refused', async () => {
    const { dir, single, sweep } = experiment();
    const runs = join(dir, 'runs');
    const run = ftrun(['run', single, '--runs-dir', runs, '--quiet']);
    const runDir = () => (existsSync(join(runs, 'arrays')) ? readdirSync(join(runs, 'arrays')).map((n) => join(runs, 'arrays', n))[0] : undefined);
    // resume needs the run's env.json, written right after the lock is taken
    await until(() => !!runDir() && existsSync(join(runDir()!, 'env.json')), run.child, run.exited);
    run.child.kill('SIGSTOP');
    try {
      const holder = readJson(join(runDir()!, LOCK));
      const r = await cli(['resume', runDir()!, '--quiet']);
      expect(r.stderr).toBe(`error[E_LOCKED]: ${runDir()} is in use: ftrun run holds it (pid ${run.child.pid} ${here}, since ${holder.started_at}). ${stillHeld}`);
      expect(r.code).toBe(2);
    } finally {
      run.child.kill('SIGCONT');
    }
    expect((await run.exited).code).toBe(0);
    expect(readJson(join(runDir()!, 'env.json')).status).toBe('ok');

    const sweepRuns = join(dir, 'sweep-runs');
    const sw = ftrun(['run', sweep, '--runs-dir', sweepRuns, '--quiet']);
    const sweepDir = () => (existsSync(join(sweepRuns, 'arrays')) ? readdirSync(join(sweepRuns, 'arrays')).map((n) => join(sweepRuns, 'arrays', n))[0] : undefined);
    await until(() => !!sweepDir() && existsSync(join(sweepDir()!, 'sweep.json')), sw.child, sw.exited);
    sw.child.kill('SIGSTOP');
    try {
      const holder = readJson(join(sweepDir()!, LOCK));
      const r = await cli(['resume', sweepDir()!, '--quiet']);
      expect(r.stderr).toBe(`error[E_LOCKED]: ${sweepDir()} is in use: ftrun run holds it (pid ${sw.child.pid} ${here}, since ${holder.started_at}). ${stillHeld}`);
      expect(r.code).toBe(2);
    } finally {
      sw.child.kill('SIGCONT');
    }
    expect((await sw.exited).code).toBe(0);
    expect(readJson(join(sweepDir()!, 'sweep.json')).trials.map((t: { status: string }) => t.status)).toEqual(['ok', 'ok', 'ok']);
  });

  it('a SIGKILLed holder leaves its lock, and the next process takes the trial over', async () => {
    const { dir, sweep } = experiment();
    const s = join(dir, 's');
    await cli(['plan', sweep, '--prepare', s]);
    const trial = join(s, 'trials', '2');
    const first = ftrun(['run', sweep, '--trial', '2', '--sweep-dir', s, '--quiet']);
    await until(() => lockWritten(trial), first.child, first.exited);
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(existsSync(join(trial, LOCK))).toBe(true);
    const again = await cli(['run', sweep, '--trial', '2', '--sweep-dir', s, '--quiet']);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expectEachQueryOnce(trial);
    expect(existsSync(join(trial, LOCK))).toBe(false);
  });

  it.skipIf(!existsSync('/proc/self/stat'))('a pid that now belongs to another process does not hold the lock', async () => {
    const { dir, sweep } = experiment();
    const s = join(dir, 's');
    await cli(['plan', sweep, '--prepare', s]);
    const trial = join(s, 'trials', '1');
    mkdirSync(trial, { recursive: true });
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const start = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const lock = (processStart: number) =>
      writeFileSync(
        join(trial, LOCK),
        JSON.stringify({
          pid: process.pid, host: hostname(), started_at: '2026-01-02T03:04:05.000Z', process_start: processStart,
          boot_id: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(), pid_namespace: readlinkSync('/proc/self/ns/pid'), command: 'ftrun run --trial 1', token: 't',
        }),
      );
    // This (live) process, started when the lock says: held.
    lock(start);
    const held = await cli(['run', sweep, '--trial', '1', '--sweep-dir', s, '--quiet']);
    expect(held.stderr).toBe(`error[E_LOCKED]: ${trial} is in use: ftrun run --trial 1 holds it (pid ${process.pid} ${here}, since 2026-01-02T03:04:05.000Z). ${stillHeld}`);
    expect(held.code).toBe(2);
    // The same pid, but the lock was taken by a process started at another time: taken over.
    lock(start - 1);
    const taken = await cli(['run', sweep, '--trial', '1', '--sweep-dir', s, '--quiet']);
    expect(taken.stderr).toBe('');
    expect(taken.code).toBe(0);
    expect(existsSync(join(trial, LOCK))).toBe(false);
  });

  it('a lock from another host holds while its heartbeat is fresh, and is taken over once it is stale', async () => {
    const { dir, sweep } = experiment();
    const s = join(dir, 's');
    await cli(['plan', sweep, '--prepare', s]);
    const trial = join(s, 'trials', '3');
    mkdirSync(trial, { recursive: true });
    const file = join(trial, LOCK);
    writeFileSync(file, JSON.stringify({ pid: 4242, host: 'node-17.cluster.example', started_at: '2026-01-02T03:04:05.000Z', command: 'ftrun run --trial 3', token: 't' }));
    const ago = (s: number) => new Date(Date.now() - s * 1000);
    utimesSync(file, ago(30), ago(30));
    const held = await cli(['run', sweep, '--trial', '3', '--sweep-dir', s, '--quiet']);
    expect(held.stderr).toMatch(
      new RegExp(
        `^error\\[E_LOCKED\\]: ${escape(trial)} is in use: ftrun run --trial 3 holds it \\(pid 4242 on host node-17\\.cluster\\.example, since 2026-01-02T03:04:05\\.000Z, last heartbeat \\d+ s ago\\)\\. ` +
          `Started twice\\? Wait for that process to finish, or stop it; if it or its machine is gone, the lock expires 120 s after its last heartbeat \\(or remove ${escape(file)} once you are sure\\)\\n$`,
      ),
    );
    expect(held.code).toBe(2);
    utimesSync(file, ago(121), ago(121));
    const taken = await cli(['run', sweep, '--trial', '3', '--sweep-dir', s, '--quiet']);
    expect(taken.stderr).toBe('');
    expect(taken.code).toBe(0);
  });
});

describeShared("a sink's file over the lock (item 1)", () => {
  it('is refused like a contract file', async () => {
    const { dir } = experiment();
    writeFileSync(join(dir, 'x.yaml'), SINGLE.replace('sinks: [{ type: json }]', 'sinks: [{ type: markdown, file: .ftrun-lock }]'));
    const r = await cli(['validate', join(dir, 'x.yaml')]);
    expect(r.stderr).toBe(
      `error[E_CONFIG]: Config is not valid, found 1 problem:\n  ${join(dir, 'x.yaml')}:8:33 sinks[0].file: ".ftrun-lock" would replace one of ftrun's own working files (.ftrun-*, e.g. the run's lock); choose another name\n`,
    );
    expect(r.code).toBe(2);
  });
});

describe('the lock itself (item 1)', () => {
  it('of processes taking over one stale lock at once, exactly one gets it', async () => {
    const dir = tempDir('ftrun-lock-race-');
    const dead = spawnSync(process.execPath, ['-e', '']).pid!; // a process that has ended
    writeFileSync(join(dir, LOCK), JSON.stringify({ pid: dead, host: hostname(), started_at: '2026-01-02T03:04:05.000Z', process_start: -1, command: 'ftrun run', token: 'stale' }));
    const script = `
      const { lockDir } = await import(${JSON.stringify(join(ROOT, 'dist', 'core', 'run', 'lock.js'))});
      try { lockDir(process.argv[1], 'racer'); console.log('won'); } catch (e) { console.log(e.code ?? e.message); }
      process.stdin.resume(); // hold it until the test is done
    `;
    const racers = Array.from({ length: 6 }, () => spawn(process.execPath, ['--input-type=module', '-e', script, dir], { stdio: ['pipe', 'pipe', 'inherit'] }));
    const said = await Promise.all(
      racers.map((c) => new Promise<string>((res) => {
        c.stdout!.once('data', (d: Buffer) => res(d.toString().trim()));
        c.once('close', (code) => res(`exited ${code} without a word`));
      })),
    );
    for (const c of racers) c.stdin!.end();
    await Promise.all(racers.map((c) => new Promise((res) => c.on('close', res))));
    expect(said.filter((x) => x === 'won').length).toBe(1);
    expect(said.filter((x) => x !== 'won')).toEqual(Array(5).fill('E_LOCKED'));
  });

  it('its holder refreshes its mtime (the heartbeat another host goes by) and removes it when released', async () => {
    const dir = tempDir('ftrun-lock-beat-');
    const lock = lockDir(dir, 'test');
    const file = join(dir, LOCK);
    const old = new Date(Date.now() - 600_000);
    utimesSync(file, old, old);
    while (statSync(file).mtimeMs < Date.now() - 300_000) await new Promise((r) => setTimeout(r, 200)); // within 10 s
    lock.release();
    expect(existsSync(file)).toBe(false);
  }, 120_000);
});

describeShared('sweep.json keeps what its other writers put there (item 2)', () => {
  it('collect keeps the config hashes (an edited file is still refused) and the queue; resume keeps and checks them', async () => {
    const { dir, sweep } = experiment();
    const s = join(dir, 's');
    expect((await cli(['plan', sweep, '--prepare', s])).code).toBe(0);
    const hashes = readJson(join(s, 'sweep.json')).trials.map((t: { config_hash: string }) => t.config_hash);
    expect(hashes.every((h: string) => /^[0-9a-f]{16}$/.test(h))).toBe(true);
    expect((await cli(['run', sweep, '--trial', '1', '--sweep-dir', s, '--quiet'])).code).toBe(0);
    expect((await cli(['sweep', 'collect', s])).code).toBe(1); // trials 2 and 3 missing
    const collected = readJson(join(s, 'sweep.json'));
    expect(collected.trials.map((t: { config_hash: string }) => t.config_hash)).toEqual(hashes);
    expect(collected.trials.map((t: { status: string }) => t.status)).toEqual(['ok', 'missing', 'missing']);

    // the file edited after the collect: trial 2 is refused, as before it
    writeFileSync(sweep, SWEEP.replace('sinks: [{ type: json }]', 'sinks: [{ type: json }]\nevaluate: { k: [1, 3] }'));
    const changed = await cli(['run', sweep, '--trial', '2', '--sweep-dir', s, '--quiet']);
    expect(changed.stderr).toMatch(
      new RegExp(`^error\\[E_RUN\\]: trial 2: ${escape(sweep)} changed since ${escape(s)} was prepared \\(its resolved config hashes to [0-9a-f]{16}, the sweep's to ${hashes[1]}\\); prepare a new sweep directory\\n$`),
    );
    expect(changed.code).toBe(2);
    // …and so is resuming the sweep with it
    const resumed = await cli(['resume', s, '--quiet']);
    expect(resumed.stderr).toMatch(
      new RegExp(`^error\\[E_RUN\\]: ${escape(join(s, 'sweep.json'))}: cannot resume: trial 1: ${escape(sweep)} changed since the sweep started \\(its resolved config hashes to [0-9a-f]{16}, the sweep's to ${hashes[0]}\\); start a new sweep\\n$`),
    );
    expect(resumed.code).toBe(2);
    // the file as it was: resume runs the other trials and keeps the hashes
    writeFileSync(sweep, SWEEP);
    const finished = await cli(['resume', s, '--quiet']);
    expect(finished.stderr).toBe('');
    expect(finished.code).toBe(0);
    const after = readJson(join(s, 'sweep.json'));
    expect(after.trials.map((t: { config_hash: string; status: string }) => [t.config_hash, t.status])).toEqual(hashes.map((h: string) => [h, 'ok']));

    // a queued sweep's queue survives a collect
    const q = join(dir, 'q');
    await prepareSweepDir(sweep, [], () => q, { queue: 'redis://127.0.0.1:6399' });
    await cli(['sweep', 'collect', q]);
    expect(readJson(join(q, 'sweep.json'))).toMatchObject({ queue: 'redis://127.0.0.1:6399', trials: hashes.map((h: string) => ({ config_hash: h, status: 'queued' })) });
  });
});

const mounts = privateMounts();
if ('skip' in mounts) console.warn(`skipping the small and read-only disk tests: ${mounts.skip}`);

/** Run `lines` (sh) in a private mount namespace; `work` holds what they write. */
function inNamespace(work: string, lines: string[]): void {
  writeFileSync(join(work, 'script.sh'), ['set -u', ...lines].join('\n') + '\n');
  const argv = (mounts as { argv: string[] }).argv;
  const r = spawnSync(argv[0]!, [...argv.slice(1), 'sh', join(work, 'script.sh')], { encoding: 'utf8', cwd: work });
  expect(r.status, r.stderr).toBe(0);
}

describeShared('a runs disk too small to start on (item 3)', () => {
  it.skipIf('skip' in mounts)('says the disk is full before any work, and leaves no run behind', () => {
    const { dir, single } = experiment();
    const disk = join(dir, 'disk');
    inNamespace(dir, [
      `mkdir -p ${shq(disk)}`,
      `mount -t tmpfs -o size=128k tmpfs ${shq(disk)} || exit 99`,
      `${ftrunLine(['run', single, '--runs-dir', join(disk, 'runs'), '--quiet'])} >${shq(dir)}/out 2>${shq(dir)}/err; echo $? >${shq(dir)}/code`,
      `ls -A ${shq(disk)}/runs/arrays >${shq(dir)}/left`,
    ]);
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    const runDir = `${escape(join(disk, 'runs', 'arrays'))}/\\d{8}-\\d{6}-[0-9a-f]{6}`;
    expect(read('err')).toMatch(
      new RegExp(
        `^ftrun: run failed: the disk is full: could not write ${runDir}/\\.ftrun-reserve: no space left on device; a run holds back 256 KiB in its directory before it starts, to record how it ends\\. ` +
          `Nothing was run \\(the empty ${runDir} was removed\\)\\. Free some space on that disk, then run the same command again\\n\\(run with --verbose for the stack trace\\)\\n$`,
      ),
    );
    expect(read('code').trim()).toBe('1');
    expect(read('left')).toBe('');
  });
});

describeShared('directories that cannot be created (item 15)', () => {
  it('--prepare at or below a regular file is a usage error naming the flag', async () => {
    const { dir, sweep } = experiment();
    const file = join(dir, 'afile');
    writeFileSync(file, 'not a directory\n');
    const at = await cli(['plan', sweep, '--prepare', file]);
    expect(at.stderr).toBe(`error[E_USAGE]: ftrun plan: --prepare ${file}: cannot create ${file}: a file is in the way: ${file} is not a directory\n`);
    expect(at.code).toBe(2);
    const below = await cli(['plan', sweep, '--prepare', join(file, 's')]);
    expect(below.stderr).toBe(`error[E_USAGE]: ftrun plan: --prepare ${join(file, 's')}: cannot create ${join(file, 's')}: a file is in the way: ${file} is not a directory\n`);
    expect(below.code).toBe(2);
  });

  it.skipIf(!existsSync('/proc/self'))('--runs-dir where the file system allows no directory (/proc) is a usage error, not a hang', async () => {
    const { single } = experiment();
    const r = await cli(['run', single, '--runs-dir', '/proc/ftrun-test', '--quiet']);
    expect(r.stderr).toBe('error[E_USAGE]: --runs-dir /proc/ftrun-test: cannot create /proc/ftrun-test/arrays: /proc does not allow creating a directory in it\n');
    expect(r.code).toBe(2);
  });

  it.skipIf('skip' in mounts)('--runs-dir and --prepare on a read-only file system are usage errors saying so', () => {
    const { dir, single, sweep } = experiment();
    const ro = join(dir, 'ro');
    inNamespace(dir, [
      `mkdir -p ${shq(ro)}`,
      `mount -t tmpfs -o size=64k,ro tmpfs ${shq(ro)} || exit 99`,
      `${ftrunLine(['run', single, '--runs-dir', join(ro, 'runs'), '--quiet'])} 2>${shq(dir)}/run.err; echo $? >${shq(dir)}/run.code`,
      `${ftrunLine(['plan', sweep, '--prepare', join(ro, 's')])} 2>${shq(dir)}/plan.err; echo $? >${shq(dir)}/plan.code`,
    ]);
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    expect(read('run.err')).toBe(`error[E_USAGE]: --runs-dir ${join(ro, 'runs')}: cannot create ${join(ro, 'runs', 'arrays')}: read-only file system (${ro})\n`);
    expect(read('run.code').trim()).toBe('2');
    expect(read('plan.err')).toBe(`error[E_USAGE]: ftrun plan: --prepare ${join(ro, 's')}: cannot create ${join(ro, 's')}: read-only file system (${ro})\n`);
    expect(read('plan.code').trim()).toBe('2');
  });
});

describeShared('--trial (item 17a)', () => {
  it('takes only a plain decimal trial number in range', async () => {
    const { dir, sweep } = experiment();
    const s = join(dir, 's');
    await cli(['plan', sweep, '--prepare', s]);
    for (const bad of ['0x1', '1e0', '+1', '1.0', ' 1', 'one']) {
      const r = await cli(['run', sweep, '--trial', bad, '--sweep-dir', s, '--quiet']);
      expect(r.stderr, bad).toBe(`error[E_USAGE]: --trial ${bad}: not a trial number: the sweep has trials 1 to 3 (give one as a plain decimal number)\n`);
      expect(r.code).toBe(2);
    }
    const zero = await cli(['run', sweep, '--trial', '0', '--sweep-dir', s, '--quiet']);
    expect(zero.stderr).toBe('error[E_USAGE]: --trial 0: the sweep has trials 1 to 3\n');
    expect(existsSync(join(s, 'trials', '1', 'env.json'))).toBe(false);
  });
});

describeShared('sweep status of a queued sweep (item 17b)', () => {
  it('shows trials not started as queued and exits 0 until a trial fails', async () => {
    const { dir, sweep } = experiment();
    const q = join(dir, 'q');
    await prepareSweepDir(sweep, [], () => q, { queue: 'redis://127.0.0.1:6399' });
    expect(readJson(join(q, 'sweep.json')).trials.map((t: { status: string }) => t.status)).toEqual(['queued', 'queued', 'queued']);
    expect((await cli(['run', sweep, '--trial', '1', '--sweep-dir', q, '--quiet'])).code).toBe(0);

    const status = await cli(['sweep', 'status', q]);
    expect(status.stderr).toMatch(/^rank {2}trial {2}overrides {12}MRR@1\n {3}1 {6}1 {2}model\.pooling=cls {4}0\.\d{3}\n {3}— {6}2 {2}model\.pooling=mean {2}queued\n {3}— {6}3 {2}model\.pooling=max {3}queued\n3 trials: 1 ok, 2 queued\n$/);
    expect(status.code).toBe(0);
    const json = await cli(['sweep', 'status', q, '--json']);
    expect(JSON.parse(json.stdout).trials.map((t: { status: string }) => t.status)).toEqual(['ok', 'queued', 'queued']);
    expect(json.code).toBe(0);
    // status writes nothing
    expect(readJson(join(q, 'sweep.json')).trials.map((t: { status: string }) => t.status)).toEqual(['queued', 'queued', 'queued']);

    // a trial that failed: exit 1, naming it
    mkdirSync(join(q, 'trials', '2'), { recursive: true });
    writeFileSync(join(q, 'trials', '2', 'metrics.json'), JSON.stringify({ models: {}, primary: 'mrr@1', status: 'failed' }));
    const failed = await cli(['sweep', 'status', q]);
    expect(failed.stderr).toMatch(/\n3 trials: 1 ok, 1 failed, 1 queued\n1 of 3 trials failed or were interrupted: trial 2 failed\n$/);
    expect(failed.code).toBe(1);
    // collect still wants every trial ok
    const collect = await cli(['sweep', 'collect', q]);
    expect(collect.stderr).toMatch(/\n2 of 3 trials not ok: trial 2 failed, trial 3 queued\n$/);
    expect(collect.code).toBe(1);
  });
});
