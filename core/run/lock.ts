/**
 * One process at a time in a run (or sweep) directory: `ftrun run`, a sweep trial, `ftrun resume`
 * each hold `<dir>/.ftrun-lock` while they write there, so a trial started twice (a scheduler's
 * retry, a duplicated array index) or a resume of a run that is still running is refused (E_LOCKED,
 * naming the holder) instead of running twice into the same files.
 *
 * The lock file is created atomically (open with 'wx') and holds its holder: pid, host, start time,
 * and where the system tells them, the boot id, the pid namespace and the process's start time from
 * /proc/<pid>/stat. A crashed holder does not leave it stuck:
 * - on the same machine (same host, boot and pid namespace) the lock is stale as soon as its process
 *   is gone (or a zombie, or its pid now belongs to a process started at another time);
 * - elsewhere (another machine on a shared filesystem, another container) the holder refreshes the
 *   lock's mtime every HEARTBEAT_MS from a worker thread (so a long synchronous training step does
 *   not stop it), and the lock is stale once not refreshed for STALE_MS.
 * Taking over a stale lock is race-free: only the process that creates `<lock>.break` (with 'wx') may
 * remove it, and only after reading under it that it is still the lock it judged stale. The holder
 * releases the lock when its run ends, whatever the outcome, and at process exit; a SIGKILLed holder
 * leaves it, and the next process takes it over as stale.
 */
import { closeSync, fstatSync, openSync, readFileSync, readlinkSync, readSync, rmSync, statSync, unlinkSync, writeSync, fsyncSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { UserError } from '../errors.js';
import { FileWriteError, writeFailure } from '../fsutil.js';
import { RUN_LOCK } from './records.js';

/** How often a holder refreshes its lock's mtime. */
export const HEARTBEAT_MS = 10_000;
/** A lock held from another machine (or pid namespace) is stale when not refreshed for this long. */
export const STALE_MS = 120_000;
/** A `.break` file (a takeover in progress) older than this was left by a taker that died. */
const BREAK_STALE_MS = 10_000;

/** What the lock file holds. */
export interface LockHolder {
  pid: number;
  host: string;
  /** ISO 8601: when the holder took the lock. */
  started_at: string;
  /** Start time of the process (clock ticks since boot, /proc/<pid>/stat field 22), where known. */
  process_start?: number;
  /** /proc/sys/kernel/random/boot_id, where known. */
  boot_id?: string;
  /** The holder's pid namespace (`pid:[…]`), where known. */
  pid_namespace?: string;
  /** What holds it: `ftrun run`, `ftrun resume`, … */
  command: string;
  /** Random: tells this holding apart from any other. */
  token: string;
}

const readOr = <T>(fn: () => T): T | undefined => {
  try {
    return fn();
  } catch {
    return undefined;
  }
};

/** State and start time of `pid` from /proc (Linux), or undefined where there is no such file. */
function procStat(pid: number): { state: string; start: number } | undefined {
  const text = readOr(() => readFileSync(`/proc/${pid}/stat`, 'utf8'));
  if (!text) return undefined;
  // `pid (comm) state ppid …`: comm may hold spaces and parentheses; fields restart after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0] ?? '', start: Number(rest[19]) };
}

const BOOT_ID = readOr(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
const PID_NAMESPACE = readOr(() => readlinkSync('/proc/self/ns/pid'));

function me(command: string): LockHolder {
  const start = procStat(process.pid)?.start;
  return {
    pid: process.pid,
    host: hostname(),
    started_at: new Date().toISOString(),
    ...(start !== undefined && Number.isFinite(start) ? { process_start: start } : {}),
    ...(BOOT_ID ? { boot_id: BOOT_ID } : {}),
    ...(PID_NAMESPACE ? { pid_namespace: PID_NAMESPACE } : {}),
    command,
    token: randomBytes(8).toString('hex'),
  };
}

/** Whether `h` was taken in this machine's current boot and pid namespace (so its pid can be checked here). */
function sameMachine(h: Partial<LockHolder>): boolean {
  if (h.host !== hostname()) return false;
  if (h.boot_id && BOOT_ID && h.boot_id !== BOOT_ID) return false;
  if (h.pid_namespace && PID_NAMESPACE && h.pid_namespace !== PID_NAMESPACE) return false;
  return true;
}

/** Whether the process that took `h` on this machine is still running. */
function alive(h: Partial<LockHolder>): boolean {
  const pid = h.pid;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return false;
  const stat = procStat(pid);
  if (stat) {
    if (stat.state === 'Z' || stat.state === 'X') return false; // exited, not yet reaped
    return h.process_start === undefined || h.process_start === stat.start; // else: the pid was reused
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // someone else's process
  }
}

interface Read {
  text: string;
  holder: Partial<LockHolder> | undefined;
  /** Last refreshed (ms since the epoch). */
  mtimeMs: number;
}

/** The lock file as it is now, or undefined when there is none. */
function readLock(file: string): Read | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r'); // opening revalidates a network filesystem's cached attributes
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const mtimeMs = fstatSync(fd).mtimeMs;
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf.subarray(0, n).toString('utf8');
    const holder = readOr(() => JSON.parse(text) as Partial<LockHolder>);
    return { text, holder: holder && typeof holder === 'object' ? holder : undefined, mtimeMs };
  } finally {
    closeSync(fd);
  }
}

