/**
 * Sweeps on a Redis queue (BullMQ), for machines that come and go:
 *   ftrun run sweep.yaml --queue redis://host:6379[/db] [--detach]
 *       prepares the sweep directory, enqueues one job per trial, follows them and collects the
 *       leaderboard (--detach: returns at once; `ftrun sweep collect DIR` finishes later);
 *   ftrun worker --queue redis://…
 *       takes trials and runs each, as `ftrun run <file> --trial N --sweep-dir DIR` in a child
 *       process tied to the worker (it stops when the worker dies), into the sweep's directory on
 *       a filesystem the submitter and workers share.
 * The queue's URL may carry a password: it can come from FTRUN_QUEUE instead of the command line
 * (`--queue env`; a worker without --queue), and it is printed and stored (sweep.json) redacted.
 * Both sides reach Redis first, for at most FTRUN_QUEUE_CONNECT_TIMEOUT_MS (default 10 s), and end
 * with one message (exit 2) when they cannot or Redis refuses the password; a submit that never
 * reached Redis leaves no sweep directory behind. Once connected, a lost connection is retried
 * (one line per outage), and SIGINT/SIGTERM always stop a worker or a submitter.
 * A job carries the experiment file, its --set flags, the trial number, the sweep directory and
 * the ftrun version; a worker refuses a job of another version. A trial that fails on a user error
 * (exit 2) is not retried; any other failure is retried up to 3 times. A worker that dies leaves
 * its job stalled: another worker takes it and the trial resumes from its last checkpoint. BullMQ's
 * job lock keeps a trial on one worker at a time.
 */
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { METRICS_JSON, SWEEP_DIR_PREFIX, trialRunDir } from '../run/records.js';
import type { RunLabels } from '../run-labels.js';
import { trialLine } from '../run-outcome.js';
import { hasCredentials, redactUrl } from '../url.js';
import { FTRUN_VERSION } from '../version.js';
import { runsDirEntry, spawnTrial, type IO } from './run.js';
import { collectCommand, prepareSweepDir } from './sweep-jobs.js';

const QUEUE = 'ftrun-trials';

/** The environment variable that may hold the queue's URL (with its password), out of argv. */
export const QUEUE_ENV = 'FTRUN_QUEUE';

export interface TrialJob {
  file: string;
  sets: string[];
  trial: number;
  sweepDir: string;
  version: string;
}

/** The queue's URL and where it was given (`--queue` or `FTRUN_QUEUE`), which messages name. */
export interface QueueTarget {
  url: string;
  from: '--queue' | typeof QUEUE_ENV;
}

/**
 * The queue of `ftrun run … --queue <value>` or `ftrun worker [--queue <value>]`: a URL, or `env`
 * for the URL in $FTRUN_QUEUE; a worker without --queue reads $FTRUN_QUEUE too.
 */
export function queueTarget(command: 'run' | 'worker', flag: string | undefined, env: NodeJS.ProcessEnv = process.env): QueueTarget {
  if (flag !== undefined && flag !== 'env') return { url: flag, from: '--queue' };
  const url = env[QUEUE_ENV];
  if (url) return { url, from: QUEUE_ENV };
  if (flag === 'env') throw new UserError('E_USAGE', `ftrun ${command}: --queue env reads the queue's URL from ${QUEUE_ENV}, which is not set; set it to redis://[:password@]host:port[/db]`);
  throw new UserError('E_USAGE', `ftrun worker: --queue redis://host:port[/db] is required (or ${QUEUE_ENV} set to that URL)`);
}

/** `--queue redis://***@host:port` or `FTRUN_QUEUE=redis://***@host:port`: the target as messages name it. */
const named = (t: QueueTarget) => (t.from === '--queue' ? `--queue ${redactUrl(t.url)}` : `${QUEUE_ENV}=${redactUrl(t.url)}`);

/** BullMQ connection options from `redis://[user:pass@]host:port[/db]`. */
export function redisConnection(target: QueueTarget): { host: string; port: number; db?: number; username?: string; password?: string } {
  const bad = () => new UserError('E_USAGE', `${named(target)}: expected redis://[[user]:password@]host[:port][/db] (port 6379 and database 0 by default)`);
  let u: URL;
  try {
    u = new URL(target.url);
  } catch {
    throw bad();
  }
  if (u.protocol !== 'redis:') throw bad();
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  if (db !== undefined && !(Number.isInteger(db) && db >= 0)) throw bad();
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(db !== undefined ? { db } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
  };
}

