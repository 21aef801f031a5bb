/**
 * Crash-safe file writing for run directories.
 *
 * - writeFileAtomic / writeChunksAtomic: write a temp file beside the target, fsync it, rename it
 *   over the target, then fsync the directory. Readers see the old file or the new one, never a partial one.
 * - appendJsonl: one JSON line written with a single write(2) on an O_APPEND descriptor, then
 *   fsync. Concurrent appenders never interleave inside a line; a torn last line left by a crash
 *   is closed with a newline before the next append, so every complete line stays parseable.
 * - ensureNewDir: creates a directory that must not exist yet (a run directory is never reused).
 *
 * All functions are synchronous: they are called from the runner's hot paths and from exit
 * handlers, where an await could be cut short.
 */
import { closeSync, existsSync, fsyncSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError } from './errors.js';

/** Why a write failed, in words, for the errno codes a full, read-only or forbidden disk gives. */
const WRITE_FAILURES: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for the file system',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'input/output error',
};

/**
 * A file that could not be written, named: `could not write <path>: no space left on device`.
 * (Node's own message for a failed write(2) names no path.) A failed run, not a user error.
 */
export class FileWriteError extends Error {
  constructor(
    readonly path: string,
    readonly code: string,
    cause: unknown,
  ) {
    super(`could not write ${path}: ${WRITE_FAILURES[code] ?? (cause instanceof Error ? cause.message : String(cause))}`, { cause });
    this.name = 'FileWriteError';
  }
}

/** `e` as a FileWriteError naming `path` when it is an errno error of a write (other errors unchanged). */
export function writeFailure(path: string, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (e instanceof FileWriteError || e instanceof UserError || typeof code !== 'string' || !(code in WRITE_FAILURES)) return e;
  return new FileWriteError(path, code, e);
}

/**
 * For writers that assemble `path` (a directory) in a temporary place: a write failure inside it
 * names `path`, not the temporary file that no longer exists.
 */
export function writeFailureOf(path: string, e: unknown): unknown {
  return e instanceof FileWriteError ? new FileWriteError(path, e.code, e.cause) : writeFailure(path, e);
}

/** Run `write`, naming `path` in a write failure. */
export function writingTo<T>(path: string, write: () => T): T {
  try {
    return write();
  } catch (e) {
    throw writeFailure(path, e);
  }
}

/** Atomically replace `path` with `data` (parent directories are created). */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  writeChunksAtomic(path, [typeof data === 'string' ? Buffer.from(data, 'utf8') : data]);
}

/**
 * Atomically replace `path` with the concatenation of `chunks`, written one after another (no
 * concatenated copy is made; a generator may produce each chunk just before it is written).
 */
export function writeChunksAtomic(path: string, chunks: Iterable<Uint8Array>): void {
  const dir = dirname(path);
  writingTo(path, () => mkdirSync(dir, { recursive: true }));
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o644);
    for (const buf of chunks) writeFully(fd, buf);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw writeFailure(path, e);
  }
  syncDir(dir);
}

/** Atomically write `value` as pretty JSON (2-space indent, trailing newline). */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** Append `obj` as one JSON line (file and parent directories are created when missing). */
export function appendJsonl(path: string, obj: unknown): void {
  const line = JSON.stringify(obj);
  if (line === undefined) throw new Error(`appendJsonl: value for ${path} is not JSON-serialisable`);
  writingTo(path, () => appendLine(path, line));
}

function appendLine(path: string, line: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'a+', 0o644);
  try {
    const size = fstatSync(fd).size;
    let prefix = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      readSync(fd, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = '\n'; // close a torn line left by a crash
    }
    writeFully(fd, Buffer.from(prefix + line + '\n', 'utf8'));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Read a JSON Lines file written by appendJsonl. Blank lines and torn lines (a partial line left
 * by a crash, unparseable) are skipped.
 */
export function readJsonl<T = unknown>(path: string): T[] {
  const out: T[] = [];
  for (const l of readFileSync(path, 'utf8').split('\n')) {
    if (!l.trim()) continue;
    try {
      out.push(JSON.parse(l) as T);
    } catch {
      /* torn line */
    }
  }
  return out;
}

/**
 * Create `path` (parents included); it must not exist yet. Throws UserError E_RUN when it does,
 * so a run directory is never reused or overwritten.
 */
export function ensureNewDir(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  try {
    mkdirSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UserError('E_RUN', `${path} already exists: a run directory is never reused; choose another name or remove it`);
    }
    throw e;
  }
}