/** Why the lock `r` no longer holds (its holder is gone), or undefined while it holds. */
function staleness(r: Read, now = Date.now()): string | undefined {
  const h = r.holder;
  const age = now - r.mtimeMs;
  // A lock file being written this very moment is held; one left empty or damaged long ago is not.
  if (!h) return age > BREAK_STALE_MS ? 'unreadable' : undefined;
  if (sameMachine(h)) return alive(h) ? undefined : 'its process is gone';
  return age > STALE_MS ? `not refreshed for ${Math.round(age / 1000)} s` : undefined;
}

/** Create `file` holding `text` if it does not exist; false when it does. */
function create(file: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw writeFailure(file, e);
  }
  try {
    const buf = Buffer.from(text, 'utf8');
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(file, { force: true });
    throw writeFailure(file, e);
  }
  closeSync(fd);
  return true;
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** The E_LOCKED error for `dir`, whose lock `file` reads as `r`. */
function lockedError(dir: string, file: string, r: Read): UserError {
  const h = r.holder;
  const advice = 'Started twice? Wait for that process to finish, or stop it';
  if (!h) return new UserError('E_LOCKED', `${dir} is in use: another process is taking its lock (${file}) just now. ${advice}`);
  const who = `${h.command ?? 'ftrun'} holds it`;
  const since = `since ${h.started_at ?? 'an unknown time'}`;
  if (sameMachine(h)) {
    return new UserError('E_LOCKED', `${dir} is in use: ${who} (pid ${h.pid} on this host, ${h.host}, ${since}). ${advice}; once it has ended, the next ftrun takes the directory over`);
  }
  const heard = Math.max(0, Math.round((Date.now() - r.mtimeMs) / 1000));
  return new UserError(
    'E_LOCKED',
    `${dir} is in use: ${who} (pid ${h.pid} on host ${h.host}, ${since}, last heartbeat ${heard} s ago). ${advice}; if it or its machine is gone, ` +
      `the lock expires ${STALE_MS / 1000} s after its last heartbeat (or remove ${file} once you are sure)`,
  );
}

const held = new Set<RunLock>();
let exitHook = false;

/** A held lock on a run or sweep directory; release() it when done (also done at process exit). */
export class RunLock {
  private heartbeat: Worker | undefined;
  private released = false;

  constructor(
    readonly dir: string,
    readonly file: string,
    private readonly text: string,
  ) {
    held.add(this);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const l of held) l.release();
      });
    }
    this.heartbeat = startHeartbeat(file, text);
  }

  /** Remove the lock file (if it is still this holding's), stop refreshing it. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    held.delete(this);
    void this.heartbeat?.terminate();
    this.heartbeat = undefined;
    const now = readOr(() => readLock(this.file));
    if (now?.text === this.text) rmSync(this.file, { force: true });
  }
}

/**
 * Refresh `file`'s mtime every HEARTBEAT_MS from a worker thread (unref'd: it keeps nothing
 * alive), while the file still holds `text`.
 */
function startHeartbeat(file: string, text: string): Worker | undefined {
  const code = `
    const { readFileSync, utimesSync } = require('node:fs');
    const { workerData } = require('node:worker_threads');
    setInterval(() => {
      try {
        if (readFileSync(workerData.file, 'utf8') !== workerData.text) process.exit(0);
        const now = new Date();
        utimesSync(workerData.file, now, now);
      } catch { process.exit(0); }
    }, workerData.ms);`;
  try {
    const w = new Worker(code, { eval: true, workerData: { file, text, ms: HEARTBEAT_MS }, stdout: true, stderr: true });
    w.on('error', () => undefined);
    w.unref();
    return w;
  } catch {
    return undefined; // no worker threads: the lock then holds by pid on this machine only
  }
}

