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
import { closeSync, existsSync, fsyncSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError } from './errors.js';

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
  mkdirSync(dir, { recursive: true });
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
    throw e;
  }
  syncDir(dir);
}

/** Atomically write `value` as pretty JSON (2-space indent, trailing newline). */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

/** Append `obj` as one JSON line (file and parent directories are created when missing). */
export function appendJsonl(path: string, obj: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const line = JSON.stringify(obj);
  if (line === undefined) throw new Error(`appendJsonl: value for ${path} is not JSON-serialisable`);
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