/**
 * A directory that could not be created: `path` was asked for, `at` (itself or a parent) failed,
 * `reason` says why in words (`read-only file system (/mnt)`, `/x/f is not a directory`).
 */
export class DirCreateError extends Error {
  constructor(
    readonly path: string,
    readonly at: string,
    readonly code: string,
    readonly reason: string,
    cause?: unknown,
  ) {
    super(`cannot create ${path}: ${reason}`, { cause });
    this.name = 'DirCreateError';
  }
}

/** Why mkdir(`at`) failed with `code`, in words. */
function mkdirFailure(at: string, code: string, e: unknown): string {
  const parent = dirname(at);
  switch (code) {
    case 'ENOTDIR':
    case 'EEXIST':
      return `a file is in the way: ${at} is not a directory`;
    case 'EROFS':
      return `read-only file system (${parent})`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${parent}: ${WRITE_FAILURES[code]})`;
    case 'ENOENT': // mkdir in /proc and the like
      return `${parent} does not allow creating a directory in it`;
    default:
      return WRITE_FAILURES[code] ?? (e instanceof Error ? e.message : String(e));
  }
}

/**
 * Create directory `path` and its missing parents, one at a time (Node's recursive mkdir reports a
 * read-only file system as ENOENT and never returns below /proc). Throws DirCreateError naming the
 * directory that could not be created and why.
 */
export function makeDirs(path: string): void {
  const target = resolve(path);
  const missing: string[] = [];
  for (let p = target; ; p = dirname(p)) {
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if ((code === 'ENOENT' || code === 'ENOTDIR') && dirname(p) !== p) {
        missing.unshift(p);
        continue;
      }
      throw new DirCreateError(target, p, code, mkdirFailure(p, code, e), e);
    }
    if (!st.isDirectory()) throw new DirCreateError(target, p, 'ENOTDIR', mkdirFailure(p, 'ENOTDIR', undefined));
    break;
  }
  for (const d of missing) if (!makeDir(d, target) && !statSync(d, { throwIfNoEntry: false })?.isDirectory()) throw new DirCreateError(target, d, 'EEXIST', mkdirFailure(d, 'EEXIST', undefined));
}

/**
 * Create directory `path` (its parent exists); false when something is there already. Other
 * failures throw DirCreateError for `forPath` (default: `path`).
 */
export function makeDir(path: string, forPath = path): boolean {
  try {
    mkdirSync(path);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return false;
    throw new DirCreateError(forPath, path, code, mkdirFailure(path, code, e), e);
  }
}

function writeFully(fd: number, buf: Uint8Array): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    /* not supported on every platform/filesystem; the rename is still atomic */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Hold `bytes` of disk space in `path` (written, not sparse), so that a run that fills the disk
 * can release it and still record how it ended (status, metrics, report). Replaces `path`.
 */
export function reserveSpace(path: string, bytes: number): void {
  writingTo(path, () => {
    const fd = openSync(path, 'w', 0o600);
    let done = false;
    try {
      const block = Buffer.alloc(Math.min(bytes, 64 * 1024));
      for (let n = 0; n < bytes; n += block.length) writeFully(fd, block.subarray(0, Math.min(block.length, bytes - n)));
      fsyncSync(fd);
      done = true;
    } finally {
      closeSync(fd);
      if (!done) rmSync(path, { force: true });
    }
  });
}

/**
 * Remove what an interrupted writer left in `dir` (not below): writeFileAtomic's hidden
 * `.<name>.<pid>.<hex>.tmp` files and `<name>.tmp-<pid>` directories of model saves. Returns
 * the names removed.
 */
export function removeTemporaries(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    if (/^\..+\.\d+\.[0-9a-f]+\.tmp$/.test(name) || /^[^.].*\.tmp-\d+$/.test(name)) {
      rmSync(join(dir, name), { recursive: true, force: true });
      removed.push(name);
    }
  }
  return removed;
}

/** Why a file cannot be read as text (see readTextSafely). */
export class UnreadableText extends Error {
  constructor(
    readonly reason: 'not-regular' | 'too-big' | 'not-utf8',
    message: string,
    /** not-utf8: where the first invalid byte is. */
    readonly at?: { line: number; col: number; byte: number },
  ) {
    super(message);
    this.name = 'UnreadableText';
  }
}

const KIND: Array<[keyof import('node:fs').Stats, string]> = [
  ['isDirectory', 'a directory'],
  ['isFIFO', 'a FIFO (named pipe)'],
  ['isCharacterDevice', 'a character device'],
  ['isBlockDevice', 'a block device'],
  ['isSocket', 'a socket'],
];

/**
 * The UTF-8 text of a regular file of at most `maxBytes` (a leading BOM dropped). Refuses, before
 * reading, anything that is not a regular file (a FIFO would block forever, /dev/zero never ends)
 * and files over the limit; refuses bytes that are not UTF-8 instead of replacing them. Throws
 * UnreadableText for those, and the fs error (ENOENT…) otherwise.
 */
export function readTextSafely(path: string, maxBytes: number): string {
  const st = statSync(path);
  if (!st.isFile()) {
    const kind = KIND.find(([m]) => (st[m] as () => boolean).call(st))?.[1] ?? 'not a regular file';
    throw new UnreadableText('not-regular', `not a regular file: it is ${kind}`);
  }
  if (st.size > maxBytes) throw new UnreadableText('too-big', `${formatBytes(st.size)}, over the ${formatBytes(maxBytes)} this file may have`);
  const bytes = readFileSync(path);
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) {
    let line = 1;
    let start = 0;
    for (let i = 0; i < bad; i++) if (bytes[i] === 0x0a) (line++, (start = i + 1));
    const col = Buffer.from(bytes.subarray(start, bad)).toString('utf8').length + 1;
    throw new UnreadableText('not-utf8', `not valid UTF-8 (byte 0x${bytes[bad]!.toString(16).padStart(2, '0')} at line ${line}, column ${col}); save the file as UTF-8`, { line, col, byte: bytes[bad]! });
  }
  const text = bytes.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence, or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) (n = 1), (min = 0x80);
    else if (c >= 0xe0 && c <= 0xef) (n = 2), (min = 0x800);
    else if (c >= 0xf0 && c <= 0xf4) (n = 3), (min = 0x10000);
    else return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const x = b[i + k];
      if (x === undefined || (x & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (x & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

/**
 * Why `path` cannot become a file or directory that ftrun creates, judged from what exists now,
 * or undefined: an existing ancestor that is a file (so nothing can be created below it), or —
 * with `as: 'dir'` — the path itself being an existing file.
 */
export function creatableProblem(path: string, as: 'file' | 'dir'): string | undefined {
  const stat = (p: string) => {
    try {
      return statSync(p); // ENOENT, or ENOTDIR below a file: not there
    } catch {
      return undefined;
    }
  };
  const own = stat(path);
  if (own) {
    if (as === 'dir' && !own.isDirectory()) return `${path} exists and is not a directory`;
    if (as === 'file' && own.isDirectory()) return `${path} is a directory`;
    return undefined;
  }
  // The nearest existing ancestor decides whether `path` can be created.
  for (let p = dirname(path); ; p = dirname(p)) {
    const st = stat(p);
    if (st) return st.isDirectory() ? undefined : `${p} is a file, so ${path} cannot be created below it`;
    if (dirname(p) === p) return undefined;
  }
}
