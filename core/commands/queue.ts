/**
 * Sweeps on a Redis queue (BullMQ), for machines that come and go:
 *   ftrun run sweep.yaml --queue redis://host:6379[/db] [--detach]
 *       prepares the sweep directory, enqueues one job per trial, follows them and collects the
 *       leaderboard (--detach: returns at once; `ftrun sweep collect DIR` finishes later);
 *   ftrun worker --queue redis://…
 *       takes trials and runs each, as `ftrun run <file> --trial N --sweep-dir DIR` in a child
 *       process tied to the worker (it stops when the worker dies), into the sweep's directory on
 *       a filesystem the submitter and workers share.
 * A job carries the experiment file, its --set flags, the trial number, the sweep directory and
 * the ftrun version; a worker refuses a job of another version. A trial that fails on a user error
 * (exit 2) is not retried; any other failure is retried up to 3 times. A worker that dies leaves
 * its job stalled: another worker takes it and the trial resumes from its last checkpoint. BullMQ's
 * job lock keeps a trial on one worker at a time.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { METRICS_JSON, SWEEP_DIR_PREFIX, trialRunDir } from '../run/records.js';
import { FTRUN_VERSION } from '../version.js';
import { runsDirEntry, spawnTrial, type IO } from './run.js';
import { collectCommand, prepareSweepDir } from './sweep-jobs.js';

const QUEUE = 'ftrun-trials';

export interface TrialJob {
  file: string;
  sets: string[];
  trial: number;
  sweepDir: string;
  version: string;
}

/** BullMQ connection options from `redis://[user:pass@]host:port[/db]`. */
export function redisConnection(url: string): { host: string; port: number; db?: number; username?: string; password?: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UserError('E_USAGE', `--queue ${url}: expected redis://host:port[/db]`);
  }
  if (u.protocol !== 'redis:') throw new UserError('E_USAGE', `--queue ${url}: expected redis://host:port[/db]`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(db !== undefined && Number.isInteger(db) ? { db } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
  };
}