/**
 * BullMQ's connection options: while Redis is away, ioredis tries again every 1 to 2 s (BullMQ's
 * own pace grows to 20 s), and not at all once `signal` aborted, so that closing ends promptly.
 */
function bullConnection(target: QueueTarget, signal: AbortSignal) {
  return { ...redisConnection(target), connectTimeout: 5000, retryStrategy: (times: number) => (signal.aborted ? null : Math.max(1000, Math.min(500 * times, 2000))) };
}

/** How long to try to reach Redis before giving up (FTRUN_QUEUE_CONNECT_TIMEOUT_MS, default 10 s). */
function connectTimeoutMs(): number {
  const raw = process.env.FTRUN_QUEUE_CONNECT_TIMEOUT_MS;
  const ms = raw === undefined || raw === '' ? 10_000 : Number(raw);
  if (!Number.isFinite(ms) || ms <= 0) throw new UserError('E_USAGE', `FTRUN_QUEUE_CONNECT_TIMEOUT_MS=${raw}: expected a positive number of milliseconds (default 10000)`);
  return ms;
}

/** Redis refusing the credentials: retrying cannot help. */
const AUTH_REFUSED = /^(WRONGPASS|NOAUTH|ERR invalid password|ERR AUTH)/;

/**
 * Reach Redis (and its database) once, before anything else: tried again every half second while it
 * refuses or does not answer, for at most FTRUN_QUEUE_CONNECT_TIMEOUT_MS; a refused password or a
 * database Redis does not have ends it at once. Says once that it waits (`<who>: waiting for
 * Redis …`); throws one UserError naming the (redacted) URL and the reason; resolves false when
 * the command was stopped meanwhile (SIGINT, SIGTERM).
 */
export async function reachRedis(target: QueueTarget, who: string, io: IO): Promise<boolean> {
  const options = redisConnection(target);
  const limit = connectTimeoutMs();
  const { Redis } = await import('ioredis');
  const where = `${options.host}:${options.port}`;
  const deadline = Date.now() + limit;
  // One listener on the signal for the whole wait (one per attempt would pile up): it ends the
  // attempt or the pause under way.
  let wake = () => {};
  const onAbort = () => wake();
  io.signal.addEventListener('abort', onAbort, { once: true });
  const stopped = () => new Promise<'stopped'>((res) => (wake = () => res('stopped')));
  try {
    let last = '';
    for (let attempt = 0; !io.signal.aborted; attempt++) {
      const client = new Redis({ ...options, db: 0, lazyConnect: true, connectTimeout: Math.max(200, deadline - Date.now()), retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false });
      const errors: string[] = [];
      client.on('error', (e: Error) => void errors.push(e.message));
      try {
        const ready = async () => {
          await client.connect();
          if (options.db) await client.select(options.db);
          await client.ping();
          return 'ok' as const;
        };
        return (await Promise.race([ready(), stopped()])) === 'ok';
      } catch (e) {
        // ioredis rejects with "Connection is closed."; the reason is the error it emitted before.
        last = errors.find((m) => AUTH_REFUSED.test(m)) ?? errors[0] ?? (e instanceof Error ? e.message : String(e));
      } finally {
        client.disconnect();
      }
      if (/^(WRONGPASS|ERR invalid password|ERR AUTH)/.test(last)) {
        throw new UserError('E_USAGE', `${named(target)}: Redis at ${where} refused the password (${last}); give its password as redis://:PASSWORD@${where}, best in ${QUEUE_ENV} (--queue env)`);
      }
      if (last.startsWith('NOAUTH')) {
        throw new UserError('E_USAGE', `${named(target)}: Redis at ${where} wants a password and the URL gives none; give it as redis://:PASSWORD@${where}, best in ${QUEUE_ENV} (--queue env)`);
      }
      if (/DB index is out of range/.test(last)) {
        throw new UserError('E_USAGE', `${named(target)}: Redis at ${where} has no database ${options.db} (${last}); choose one it has (0 to its "databases" setting − 1)`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new UserError('E_USAGE', `${named(target)}: cannot reach Redis at ${where} (${last}); tried for ${limit / 1000} s (FTRUN_QUEUE_CONNECT_TIMEOUT_MS). Is redis-server running there, and is the URL right?`);
      }
      if (attempt === 0) io.err(`${who}: waiting for Redis at ${redactUrl(target.url)} (${last}); trying for up to ${limit / 1000} s\n`);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise<void>((res) => (timer = setTimeout(res, Math.min(500, left)))), stopped()]);
      clearTimeout(timer);
    }
    return false;
  } finally {
    io.signal.removeEventListener('abort', onAbort);
  }
}

