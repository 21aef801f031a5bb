/**
 * The safetensors format, read and written by the project (no usable npm package exists).
 *
 * Layout: an 8-byte little-endian header length n, then n bytes of JSON
 *   { "<name>": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, …, "__metadata__": {str: str} }
 * padded with spaces to a multiple of 8, then the raw little-endian tensor data; offsets are
 * relative to the start of the data. Reading decodes every float and integer dtype to a
 * Float32Array (F16 and BF16 widened exactly); writing stores F32. A malformed file is a
 * UserError E_MODEL naming it.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { UserError } from './errors.js';
import { writeChunksAtomic } from './fsutil.js';

export interface SafeTensor {
  /** The dtype stored in the file (F32, F16, BF16, I64, …); `data` is always float32. */
  dtype: string;
  shape: number[];
  data: Float32Array;
}

export interface TensorToWrite {
  shape: number[];
  data: Float32Array;
}

export interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export interface SafetensorsHeader {
  metadata: Record<string, string>;
  tensors: Map<string, HeaderEntry>;
  /** Absolute file offset of the data section. */
  dataStart: number;
}

const BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** The supported dtypes (reading). */
export const SAFETENSORS_DTYPES = Object.keys(BYTES);

function fail(path: string, what: string): never {
  throw new UserError('E_MODEL', `${path}: not a valid safetensors file (${what})`);
}

/** Parse the header only (no tensor data is read). */
export function readSafetensorsHeader(path: string): SafetensorsHeader {
  const fd = openFile(path);
  try {
    return parseHeader(fd, path);
  } finally {
    closeSync(fd);
  }
}

/** Read every tensor of a safetensors file, decoded to float32, in header order. */
export function readSafetensors(path: string): Map<string, SafeTensor> {
  const fd = openFile(path);
  try {
    const header = parseHeader(fd, path);
    const out = new Map<string, SafeTensor>();
    for (const [name, e] of header.tensors) {
      const [begin, end] = e.data_offsets;
      const bytes = new Uint8Array(end - begin);
      readFully(fd, bytes, header.dataStart + begin, path);
      out.set(name, { dtype: e.dtype, shape: e.shape, data: decode(e.dtype, bytes) });
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/**
 * Write float32 tensors (in map order) atomically: a temp file beside `path`, fsync, rename.
 * `metadata` goes to `__metadata__` (string values only, as the format requires).
 */
export function writeSafetensors(path: string, tensors: Map<string, TensorToWrite>, metadata?: Record<string, string>): void {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = { ...metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new Error('writeSafetensors: "__metadata__" is not a valid tensor name');
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel !== t.data.length) {
      throw new Error(`writeSafetensors: tensor ${name} has shape [${t.shape}] (${numel} values) but ${t.data.length} values`);
    }
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * numel] };
    offset += 4 * numel;
  }
  let json = JSON.stringify(header);
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - (jsonBytes % 8)) % 8);
  const head = Buffer.alloc(8 + Buffer.byteLength(json, 'utf8'));
  head.writeBigUInt64LE(BigInt(head.length - 8), 0);
  head.write(json, 8, 'utf8');

  writeChunksAtomic(path, chunksOf(head, tensors));
}

function* chunksOf(head: Uint8Array, tensors: Map<string, TensorToWrite>): Generator<Uint8Array> {
  yield head;
  for (const t of tensors.values()) yield littleEndianF32(t.data);
}

function openFile(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (e) {
    throw new UserError('E_FILE', `cannot read weights file ${path}: ${(e as Error).message}`, { cause: e });
  }
}

