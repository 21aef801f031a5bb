/**
 * Shared reader for data files: JSONL (one JSON value per line) and JSON arrays, each record
 * with the line it starts on, so that every data error can say `file:line`.
 *
 * User mistakes throw UserError: E_FILE for a missing/unreadable file (naming the config option
 * that pointed at it), E_DATA for malformed content.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { firstInvalidUtf8, readTextSafely, UnreadableText } from '../../../core/fsutil.js';
import { extname, isAbsolute, relative } from 'node:path';
import { UserError } from '../../../core/errors.js';

export interface DataRecord {
  /** 1-based line the record starts on. */
  line: number;
  value: unknown;
}

/** A path for messages: relative to the working directory when inside it, else absolute. */
export function displayPath(p: string): string {
  const r = relative(process.cwd(), p);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r) ? r : p;
}

/** `array`, `null`, `object`, `string`, … for messages. */
export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** The value as a record, or `loc: expected a JSON object, got …`. */
export function asObject(v: unknown, loc: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new UserError('E_DATA', `${loc}: expected a JSON object, got ${typeName(v)}`);
  }
  return v as Record<string, unknown>;
}

/** A field that must be present (null counts as present), else an error naming the fields there and `option`. */
export function requireField(rec: Record<string, unknown>, name: string, loc: string, option: string): unknown {
  if (Object.prototype.hasOwnProperty.call(rec, name)) return rec[name];
  const present = Object.keys(rec);
  throw new UserError(
    'E_DATA',
    `${loc}: missing field "${name}" (fields present: ${present.length ? present.join(', ') : 'none'}); set ${option} to use another field`,
  );
}

/** Data files up to this size are read (V8's longest string is ~512 MiB; a JSON array is read whole). */
const MAX_DATA_BYTES = 256 * 2 ** 20;

/** Reads a text file named by config option `option` (e.g. `dataset.queries`): a regular UTF-8 file. */
export async function readTextFile(path: string, option: string): Promise<string> {
  return readText(path, option);
}

function readText(path: string, option: string): string {
  try {
    return readTextSafely(path, MAX_DATA_BYTES);
  } catch (e) {
    if (e instanceof UnreadableText) {
      if (e.at) throw notUtf8(path, option, e.at.line, e.at.col, e.at.byte);
      throw new UserError('E_FILE', `${option}: ${displayPath(path)}: ${e.message}`);
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError('E_FILE', `${option}: file not found: ${displayPath(path)}`);
    if (code === 'EISDIR') throw new UserError('E_FILE', `${option}: is a directory, not a file: ${displayPath(path)}`);
    throw new UserError('E_FILE', `${option}: cannot read ${displayPath(path)}: ${(e as Error).message}`, { cause: e });
  }
}

function notUtf8(path: string, option: string, line: number, col: number, byte: number): UserError {
  return new UserError('E_DATA', `${option}: ${displayPath(path)}:${line}: not valid UTF-8 (byte 0x${byte.toString(16).padStart(2, '0')} at column ${col}); save the file as UTF-8`);
}

/** One JSONL line (CR and BOM already dropped) as a record; a syntax error is `file:line: invalid JSON: … (column c)`. */
function parseJsonlLine(line: string, lineNo: number, file: string): DataRecord {
  try {
    return { line: lineNo, value: JSON.parse(line) };
  } catch (e) {
    const { offset, reason } = describeJsonError(line, e as Error);
    const col = offset !== undefined ? ` (column ${offset + 1})` : '';
    throw new UserError('E_DATA', `${displayPath(file)}:${lineNo}: invalid JSON: ${reason}${col}`);
  }
}

/** One JSON value per non-blank line. */
export function parseJsonl(text: string, file: string): DataRecord[] {
  const out: DataRecord[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() !== '') out.push(parseJsonlLine(line, i + 1, file));
  }
  return out;
}

/** A file descriptor of `path`; an error opening it is readText's UserError (permission denied…). */
function openData(path: string, option: string): number {
  try {
    return openSync(path, 'r');
  } catch (e) {
    readText(path, option);
    throw e;
  }
}

/** Bytes read at a time when scanning a JSONL file. */
const CHUNK_BYTES = 2 ** 20;

/**
 * Each record of JSONL file `path`, in order, read a chunk at a time (the file is never held
 * whole): what parseJsonl of readTextFile's text gives, with the same errors, except that the
 * first bad line (invalid JSON or UTF-8) stops the scan where it is.
 */