export async function queueSweepCommand(args: { file: string; sets: string[]; queue: string; runsDir: string; detach: boolean; cancel: boolean; json: boolean; quiet: boolean }, io: IO): Promise<number> {
  const connection = redisConnection(args.queue);
  const { Queue, QueueEvents } = await import('bullmq');
  let sweep = { id: '', dir: '' };
  const { trials } = await prepareSweepDir(args.file, args.sets, (name, hashOf) => (sweep = runsDirEntry(args.runsDir, name, SWEEP_DIR_PREFIX, hashOf)).dir, { queue: args.queue });
  const name = trials[0]!.config.name;
  const queue = new Queue<TrialJob>(QUEUE, { connection });
  const events = args.detach ? undefined : new QueueEvents(QUEUE, { connection });
  try {
    await events?.waitUntilReady();
    const ids = new Map<string, number>();
    for (const t of trials) {
      const jobId = `${sweep.id}-t${t.index}`;
      ids.set(jobId, t.index);
      const data: TrialJob = { file: resolve(args.file), sets: args.sets, trial: t.index, sweepDir: sweep.dir, version: FTRUN_VERSION };
      await queue.add('trial', data, { jobId, attempts: 3, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: false, removeOnFail: false });
    }
    if (!args.quiet) io.err(`sweep ${name}: ${trials.length} trials queued on ${args.queue} → ${sweep.dir}\n`);
    if (!events) {
      io.err(`detached: follow with ftrun sweep collect ${sweep.dir} (start workers with: ftrun worker --queue ${args.queue})\n`);
      return 0;
    }
    // Follow until every trial completed or failed for good.
    const pending = new Set(ids.keys());
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((done) => {
      /** Trial `jobId` is done following; `what` follows its number (`: ok`, ` failed: …`). */
      const finish = (jobId: string, what: string) => {
        if (!pending.delete(jobId)) return;
        if (!args.quiet) io.err(`trial ${ids.get(jobId)}/${trials.length}${what}\n`);
        if (pending.size === 0) done();
      };
      events.on('completed', ({ jobId }) => finish(jobId, ': ok'));
      events.on('failed', async ({ jobId, failedReason }) => {
        const job = await queue.getJob(jobId);
        const final = !job || (await job.getState()) === 'failed';
        if (final) finish(jobId, ` failed: ${failedReason}`);
      });
      // Jobs that finished before we listened, or that Redis lost (restarted without its data):
      // checked now and every few seconds, so following never waits for a job that is gone.
      const sweepStates = async () => {
        for (const id of [...pending]) {
          const job = await queue.getJob(id).catch(() => null);
          const state = job ? await job.getState().catch(() => 'unknown') : undefined;
          if (state === 'completed') finish(id, ': ok');
          else if (state === 'failed') finish(id, ` failed: ${job!.failedReason}`);
          else if (job === undefined && !existsSync(join(trialRunDir(sweep.dir, ids.get(id)!), METRICS_JSON))) {
            finish(id, `: its job is gone from ${args.queue} (Redis restarted without its data?); run it with ftrun run ${args.file} --trial ${ids.get(id)} --sweep-dir ${sweep.dir}`);
          } else if (job === undefined) finish(id, ': finished (its job is gone from the queue)');
        }
      };
      timer = setInterval(() => void sweepStates(), Number(process.env.FTRUN_QUEUE_POLL_MS ?? 5000));
      io.signal.addEventListener('abort', () => done(), { once: true });
      void sweepStates();
    });
    clearInterval(timer);
    if (io.signal.aborted) {
      if (args.cancel) {
        // --cancel: the trials no worker has taken yet are removed; running ones finish.
        let removed = 0;
        for (const id of pending) {
          const job = await queue.getJob(id);
          if (job && ['waiting', 'delayed', 'prioritized'].includes(await job.getState())) {
            await job.remove();
            removed++;
          }
        }
        io.err(`cancelled: ${removed} queued trial${removed === 1 ? '' : 's'} removed; running trials finish. ftrun sweep collect ${sweep.dir}\n`);
      } else io.err(`stopped following; the trials stay queued (--cancel removes them): ftrun sweep collect ${sweep.dir}\n`);
      return 130;
    }
    return await collectCommand({ dir: sweep.dir, json: args.json }, io);
  } finally {
    await events?.close();
    await queue.close();
  }
}

export async function workerCommand(args: { queue: string; concurrency: number }, io: IO): Promise<number> {
  const connection = redisConnection(args.queue);
  const { Worker, UnrecoverableError } = await import('bullmq');
  const lockDuration = Number(process.env.FTRUN_QUEUE_LOCK_MS ?? 30_000);
  const worker = new Worker<TrialJob>(
    QUEUE,
    async (job) => {
      const d = job.data;
      if (d.version !== FTRUN_VERSION) throw new UnrecoverableError(`job ${job.id} was queued by ftrun ${d.version}; this worker runs ftrun ${FTRUN_VERSION}`);
      io.err(`worker: trial ${d.trial} of ${d.sweepDir} (attempt ${job.attemptsMade + 1})\n`);
      const r = await spawnTrial(d.file, d.sets, ['--trial', String(d.trial), '--sweep-dir', d.sweepDir], io.signal, io.err);
      if (r.code === 0) return { trial: d.trial };
      const last = r.stderr.trim().split('\n').filter((l) => l.startsWith('error[') || l.startsWith('ftrun:')).pop() ?? `exit ${r.code}`;
      if (r.code === 2) throw new UnrecoverableError(last); // a user error: retrying cannot help
      throw new Error(last);
    },
    { connection, concurrency: args.concurrency, lockDuration, stalledInterval: Math.min(lockDuration, 30_000), maxStalledCount: 3 },
  );
  io.err(`worker: taking trials from ${args.queue}\n`);
  await new Promise<void>((res) => io.signal.addEventListener('abort', () => res(), { once: true }));
  await worker.close();
  return 0;
}