function parseHeader(fd: number, path: string): SafetensorsHeader {
  const size = fstatSync(fd).size;
  if (size < 8) fail(path, `${size} bytes, shorter than the 8-byte header length`);
  const lenBuf = Buffer.alloc(8);
  readFully(fd, lenBuf, 0, path);
  const n = lenBuf.readBigUInt64LE(0);
  if (n > BigInt(size - 8) || n > 100_000_000n) fail(path, `header length ${n} exceeds the file size ${size}`);
  const headBuf = Buffer.alloc(Number(n));
  readFully(fd, headBuf, 8, path);
  let raw: unknown;
  try {
    raw = JSON.parse(headBuf.toString('utf8'));
  } catch (e) {
    fail(path, `header is not JSON: ${(e as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(path, 'header is not a JSON object');
  const dataStart = 8 + Number(n);
  const dataSize = size - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, HeaderEntry>();
  for (const [name, v] of Object.entries(raw as Record<string, unknown>)) {
    if (name === '__metadata__') {
      for (const [k, s] of Object.entries((v ?? {}) as Record<string, unknown>)) metadata[k] = String(s);
      continue;
    }
    const e = v as Partial<HeaderEntry> | null;
    const dtype = e?.dtype;
    if (typeof dtype !== 'string' || !(dtype in BYTES)) {
      fail(path, `tensor ${name} has unsupported dtype ${JSON.stringify(dtype)}; supported: ${SAFETENSORS_DTYPES.join(', ')}`);
    }
    const shape = e?.shape;
    const offs = e?.data_offsets;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) fail(path, `tensor ${name} has an invalid shape`);
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0)) {
      fail(path, `tensor ${name} has invalid data_offsets`);
    }
    const [begin, end] = offs as [number, number];
    const expected = shape.reduce((a, b) => a * b, 1) * BYTES[dtype]!;
    if (end - begin !== expected) fail(path, `tensor ${name}: data_offsets span ${end - begin} bytes, shape [${shape}] ${dtype} needs ${expected}`);
    if (end > dataSize) fail(path, `tensor ${name} ends at ${end}, beyond the data section (${dataSize} bytes)`);
    tensors.set(name, { dtype, shape: [...shape], data_offsets: [begin, end] });
  }
  // Tensors own disjoint byte ranges (as the format requires): an overlap would let one tensor
  // silently read another's bytes.
  const spans = [...tensors].filter(([, e]) => e.data_offsets[1] > e.data_offsets[0]).sort(([, a], [, b]) => a.data_offsets[0] - b.data_offsets[0]);
  for (let i = 1; i < spans.length; i++) {
    const [prevName, prev] = spans[i - 1]!;
    const [name, e] = spans[i]!;
    if (e.data_offsets[0] < prev.data_offsets[1]) {
      fail(path, `tensors ${prevName} [${prev.data_offsets}] and ${name} [${e.data_offsets}] overlap in the data section`);
    }
  }
  return { metadata, tensors, dataStart };
}

function readFully(fd: number, buf: Uint8Array, position: number, path: string): void {
  let off = 0;
  while (off < buf.length) {
    const n = readSync(fd, buf, off, buf.length - off, position + off);
    if (n === 0) fail(path, 'unexpected end of file');
    off += n;
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function littleEndianF32(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

/** Decode little-endian raw bytes of `dtype` to float32. `bytes` is a fresh, 0-offset array. */
function decode(dtype: string, bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length / BYTES[dtype]!;
  if (dtype === 'F32' && LITTLE_ENDIAN) return new Float32Array(bytes.buffer, bytes.byteOffset, n);
  const out = new Float32Array(n);
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
      break;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
      break;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = f16ToF32(view.getUint16(2 * i, true));
      break;
    case 'BF16': {
      const u32 = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u32[i] = view.getUint16(2 * i, true) << 16;
      break;
    }
    case 'I64':
      for (let i = 0; i < n; i++) out[i] = Number(view.getBigInt64(8 * i, true));
      break;
    case 'I32':
      for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, true);
      break;
    case 'I16':
      for (let i = 0; i < n; i++) out[i] = view.getInt16(2 * i, true);
      break;
    case 'I8':
      for (let i = 0; i < n; i++) out[i] = view.getInt8(i);
      break;
    default: // U8, BOOL
      for (let i = 0; i < n; i++) out[i] = view.getUint8(i);
  }
  return out;
}

/** IEEE 754 half → single precision (exact: subnormals, infinities and NaN included). */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
