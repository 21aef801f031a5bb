import { describe, expect, it } from 'vitest';
import ort from 'onnxruntime-node';
import { ProtoWriter } from '../../../engine/export/protobuf.js';
import { DataType, encodeAttribute, encodeModel, encodeValueInfo } from '../../../engine/export/onnx-proto.js';
import { bytesOf, decodeFields, packedVarints, text, values } from './decode.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('ProtoWriter: wire format', () => {
  it('matches the encodings of the protobuf documentation', () => {
    expect(hex(new ProtoWriter().uint(1, 150).finish())).toBe('089601');
    expect(hex(new ProtoWriter().string(2, 'testing').finish())).toBe('120774657374696e67');
    expect(hex(new ProtoWriter().message(3, new ProtoWriter().uint(1, 150)).finish())).toBe('1a03089601');
    expect(hex(new ProtoWriter().packedInt64(4, [3, 270, 86942]).finish())).toBe('2206038e029ea705');
  });

  it('writes int64 as two\'s complement (negative: 10 bytes) and big values exactly', () => {
    expect(hex(new ProtoWriter().int64(1, -1).finish())).toBe('08' + 'ff'.repeat(9) + '01');
    expect(hex(new ProtoWriter().int64(1, 2n ** 63n - 1n).finish())).toBe('08' + 'ff'.repeat(8) + '7f');
    expect(hex(new ProtoWriter().int64(1, 2 ** 40).finish())).toBe('08' + '80'.repeat(5) + '20');
    expect(hex(new ProtoWriter().int64(1, 0).finish())).toBe('0800');
  });

  it('writes floats as little-endian fixed32 and packed floats as bytes', () => {
    expect(hex(new ProtoWriter().float(2, 1.5).finish())).toBe('150000c03f');
    expect(hex(new ProtoWriter().packedFloat(7, [1, -2]).finish())).toBe('3a080000803f000000c0');
    expect(new ProtoWriter().packedFloat(7, []).finish().length).toBe(0);
  });

  it('round-trips mixed and large fields through a decoder', () => {
    const big = new Uint8Array(1000).map((_, i) => i % 251);
    const inner = new ProtoWriter().string(1, 'héllo').bytes(9, big);
    const msg = new ProtoWriter().uint(1, 7).message(2, inner).int64(3, -5).string(4, '').finish();
    const fields = decodeFields(msg);
    expect(fields.map((f) => f.field)).toEqual([1, 2, 3, 4]);
    expect(values(fields, 1)).toEqual([7n]);
    expect(BigInt.asIntN(64, values(fields, 3)[0] as bigint)).toBe(-5n);
    expect(text(values(fields, 4)[0]!)).toBe('');
    const sub = decodeFields(bytesOf(fields, 2));
    expect(text(bytesOf(sub, 1))).toBe('héllo');
    expect([...bytesOf(sub, 9)]).toEqual([...big]);
  });

  it('refuses bad input and writes after measuring', () => {
    const w = new ProtoWriter().uint(1, 1);
    void w.byteLength;
    expect(() => w.uint(2, 1)).toThrow(/already measured/);
    expect(() => new ProtoWriter().uint(0, 1)).toThrow(/field number/);
    expect(() => new ProtoWriter().uint(1, 1.5)).toThrow(/integer/);
  });
});

describe('ONNX messages', () => {
  it('encodes attributes with their type discriminator', () => {
    const ints = decodeFields(encodeAttribute({ name: 'perm', type: 'ints', value: [0, 2, 1, 3] }).finish());
    expect(text(bytesOf(ints, 1))).toBe('perm');
    expect(values(ints, 20)).toEqual([7n]);
    expect(packedVarints(bytesOf(ints, 8))).toEqual([0n, 2n, 1n, 3n]);
    const f = decodeFields(encodeAttribute({ name: 'epsilon', type: 'float', value: 1e-12 }).finish());
    expect(values(f, 20)).toEqual([1n]);
    expect(Buffer.from(f.find((x) => x.field === 2)!.value as Uint8Array).readFloatLE(0)).toBeCloseTo(1e-12, 20);
    const axis = decodeFields(encodeAttribute({ name: 'axis', type: 'int', value: -1 }).finish());
    expect(BigInt.asIntN(64, values(axis, 3)[0] as bigint)).toBe(-1n);
  });

  it('writes symbolic dimensions as dim_param and fixed ones as dim_value', () => {
    const vi = decodeFields(encodeValueInfo({ name: 'x', elemType: DataType.FLOAT, shape: ['batch', 3] }).finish());
    const tensorType = decodeFields(bytesOf(decodeFields(bytesOf(vi, 2)), 1));
    expect(values(tensorType, 1)).toEqual([1n]);
    const dims = values(decodeFields(bytesOf(tensorType, 2)), 1).map((d) => decodeFields(d as Uint8Array)[0]!);
    expect(dims[0]!.field).toBe(2);
    expect(text(dims[0]!.value)).toBe('batch');
    expect(dims[1]).toEqual({ field: 1, wire: 0, value: 3n });
  });

  it('produces a model onnxruntime loads and runs (dynamic dimension, raw_data initializer)', async () => {
    const c = new Float32Array([10, 20, 30]);
    const bytes = encodeModel({
      irVersion: 8,
      opsetImports: [{ domain: '', version: 17 }],
      producerName: 'test',
      producerVersion: '0',
      graph: {
        name: 'g',
        nodes: [
          { opType: 'Add', inputs: ['a', 'c'], outputs: ['s'] },
          { opType: 'ReduceSum', inputs: ['s', 'axes'], outputs: ['y'], attributes: [{ name: 'keepdims', type: 'int', value: 0 }] },
        ],
        initializers: [
          { name: 'c', dataType: DataType.FLOAT, dims: [3], raw: new Uint8Array(c.buffer) },
          { name: 'axes', dataType: DataType.INT64, dims: [1], raw: new Uint8Array(BigInt64Array.of(1n).buffer) },
        ],
        inputs: [{ name: 'a', elemType: DataType.FLOAT, shape: ['n', 3] }],
        outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: ['n'] }],
      },
    }).finish();
    const session = await ort.InferenceSession.create(bytes);
    for (const n of [1, 4]) {
      const a = new Float32Array(n * 3).map((_, i) => i);
      const y = (await session.run({ a: new ort.Tensor('float32', a, [n, 3]) })).y!;
      expect(y.dims).toEqual([n]);
      expect([...(y.data as Float32Array)]).toEqual(Array.from({ length: n }, (_, r) => 60 + 9 * r + 3));
    }
    await session.release();
  });
});