function scanJsonl(path: string, option: string, onRecord: (r: DataRecord) => void): void {
  const fd = openData(path, option);
  try {
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    let carry: Buffer[] = [];
    let lineNo = 1;
    const line = (bytes: Buffer) => {
      const bad = firstInvalidUtf8(bytes);
      if (bad >= 0) throw notUtf8(path, option, lineNo, Buffer.from(bytes.subarray(0, bad)).toString('utf8').length + 1, bytes[bad]!);
      let text = bytes.toString('utf8');
      if (lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      if (text.endsWith('\r')) text = text.slice(0, -1);
      if (text.trim() !== '') onRecord(parseJsonlLine(text, lineNo, path));
      lineNo++;
    };
    for (let n = readSync(fd, buf, 0, CHUNK_BYTES, null); n > 0; n = readSync(fd, buf, 0, CHUNK_BYTES, null)) {
      const view = buf.subarray(0, n);
      let start = 0;
      for (let nl = view.indexOf(10, start); nl !== -1; nl = view.indexOf(10, start)) {
        const piece = view.subarray(start, nl);
        line(carry.length ? Buffer.concat([...carry, piece]) : piece);
        carry = [];
        start = nl + 1;
      }
      if (start < n) carry.push(Buffer.from(view.subarray(start))); // a copy: buf is read into again
    }
    if (carry.length) line(Buffer.concat(carry));
  } finally {
    closeSync(fd);
  }
}

/** Whether the first non-blank character of `path` (after a BOM) is `[`; reads only up to it. */
function startsWithBracket(path: string, option: string): boolean {
  const fd = openData(path, option);
  try {
    const buf = Buffer.allocUnsafe(64 * 1024);
    let pos = 0;
    for (let n = readSync(fd, buf, 0, buf.length, pos); n > 0; pos += n, n = readSync(fd, buf, 0, buf.length, pos)) {
      for (let i = pos === 0 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0; i < n; i++) {
        const c = buf[i]!;
        if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && c !== 0x0b && c !== 0x0c) return c === 0x5b;
      }
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

/** 1-based line and column of a character offset. */
export function lineCol(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, col: offset - start + 1 };
}

/** A whole-file JSON value; a syntax error is reported as `file:line:col: invalid JSON: …`. */
export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const { offset, reason } = describeJsonError(text, e as Error);
    if (offset === undefined) throw new UserError('E_DATA', `${displayPath(file)}: invalid JSON: ${reason}`);
    const { line, col } = lineCol(text, offset);
    throw new UserError('E_DATA', `${displayPath(file)}:${line}: invalid JSON: ${reason} (column ${col})`);
  }
}

/** True when parsing `prefix` fails only because the input ends early. */
function failsOnlyAtEnd(prefix: string): boolean {
  try {
    JSON.parse(prefix);
    return true;
  } catch (e) {
    const msg = (e as Error).message;
    if (/Unexpected end of JSON input|Unterminated string/.test(msg)) return true;
    const m = /at position (\d+)/.exec(msg);
    return m !== null && Number(m[1]) >= prefix.length;
  }
}

/**
 * V8's JSON.parse message without its echo of the input, and the offset of the offending
 * character (from the message, or found by bisecting on prefixes when V8 does not give it).
 */
export function describeJsonError(text: string, err: Error): { offset?: number; reason: string } {
  const msg = err.message;
  const reason = msg.replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '');
  const m = /at position (\d+)/.exec(msg);
  if (m) return { offset: Number(m[1]), reason };
  if (/Unexpected end of JSON input/.test(msg)) return { reason };
  // smallest prefix length whose parse fails for a reason other than the end of input
  let lo = 1;
  let hi = text.length;
  if (failsOnlyAtEnd(text)) return { reason };
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (failsOnlyAtEnd(text.slice(0, mid))) lo = mid + 1;
    else hi = mid;
  }
  return { offset: lo - 1, reason };
}

/** Start offsets of the elements of a top-level JSON array (text already known to be valid JSON). */
function arrayElementOffsets(text: string): number[] {
  const offsets: number[] = [];
  let depth = 0;
  let inString = false;
  let expectValue = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === ' ' || c === '\n' || c === '\r' || c === '\t') continue;
    if (depth === 1 && expectValue && c !== ']') offsets.push(i);
    expectValue = false;
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      depth++;
      if (depth === 1) expectValue = true;
    } else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 1) expectValue = true;
  }
  return offsets;
}

/** The elements of a JSON array file, each with the line it starts on. */
export function parseJsonArray(text: string, file: string): DataRecord[] {
  const value = parseJson(text, file);
  if (!Array.isArray(value)) {
    throw new UserError('E_DATA', `${displayPath(file)}: expected a JSON array, got ${typeName(value)}`);
  }
  const offsets = arrayElementOffsets(text);
  return value.map((v, i) => ({ line: offsets[i] !== undefined ? lineCol(text, offsets[i]!).line : 1, value: v }));
}

/**
 * Each record of a data file, in order: `.json` is a JSON array (read whole), `.jsonl` / `.ndjson`
 * is JSONL (read a chunk at a time); any other extension is a JSON array when its first non-blank
 * character is `[`, else JSONL. Throws what readRecords throws, at the first bad record.
 */
export function forEachRecord(path: string, option: string, onRecord: (r: DataRecord) => void): void {
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(path);
  } catch {
    st = undefined;
  }
  // What readText refuses (missing, not a regular file, too big) it refuses before reading.
  if (!st || !st.isFile() || st.size > MAX_DATA_BYTES) readText(path, option);
  const ext = extname(path).toLowerCase();
  const isArray = ext === '.json' || (ext !== '.jsonl' && ext !== '.ndjson' && startsWithBracket(path, option));
  if (isArray) for (const r of parseJsonArray(readText(path, option), path)) onRecord(r);
  else scanJsonl(path, option, onRecord);
}

/** Every record of a data file (see forEachRecord). */
export async function readRecords(path: string, option: string): Promise<DataRecord[]> {
  const out: DataRecord[] = [];
  forEachRecord(path, option, (r) => out.push(r));
  return out;
}