/** A BullMQ Worker, Queue or QueueEvents, as reportOutages listens to it. */
interface RedisUser {
  on(event: 'error', fn: (e: Error) => void): unknown;
  getBackend(): { on(event: 'ready', fn: () => void): unknown };
}

/** Errors of a connection that is gone (ioredis retries it), rather than of a command. */
const connectionLost = (e: Error) =>
  ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE'].includes(String((e as NodeJS.ErrnoException).code)) || /^Connection is closed|^connect /.test(e.message);

/**
 * Reports what goes wrong with Redis under `users` (their connections together) in single lines,
 * never a stack trace (with a listener attached BullMQ prints none): a lost connection once per
 * outage (ioredis retries it every second or two and each failure is an `error` event), and once
 * more when it is back; any other error once per message. For 3 s after the connection is back,
 * errors of the connections still coming back are not a new outage. `down` tells whether it is away.
 */
function reportOutages(users: RedisUser[], who: string, target: QueueTarget, io: IO): { readonly down: boolean } {
  let down = false;
  let settling = 0;
  const said = new Set<string>();
  for (const user of users) {
    user.on('error', (e: Error) => {
      if (io.signal.aborted) return;
      if (!connectionLost(e)) {
        if (!said.has(e.message)) io.err(`${who}: Redis at ${redactUrl(target.url)}: ${e.message}\n`);
        said.add(e.message);
      } else if (!down && Date.now() >= settling) {
        down = true;
        io.err(`${who}: lost the connection to Redis at ${redactUrl(target.url)} (${e.message}); reconnecting\n`);
      }
    });
    user.getBackend().on('ready', () => {
      if (!down) return;
      down = false;
      settling = Date.now() + 3000;
      io.err(`${who}: connected to Redis at ${redactUrl(target.url)} again\n`);
    });
  }
  return {
    get down() {
      return down;
    },
  };
}

/** Whether `p` settled within `ms`. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([p.then(() => true, () => true), new Promise<false>((res) => (timer = setTimeout(() => res(false), ms)))]);
  clearTimeout(timer);
  return settled;
}

/**
 * Close a BullMQ object (`close`, which waits for its pending commands), but do not wait for a Redis
 * that is away: with `redis.down` (the retry strategy gives up once stopping, so its connections
 * end) or when closing takes more than `ms`, its connections are dropped and nothing is left to
 * keep the process.
 */
async function closeWithin(x: { close(): Promise<void>; disconnect(): Promise<void> }, redis: { readonly down: boolean }, ms: number, close = () => x.close()): Promise<void> {
  const closing = close();
  if (await within(closing, redis.down ? 1000 : ms)) return;
  // disconnect() waits for an 'end' that a client disconnected while reconnecting never emits.
  await within(x.disconnect(), 1000);
}

