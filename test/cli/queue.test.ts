/**
 * Sweeps on a Redis queue (BullMQ) with a real redis-server started on a free loopback port in a
 * temporary directory: 2 worker processes give the leaderboard of a sequential sweep; a worker
 * SIGKILLed mid-trial leaves its job stalled, a fresh worker resumes that trial from its checkpoint
 * to the metrics of an uninterrupted run; a trial that fails on a user error fails once and is
 * reported; Redis restarting mid-sweep (with or without its data) keeps the finished trials.
 * Faults (passwords, unreachable Redis, signals, outages): queue-faults.test.ts. Skipped, with the
 * reason printed, where redis-server is not installed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { BIN, REDIS, freePort } from '../helpers/redis.js';
import { ROOT, TINY_BERT, TRANSACTIONS, describeShared } from '../helpers/shared.js';

describeShared('sweeps on a Redis queue', () => {
  let redis: ChildProcess | undefined;
  let url = '';
  const workers: ChildProcess[] = [];
  const workerLog: string[] = [];
  const startWorker = (log: string[] = []) => {
    const w = spawn(process.execPath, [BIN, 'worker', '--queue', url], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FTRUN_QUEUE_LOCK_MS: '3000' } });
    w.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
    workers.push(w);
    return w;
  };
  beforeAll(async () => {
    if (!REDIS) return;
    const port = await freePort();
    redis = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--dir', tempDir('ftrun-redis-'), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    url = `redis://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG') break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  afterAll(() => {
    for (const w of workers) w.kill('SIGKILL');
    redis?.kill('SIGKILL');
  });

  /** `ftrun run … --queue` as its own process. */
  const submit = (dir: string, file: string) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((res) => {
      const c = spawn(process.execPath, [BIN, 'run', file, '--queue', url, '--runs-dir', join(dir, 'queued'), '--json'], { cwd: dir });
      let stdout = '';
      let stderr = '';
      c.stdout.on('data', (d) => (stdout += d));
      c.stderr.on('data', (d) => (stderr += d));
      c.on('close', (code) => res({ code, stdout, stderr }));
    });
  const values = (sweepDir: string) => JSON.parse(readFileSync(join(sweepDir, 'leaderboard.json'), 'utf8')).trials.map((t: { index: number; value: number }) => [t.index, t.value]);

  it.skipIf(!REDIS)('2 workers give the leaderboard of a sequential sweep', async () => {
    const dir = tempDir('ftrun-queue-');
    const file = join(dir, 'sweep.yaml');
    writeFileSync(file, `name: queued\ndataset: { type: jsonl, queries: ${TRANSACTIONS}/eval_transactions.jsonl, corpus: { path: ${TRANSACTIONS}/categories.json, text: category } }\nmodel: { path: ${TINY_BERT} }\nsinks: [{ type: json }]\nsweep:\n  grid:\n    model.pooling: [cls, mean]\n    model.normalize: [true, false]\n`);
    const seq = await cli(['run', file, '--runs-dir', join(dir, 'seq'), '--json', '--quiet']);
    startWorker(workerLog);
    startWorker(workerLog);
    const r = await submit(dir, file);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { sweep_dir: string; trials: Array<{ status: string }> };
    expect(out.trials.map((t) => t.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(values(out.sweep_dir)).toEqual(values(JSON.parse(seq.stdout).sweep_dir));
  });

  it.skipIf(!REDIS)('a trial that fails on a user error fails once and is reported', async () => {
    const dir = tempDir('ftrun-queue-');
    // k larger than the corpus: validate cannot see it (it reads no corpus size), the run's data check can.
    const file = join(dir, 'sweep.yaml');
    writeFileSync(file, `name: queued-bad\ndataset: { type: jsonl, queries: ${TRANSACTIONS}/eval_transactions.jsonl, corpus: { path: ${TRANSACTIONS}/categories.json, text: category } }\nmodel: { path: ${TINY_BERT} }\nsinks: [{ type: json }]\nsweep:\n  grid:\n    evaluate.k: [[1], [1, 100]]\n`);
    const r = await submit(dir, file);
    expect(r.code).toBe(1);
    // issue 18: one line per finished trial: status and where it ended, primary metric, duration, the error
    expect(r.stderr).toMatch(/\ntrial 1\/2 ok: MRR@1 \d\.\d{3} \(base\), \d+\.\d s\n/);
    expect(r.stderr).toMatch(/\ntrial 2\/2 failed after stage dataset: MRR@1 —, \d+\.\d s: error\[E_DATA\]: \S+sweep\.yaml:\d+:\d+ evaluate\.k\[1\]: k=100 is larger than the corpus \(27 documents\)/);
    expect(r.stderr).toContain('1 of 2 trials not ok: trial 2 failed\n');
    // taken once, not retried
    const taken = workerLog.join('').split('\n').filter((l) => /worker: trial 2 of \S+queued-bad\S* \(attempt/.test(l));
    // the worker's line for the finished trial (its error is the trial's own, printed above it)
    expect(workerLog.join('')).toMatch(/\nworker: trial 2 of \S+queued-bad\S* failed after stage dataset: MRR@1 —, \d+\.\d s\n/);
    expect(taken).toHaveLength(1);
    expect(taken[0]).toMatch(/\(attempt 1\)$/);
  });

  it.skipIf(!REDIS).each([
    ['with its append-only file', 'yes'],
    ['without its data', 'no'],
  ])('Redis restarting mid-sweep %s: finished trials are kept, and following ends', async (_what, aof) => {
    // A Redis of this test's own, persistent, restarted on the same port and directory.
    const port = await freePort();
    const data = tempDir('ftrun-redis-aof-');
    const start = () => spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--dir', data, '--save', '', '--appendonly', aof, '--appendfsync', 'always'], { stdio: 'ignore' });
    const ping = async () => {
      for (let i = 0; i < 100; i++) {
        if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG') return;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    let server = start();
    await ping();
    const own = `redis://127.0.0.1:${port}`;
    const dir = tempDir('ftrun-queue-');
    const file = join(dir, 'sweep.yaml');
    writeFileSync(file, `name: queued-restart\ndataset: { type: jsonl, queries: ${TRANSACTIONS}/eval_transactions.jsonl, corpus: { path: ${TRANSACTIONS}/categories.json, text: category } }\nmodel: { path: ${TINY_BERT} }\nsinks: [{ type: json }]\nsweep:\n  grid:\n    model.pooling: [cls, mean, max]\n    model.normalize: [true, false]\n`);
    const w = spawn(process.execPath, [BIN, 'worker', '--queue', own], { stdio: 'ignore' });
    workers.push(w);
    const submitted = new Promise<{ code: number | null; stdout: string; stderr: string }>((res) => {
      const c = spawn(process.execPath, [BIN, 'run', file, '--queue', own, '--runs-dir', join(dir, 'queued'), '--json'], { cwd: dir, env: { ...process.env, FTRUN_QUEUE_POLL_MS: '500' } });
      let stdout = '';
      let stderr = '';
      c.stdout.on('data', (d) => (stdout += d));
      c.stderr.on('data', (d) => (stderr += d));
      c.on('close', (code) => res({ code, stdout, stderr }));
    });
    // The worker takes trials one at a time. Once it took trial 1 (the trial's directory appears),
    // it is stopped (SIGSTOP): trial 1's own process goes on to its end, but the worker takes no
    // other trial. Then Redis restarts and the worker goes on (SIGCONT). So trial 1 is finished and
    // trials 2 to 6 are still queued when Redis restarts, however fast the trials run.
    const base = join(dir, 'queued', 'queued-restart');
    const trialDir = (n: number) => {
      const sweep = existsSync(base) ? readdirSync(base)[0] : undefined;
      return sweep ? join(base, sweep, 'trials', String(n)) : '';
    };
    const until = async (what: () => boolean) => {
      for (let i = 0; i < 2400 && !what(); i++) await new Promise((r) => setTimeout(r, 25));
      expect(what()).toBe(true);
    };
    await until(() => trialDir(1) !== '' && existsSync(trialDir(1)));
    w.kill('SIGSTOP');
    await until(() => existsSync(join(trialDir(1), 'metrics.json')));
    expect(existsSync(trialDir(2))).toBe(false);
    const gone = new Promise((r) => server.once('exit', r));
    server.kill('SIGKILL');
    await gone;
    server = start();
    await ping();
    w.kill('SIGCONT');
    const r = await submitted;
    server.kill('SIGKILL');
    const statuses = (JSON.parse(r.stdout) as { trials: Array<{ status: string }> }).trials.map((t) => t.status);
    expect(statuses[0]).toBe('ok'); // finished before the restart: kept
    if (aof === 'yes') {
      expect(r.code).toBe(0);
      expect(statuses).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    } else {
      // The queued jobs are gone: following ends, naming each trial to run again; none is lost silently.
      expect(r.code).toBe(1);
      expect(statuses.slice(1).filter((x) => x === 'ok')).toEqual([]); // trials 2 to 6 never ran
      expect(r.stderr.match(/its job is gone from redis:\/\/\S+ \(Redis restarted without its data\?\); run it with ftrun run \S+ --trial \d --sweep-dir \S+/g) ?? []).toHaveLength(5);
    }
  }, 120_000);

  it.skipIf(!REDIS)('a worker SIGKILLed mid-trial: a fresh worker resumes the trial from its checkpoint to the uninterrupted metrics', async () => {
    for (const w of workers.splice(0)) w.kill('SIGKILL');
    const dir = tempDir('ftrun-queue-');
    const file = join(dir, 'sweep.yaml');
    writeFileSync(file, `extends: ${join(ROOT, 'configs', 'bge.yaml')}\nname: queued-train\nmodel: { path: ${TINY_BERT} }\nstore: { type: memory }\ntraining: { epochs: 4, learning_rate: 1.0e-3, eval_every: 3 }\nbackend: { type: ort, intra_op_threads: 1 }\nsinks: [{ type: json }]\nsweep:\n  grid:\n    seed: [7]\n`);
    const seq = await cli(['run', file, '--runs-dir', join(dir, 'seq'), '--json', '--quiet']);
    expect(seq.code).toBe(0);
    const want = JSON.parse(seq.stdout).trials[0].models;

    const first = startWorker();
    const submitted = submit(dir, file);
    // Kill the worker once the trial wrote its first checkpoint.
    let trialDir = '';
    for (let i = 0; i < 1200 && !trialDir; i++) {
      await new Promise((r) => setTimeout(r, 25));
      const base = join(dir, 'queued', 'queued-train');
      const sweep = existsSync(base) ? readdirSync(base)[0] : undefined;
      const t = sweep ? join(base, sweep, 'trials', '1', 'events.jsonl') : '';
      if (t && existsSync(t) && readFileSync(t, 'utf8').includes('"type":"checkpoint"')) trialDir = join(base, sweep!, 'trials', '1');
    }
    expect(trialDir).not.toBe('');
    first.kill('SIGKILL');
    const log: string[] = [];
    startWorker(log);
    const r = await submitted;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).trials[0].models).toEqual(want);
    expect(readFileSync(join(trialDir, 'events.jsonl'), 'utf8')).toContain('"type":"run_resume"');
    expect(log.join('')).toMatch(/worker: trial 1 of .* \(attempt \d\)/);
  }, 120_000);
});
