/**
 * A minimal protocol-buffers wire-format *reader*, enough to splice an existing ONNX model:
 * split a message into its top-level fields (field number, wire type, value), keeping values as
 * views into the input (no copy of weights), and re-emit kept fields unchanged with a ProtoWriter.
 */
import { ProtoWriter } from '../export/protobuf.js';

export type WireField =
  | { field: number; wire: 0; value: bigint }
  | { field: number; wire: 1 | 5; value: Uint8Array }
  | { field: number; wire: 2; value: Uint8Array };

/** The fields of a message, in order. Throws on malformed input. */
export function readFields(b: Uint8Array): WireField[] {
  const out: WireField[] = [];
  let p = 0;
  const varint = (): bigint => {
    let r = 0n;
    let shift = 0n;
    for (;;) {
      if (p >= b.length) throw new Error('protobuf: truncated varint');
      const x = b[p++]!;
      r |= BigInt(x & 0x7f) << shift;
      shift += 7n;
      if (!(x & 0x80)) return r;
      if (shift > 63n) throw new Error('protobuf: varint too long');
    }
  };
  while (p < b.length) {
    const tag = Number(varint());
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) out.push({ field, wire, value: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      if (p + len > b.length) throw new Error('protobuf: truncated length-delimited field');
      out.push({ field, wire, value: b.subarray(p, p + len) });
      p += len;
    } else if (wire === 1 || wire === 5) {
      const n = wire === 5 ? 4 : 8;
      if (p + n > b.length) throw new Error('protobuf: truncated fixed field');
      out.push({ field, wire, value: b.subarray(p, p + n) });
      p += n;
    } else throw new Error(`protobuf: unsupported wire type ${wire}`);
  }
  return out;
}

/** UTF-8 text of a length-delimited value. */
export function text(v: Uint8Array): string {
  return new TextDecoder().decode(v);
}

/** The string values of `field` (repeated string). */
export function strings(fields: WireField[], field: number): string[] {
  return fields.filter((f) => f.field === field && f.wire === 2).map((f) => text(f.value as Uint8Array));
}

/** The first length-delimited value of `field`, if any. */
export function firstBytes(fields: WireField[], field: number): Uint8Array | undefined {
  const f = fields.find((x) => x.field === field && x.wire === 2);
  return f ? (f.value as Uint8Array) : undefined;
}

/** Re-emit a field as it was read. */
export function writeField(w: ProtoWriter, f: WireField): void {
  if (f.wire === 0) w.int64(f.field, f.value);
  else if (f.wire === 2) w.bytes(f.field, f.value);
  else if (f.wire === 5) w.float(f.field, new DataView(f.value.buffer, f.value.byteOffset, 4).getFloat32(0, true));
  else throw new Error(`protobuf: cannot re-emit fixed64 field ${f.field}`);
}
