/**
 * Benchmark: wall time of a 4-trial adapter sweep (configs/quickstart.yaml with 1 epoch, four
 * learning rates) run sequentially, with --parallel 2, and on 2 Redis queue workers; and the
 * queue's overhead per trial: from a job's enqueue to its start on an idle worker (BullMQ's job
 * timestamps), and a trial's wall time on a worker against the same trial run in-process.
 * Needs redis-server (the queue row is skipped without it). Every mode is a fresh CLI process.
 *
 *   node dist/bench/sweep.js [--rounds 1]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, platform, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENV_JSON, TRIALS_DIR, type RunEnv } from '../core/run/records.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'ftrun.js');
const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf('--rounds') + 1] ?? 1) || 1;
const sets = ['--set', 'training.epochs=1', '--set', 'sweep={grid: {training.learning_rate: [1.0e-3, 2.0e-3, 3.0e-3, 4.0e-3]}}', '--set', 'sinks=[{type: json}]'];
const config = join(root, 'configs', 'quickstart.yaml');

function run(argv: string[], cwd: string): { seconds: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, ...argv], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ftrun ${argv.join(' ')} failed: ${r.stderr}`);
  return { seconds: (performance.now() - t0) / 1000, stdout: r.stdout };
}

const freePort = () =>
  new Promise<number>((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });

async function queueRound(dir: string, url: string): Promise<{ seconds: number; sweepDir: string }> {
  const workers: ChildProcess[] = [0, 1].map(() => spawn(process.execPath, [bin, 'worker', '--queue', url], { stdio: 'ignore' }));
  await new Promise((r) => setTimeout(r, 1500)); // workers connected and idle
  const t0 = performance.now();
  const out = await new Promise<string>((res, rej) => {
    const c = spawn(process.execPath, [bin, 'run', config, ...sets, '--queue', url, '--runs-dir', join(dir, 'queue'), '--json', '--quiet'], { cwd: dir });
    let stdout = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.on('close', (code) => (code === 0 ? res(stdout) : rej(new Error(`queue sweep exited ${code}`))));
  });
  const seconds = (performance.now() - t0) / 1000;
  for (const w of workers) w.kill('SIGTERM');
  return { seconds, sweepDir: JSON.parse(out).sweep_dir as string };
}

async function main(): Promise<void> {
  console.log(`sweep benchmark: ${cpus()[0]?.model ?? 'unknown cpu'} × ${cpus().length}, ${platform()}, Node ${process.version}`);
  console.log(`4-trial adapter sweep (quickstart, 1 epoch, use-lite on tfjs), ${rounds} round(s), wall seconds per mode\n`);
  const rows: Array<[string, number[]]> = [['sequential', []], ['--parallel 2', []], ['2 Redis workers', []]];
  const redis = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  let redisProc: ChildProcess | undefined;
  let url = '';
  if (redis) {
    const port = await freePort();
    redisProc = spawn(redis, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', mkdtempSync(join(tmpdir(), 'ftrun-bench-redis-'))], { stdio: 'ignore' });
    url = `redis://127.0.0.1:${port}`;
    await new Promise((r) => setTimeout(r, 500));
  }
  let lastQueueSweep = '';
  for (let i = 0; i < rounds; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'ftrun-bench-sweep-'));
    rows[0]![1].push(run(['run', config, ...sets, '--runs-dir', join(dir, 'seq'), '--quiet'], dir).seconds);
    rows[1]![1].push(run(['run', config, ...sets, '--parallel', '2', '--runs-dir', join(dir, 'par'), '--quiet'], dir).seconds);
    if (url) {
      const q = await queueRound(dir, url);
      rows[2]![1].push(q.seconds);
      lastQueueSweep = q.sweepDir;
    }
  }
  const fmt = (xs: number[]) => (xs.length ? `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)} s` : 'skipped (no redis-server)');
  for (const [name, xs] of rows) console.log(`  ${name.padEnd(18)} ${fmt(xs)}`);

  if (url && lastQueueSweep) {
    // Enqueue → start of the jobs that found an idle worker (the first two), from BullMQ's timestamps.
    const { Queue } = await import('bullmq');
    const u = new URL(url);
    const queue = new Queue('ftrun-trials', { connection: { host: u.hostname, port: Number(u.port) } });
    const jobs = (await queue.getJobs(['completed'])).filter((j) => j.data.sweepDir === lastQueueSweep).sort((a, b) => a.timestamp - b.timestamp);
    const waits = jobs.slice(0, 2).map((j) => (j.processedOn ?? j.timestamp) - j.timestamp);
    console.log(`\n  queue overhead, enqueue → start on an idle worker: ${waits.map((w) => `${w} ms`).join(', ')}`);
    const trialDirs = readdirSync(join(lastQueueSweep, TRIALS_DIR)).map((n) => join(lastQueueSweep, TRIALS_DIR, n));
    const inRun = trialDirs.map((d) => {
      const env = JSON.parse(readFileSync(join(d, ENV_JSON), 'utf8')) as RunEnv & { finished_at: string };
      return (Date.parse(env.finished_at) - Date.parse(env.started_at)) / 1000;
    });
    const perJob = jobs.map((j) => ((j.finishedOn ?? 0) - (j.processedOn ?? 0)) / 1000);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(`  per trial on a worker: ${mean(perJob).toFixed(2)} s from job start to end, of which the run itself ${mean(inRun).toFixed(2)} s (the rest: starting the trial process and loading the config)`);
    await queue.close();
  }
  redisProc?.kill('SIGKILL');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