/**
 * Take the lock of `dir` (an existing directory) for `command`, or throw UserError E_LOCKED naming
 * the process that holds it. A stale lock (see the module comment) is taken over. A lock file that
 * cannot be written throws FileWriteError; for want of space, a failed run that says the disk is full.
 */
export function lockDir(dir: string, command: string): RunLock {
  const file = join(dir, RUN_LOCK);
  const text = JSON.stringify(me(command), null, 2) + '\n';
  try {
    return takeLock(dir, file, text);
  } catch (e) {
    if (isNoSpace(e)) throw diskFullError(e, dir);
    throw e;
  }
}

/**
 * How long a trial job waits for its trial's lock when another process holds it, in seconds
 * (default 0: refused at once). Queue workers start their trials with QUEUE_TRIAL_LOCK_WAIT_S; an
 * array job may set it so that a task requeued after its node died waits for that node's lock to go
 * stale instead of failing.
 */
export const LOCK_WAIT_ENV = 'FTRUN_LOCK_WAIT_S';
/** What queue workers wait: until a lost machine's lock is stale, and a little more. */
export const QUEUE_TRIAL_LOCK_WAIT_S = (STALE_MS + 2 * HEARTBEAT_MS) / 1000;

/** FTRUN_LOCK_WAIT_S as seconds (0 when unset); E_USAGE when it is not a number of seconds. */
export function lockWaitSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[LOCK_WAIT_ENV];
  if (raw === undefined || raw === '') return 0;
  if (!/^[0-9]+(\.[0-9]+)?$/.test(raw)) throw new UserError('E_USAGE', `${LOCK_WAIT_ENV}=${raw}: expected a number of seconds to wait for a trial another process holds (0: refuse at once)`);
  return Number(raw);
}

/**
 * lockDir, waiting up to `waitMs` for a lock that is held (until its holder ends, or its heartbeat
 * goes stale) instead of refusing at once; `onWait` is told once when it starts waiting. Throws
 * E_LOCKED when the time is up or `signal` aborts. For a trial run by a queue worker: BullMQ gives
 * its job to one worker at a time, so a trial held by another process is held by the one a dead
 * worker left behind, which stops within seconds (or, on a lost machine, goes stale).
 */
export async function lockDirWaiting(dir: string, command: string, waitMs: number, signal?: AbortSignal, onWait?: (e: UserError) => void): Promise<RunLock> {
  const deadline = Date.now() + waitMs;
  for (let told = false; ; told = true) {
    try {
      return lockDir(dir, command);
    } catch (e) {
      if (!(e instanceof UserError) || e.code !== 'E_LOCKED' || Date.now() >= deadline || signal?.aborted) throw e;
      if (!told) onWait?.(e);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

function takeLock(dir: string, file: string, text: string): RunLock {
  const breaker = `${file}.break`;
  for (let attempt = 0; ; attempt++) {
    if (create(file, text)) return new RunLock(dir, file, text);
    const r = readLock(file);
    if (!r) continue; // released meanwhile
    if (!staleness(r)) throw lockedError(dir, file, r);
    // Stale: removed only by the process that holds the breaker, if it is still that lock.
    if (create(breaker, text)) {
      try {
        if (readLock(file)?.text === r.text) unlinkSync(file);
      } finally {
        rmSync(breaker, { force: true });
      }
      continue;
    }
    // Another process is taking it over (for milliseconds), or one died doing so.
    const age = readOr(() => Date.now() - statSync(breaker).mtimeMs);
    if (age !== undefined && age > BREAK_STALE_MS) rmSync(breaker, { force: true });
    if (attempt > 200) throw lockedError(dir, file, r);
    sleep(50);
  }
}

/** Whether `e` is a write that failed for want of space (a full disk or quota). */
export function isNoSpace(e: unknown): e is FileWriteError {
  return e instanceof FileWriteError && (e.code === 'ENOSPC' || e.code === 'EDQUOT');
}

/**
 * The failed run for a disk too full to start on (`e`, a write in `dir` before anything else was
 * written there): says so, what `why` it needed the space for, and that nothing changed.
 */
export function diskFullError(e: FileWriteError, dir: string, opts: { why?: string; removed?: boolean } = {}): Error {
  return new Error(
    `the disk is full: ${e.message}${opts.why ? `; ${opts.why}` : ''}. ` +
      `Nothing was run${opts.removed ? ` (the empty ${dir} was removed)` : ` and the records in ${dir} are as they were`}. Free some space on that disk, then run the same command again`,
    { cause: e },
  );
}
