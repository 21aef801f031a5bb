/**
 * A minimal protocol-buffers *encoder* (no npm package needed): varints, int64 (two's complement,
 * 10 bytes when negative), fixed32 floats, length-delimited strings / bytes / sub-messages, and
 * packed repeated varints and floats. Enough to write ONNX models (see onnx-proto.ts).
 *
 * A ProtoWriter keeps its fields as a list of chunks: scalar fields go to a small growing buffer,
 * large byte arrays (tensor raw_data) and sub-messages are kept by reference, so `finish()`
 * copies every weight exactly once into the final buffer. Fields are written in call order.
 */

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

type Chunk = Uint8Array | ProtoWriter;

export class ProtoWriter {
  private readonly chunks: Chunk[] = [];
  private buf = new Uint8Array(64);
  private pos = 0;
  private size: number | undefined;

  /** Field `field` as a varint (uint32 / int32 ≥ 0 / bool / enum). */
  uint(field: number, value: number): this {
    this.tag(field, WIRE_VARINT);
    this.rawVarint(value);
    return this;
  }

  /** Field `field` as an int64 varint (negative values take 10 bytes, as protobuf requires). */
  int64(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.rawVarint(value);
    return this;
  }

  /** Field `field` as a 32-bit float (wire type fixed32). */
  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    this.reserve(4);
    new DataView(this.buf.buffer, this.buf.byteOffset).setFloat32(this.pos, value, true);
    this.pos += 4;
    return this;
  }

  /** Field `field` as a UTF-8 string. */
  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  /** Field `field` as raw bytes (kept by reference until finish(): do not mutate them meanwhile). */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.rawVarint(value.length);
    if (value.length <= 64) this.append(value);
    else this.pushChunk(value);
    return this;
  }

  /** Field `field` as an embedded message. */
  message(field: number, msg: ProtoWriter): this {
    this.tag(field, WIRE_LEN);
    this.rawVarint(msg.byteLength);
    this.pushChunk(msg);
    return this;
  }

  /** Packed repeated varints (int64 / int32 / enum). Nothing is written for an empty list. */
  packedInt64(field: number, values: ArrayLike<number | bigint>): this {
    if (values.length === 0) return this;
    const inner = new ProtoWriter();
    for (let i = 0; i < values.length; i++) inner.rawVarint(values[i]!);
    return this.message(field, inner);
  }

  /** Packed repeated floats (little-endian fixed32). Nothing is written for an empty list. */
  packedFloat(field: number, values: ArrayLike<number>): this {
    if (values.length === 0) return this;
    const f32 = Float32Array.from(values);
    return this.bytes(field, littleEndianBytes(f32));
  }

  /** Encoded size in bytes (fixed once read: write nothing more afterwards). */
  get byteLength(): number {
    if (this.size === undefined) {
      this.flush();
      this.size = this.chunks.reduce((n, c) => n + (c instanceof ProtoWriter ? c.byteLength : c.length), 0);
    }
    return this.size;
  }

  /** The encoded message as one buffer. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.byteLength);
    this.copyInto(out, 0);
    return out;
  }

  private copyInto(out: Uint8Array, offset: number): number {
    for (const c of this.chunks) {
      if (c instanceof ProtoWriter) offset = c.copyInto(out, offset);
      else {
        out.set(c, offset);
        offset += c.length;
      }
    }
    return offset;
  }

  private tag(field: number, wire: number): void {
    if (!Number.isInteger(field) || field < 1 || field > 536_870_911) throw new Error(`protobuf: invalid field number ${field}`);
    this.rawVarint(field * 8 + wire);
  }

  private rawVarint(value: number | bigint): void {
    if (this.size !== undefined) throw new Error('protobuf: message already measured; no more fields can be written');
    if (typeof value === 'number') {
      if (!Number.isInteger(value)) throw new Error(`protobuf: varint must be an integer, got ${value}`);
      if (value >= 0 && value <= Number.MAX_SAFE_INTEGER) {
        this.reserve(10);
        let v = value;
        while (v >= 0x80) {
          this.buf[this.pos++] = (v % 0x80) | 0x80;
          v = Math.floor(v / 0x80);
        }
        this.buf[this.pos++] = v;
        return;
      }
      value = BigInt(value);
    }
    let v = BigInt.asUintN(64, value);
    this.reserve(10);
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  private append(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  private flush(): void {
    if (this.pos === 0) return;
    this.chunks.push(this.buf.slice(0, this.pos));
    this.buf = new Uint8Array(64);
    this.pos = 0;
  }

  private pushChunk(c: Chunk): void {
    this.flush();
    this.chunks.push(c);
  }
}

/** The bytes of a typed array in little-endian order (a view when the platform is little-endian). */
export function littleEndianBytes(a: Float32Array | BigInt64Array | Int32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.byteLength);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) {
    if (a instanceof Float32Array) dv.setFloat32(i * 4, a[i]!, true);
    else if (a instanceof Int32Array) dv.setInt32(i * 4, a[i]!, true);
    else dv.setBigInt64(i * 8, a[i]!, true);
  }
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Largest message protobuf parsers accept (2 GiB − 1): bigger models need ONNX external data. */
export const PROTOBUF_MAX_BYTES = 2 ** 31 - 1;