export async function queueSweepCommand(args: { file: string; sets: string[]; queue: QueueTarget; runsDir: string; detach: boolean; cancel: boolean; json: boolean; quiet: boolean; labels?: RunLabels }, io: IO): Promise<number> {
  const target = args.queue;
  const url = redactUrl(target.url);
  const connection = bullConnection(target, io.signal);
  // The sweep directory is prepared (the sweep checked) first, and removed again, with the folders
  // made for it, when Redis cannot be reached: a submit that never reached Redis leaves nothing.
  let sweep = { id: '', dir: '' };
  const made: string[] = [];
  const { trials } = await prepareSweepDir(
    args.file,
    args.sets,
    (name, hashOf) => {
      for (let d = resolve(args.runsDir, name); !existsSync(d); d = dirname(d)) made.push(d);
      return (sweep = runsDirEntry(args.runsDir, name, SWEEP_DIR_PREFIX, hashOf)).dir;
    },
    { queue: url, ...(args.labels?.tags.length ? { tags: args.labels.tags } : {}), ...(args.labels?.note !== undefined ? { note: args.labels.note } : {}) },
  );
  const unprepare = () => {
    rmSync(sweep.dir, { recursive: true, force: true });
    for (const d of made) if (existsSync(d) && readdirSync(d).length === 0) rmdirSync(d);
  };
  try {
    if (!(await reachRedis(target, 'queue', io))) {
      unprepare();
      io.err(`stopped before anything was queued; ${sweep.dir} removed\n`);
      return 130;
    }
  } catch (e) {
    unprepare();
    throw e;
  }
  const name = trials[0]!.config.name;
  const { Queue, QueueEvents } = await import('bullmq');
  const queue = new Queue<TrialJob>(QUEUE, { connection });
  const events = args.detach ? undefined : new QueueEvents(QUEUE, { connection });
  const redis = reportOutages(events ? [queue, events] : [queue], 'queue', target, io);
  try {
    await events?.waitUntilReady();
    const ids = new Map<string, number>();
    for (const t of trials) {
      const jobId = `${sweep.id}-t${t.index}`;
      ids.set(jobId, t.index);
      const data: TrialJob = { file: resolve(args.file), sets: args.sets, trial: t.index, sweepDir: sweep.dir, version: FTRUN_VERSION };
      await queue.add('trial', data, { jobId, attempts: 3, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: false, removeOnFail: false });
    }
    if (!args.quiet) io.err(`sweep ${name}: ${trials.length} trials queued on ${url} → ${sweep.dir}\n`);
    if (!events) {
      const start = hasCredentials(target.url) || target.from === QUEUE_ENV ? `${QUEUE_ENV}=<the queue's URL> ftrun worker` : `ftrun worker --queue ${target.url}`;
      io.err(`detached: follow with ftrun sweep collect ${sweep.dir} (start workers with: ${start})\n`);
      return 0;
    }
    // Follow until every trial completed or failed for good.
    const pending = new Set(ids.keys());
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((done) => {
      /** Trial `jobId` is done following; `what` follows its number (`: ok`, ` failed: …`). */
      const finish = (jobId: string, what: string) => {
        if (!pending.delete(jobId)) return;
        // the trial's line from its records (status, stage, primary metric, duration) when it has them
        const n = ids.get(jobId)!;
        const line = what.startsWith(': its job is gone') ? undefined : trialLine(`trial ${n}/${trials.length}`, trialRunDir(sweep.dir, n), {
          primary: trials[0]!.config.evaluate.primary,
          ...(what.startsWith(' failed: ') ? { status: 'failed', message: what.slice(' failed: '.length) } : {}),
        });
        if (!args.quiet) io.err(`${line ?? `trial ${n}/${trials.length}${what}`}\n`);
        if (pending.size === 0) done();
      };
      // A completed job's trial is ok, or stopped by sweep.stop (its metrics.json says which).
      const completed = (jobId: string) => {
        try {
          return `: ${String((JSON.parse(readFileSync(join(trialRunDir(sweep.dir, ids.get(jobId)!), METRICS_JSON), 'utf8')) as { status?: string }).status ?? 'ok')}`;
        } catch {
          return ': ok';
        }
      };
      events.on('completed', ({ jobId }) => finish(jobId, completed(jobId)));
      events.on('failed', async ({ jobId, failedReason }) => {
        const job = await queue.getJob(jobId).catch(() => null);
        const final = !job || (await job.getState().catch(() => 'unknown')) === 'failed';
        if (final) finish(jobId, ` failed: ${failedReason}`);
      });
      // Jobs that finished before we listened, or that Redis lost (restarted without its data):
      // checked now and every few seconds, so following never waits for a job that is gone.
      let checking = false;
      const sweepStates = async () => {
        if (checking) return; // the last check still waits for Redis
        checking = true;
        try {
          for (const id of [...pending]) {
            const job = await queue.getJob(id).catch(() => null);
            const state = job ? await job.getState().catch(() => 'unknown') : undefined;
            if (state === 'completed') finish(id, completed(id));
            else if (state === 'failed') finish(id, ` failed: ${job!.failedReason}`);
            else if (job === undefined && !existsSync(join(trialRunDir(sweep.dir, ids.get(id)!), METRICS_JSON))) {
              finish(id, `: its job is gone from ${url} (Redis restarted without its data?); run it with ftrun run ${args.file} --trial ${ids.get(id)} --sweep-dir ${sweep.dir}`);
            } else if (job === undefined) finish(id, ': finished (its job is gone from the queue)');
          }
        } finally {
          checking = false;
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
        try {
          for (const id of pending) {
            const job = await queue.getJob(id);
            if (job && ['waiting', 'delayed', 'prioritized'].includes(await job.getState())) {
              await job.remove();
              removed++;
            }
          }
          io.err(`cancelled: ${removed} queued trial${removed === 1 ? '' : 's'} removed; running trials finish. ftrun sweep collect ${sweep.dir}\n`);
        } catch (e) {
          io.err(`cannot cancel: Redis at ${url} is away (${e instanceof Error ? e.message : String(e)}); ${removed} queued trial${removed === 1 ? '' : 's'} removed, the others stay queued. ftrun sweep collect ${sweep.dir}\n`);
        }
      } else io.err(`stopped following; the trials stay queued (--cancel removes them): ftrun sweep collect ${sweep.dir}\n`);
      return 130;
    }
    return await collectCommand({ dir: sweep.dir, json: args.json }, io);
  } finally {
    if (events) await closeWithin(events, redis, 5000);
    await closeWithin(queue, redis, 5000);
  }
}

/**
 * The error a trial process printed, whole: from its `error[…]` or `ftrun:` line to the end of
 * its stderr (a message may run over several lines, e.g. the labels a corpus lacks), without the
 * hint about --verbose; `exit N` when it printed none.
 */
export function trialError(stderr: string, code: number | null): string {
  const lines = stderr.replace(/\s+$/, '').split('\n');
  const at = lines.findIndex((l) => l.startsWith('error[') || l.startsWith('ftrun:'));
  if (at < 0) return `exit ${code}`;
  return lines.slice(at).filter((l) => l !== '(run with --verbose for the stack trace)').join('\n');
}

export async function workerCommand(args: { queue: QueueTarget; concurrency: number }, io: IO): Promise<number> {
  const target = args.queue;
  const connection = bullConnection(target, io.signal);
  if (!(await reachRedis(target, 'worker', io))) return 0;
  const { Worker, UnrecoverableError } = await import('bullmq');
  const lockDuration = Number(process.env.FTRUN_QUEUE_LOCK_MS ?? 30_000);
  const running = new Set<Promise<unknown>>();
  const worker = new Worker<TrialJob>(
    QUEUE,
    async (job) => {
      const d = job.data;
      if (d.version !== FTRUN_VERSION) throw new UnrecoverableError(`job ${job.id} was queued by ftrun ${d.version}; this worker runs ftrun ${FTRUN_VERSION}`);
      if (io.signal.aborted) throw new Error('its worker was stopping; another worker runs it');
      io.err(`worker: trial ${d.trial} of ${d.sweepDir} (attempt ${job.attemptsMade + 1})\n`);
      // The queue's URL goes to the trial (in its environment, not argv) for sweep.stop's shared record on Redis.
      const trial = spawnTrial(d.file, d.sets, ['--trial', String(d.trial), '--sweep-dir', d.sweepDir], io.signal, io.err, { [QUEUE_ENV]: target.url });
      running.add(trial);
      const r = await trial.finally(() => running.delete(trial));
      // one line per finished trial: status (and stage), primary metric, duration (its error: printed by the trial just above)
      const line = trialLine(`worker: trial ${d.trial} of ${d.sweepDir}`, trialRunDir(d.sweepDir, d.trial), { withMessage: false });
      if (line) io.err(`${line}\n`);
      if (r.code === 0) return { trial: d.trial };
      const why = trialError(r.stderr, r.code);
      if (r.code === 2) throw new UnrecoverableError(why); // a user error: retrying cannot help
      throw new Error(why);
    },
    { connection, concurrency: args.concurrency, lockDuration, stalledInterval: Math.min(lockDuration, 30_000), maxStalledCount: 3 },
  );
  const redis = reportOutages([worker], 'worker', target, io);
  io.err(`worker: taking trials from ${redactUrl(target.url)}\n`);
  await new Promise<void>((res) => io.signal.addEventListener('abort', () => res(), { once: true }));
  // The running trials were interrupted with the signal: they checkpoint and end (a job taken
  // meanwhile is handed back at once). Then the worker reports them and closes; with Redis away it
  // closes at once (a graceful close would wait for Redis).
  await Promise.allSettled([...running]);
  await closeWithin(worker, redis, 10_000, () => worker.close(redis.down));
  return 0;
}
