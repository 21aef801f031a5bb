/**
 * The ONNX messages ftrun writes, as plain TypeScript objects, and their protobuf encoding
 * (field numbers from onnx/onnx.proto: ModelProto, GraphProto, NodeProto, AttributeProto,
 * TensorProto, ValueInfoProto, TypeProto.Tensor, TensorShapeProto, OperatorSetIdProto,
 * StringStringEntryProto). Tensors are always stored as little-endian `raw_data`.
 */
import { ProtoWriter } from './protobuf.js';

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9 } as const;

/** AttributeProto.AttributeType values. */
const AttrType = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;

export interface Tensor {
  name: string;
  dataType: number;
  dims: number[];
  /** Row-major little-endian element bytes. */
  raw: Uint8Array;
}

export type Attribute = { name: string } & (
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: Tensor }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
);

export interface Node {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attributes?: Attribute[];
}

/** A tensor-typed graph input or output; a string dimension is symbolic (dim_param). */
export interface ValueInfo {
  name: string;
  elemType: number;
  shape: Array<number | string>;
  docString?: string;
}

export interface Graph {
  name: string;
  nodes: Node[];
  initializers: Tensor[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** Shapes of intermediate values (optional hints for shape inference and runtime fusions). */
  valueInfo?: ValueInfo[];
  docString?: string;
}

export interface Model {
  irVersion: number;
  opsetImports: Array<{ domain: string; version: number }>;
  producerName: string;
  producerVersion: string;
  graph: Graph;
  docString?: string;
  metadata?: Record<string, string>;
}

export function encodeTensor(t: Tensor): ProtoWriter {
  const w = new ProtoWriter();
  w.packedInt64(1, t.dims); // dims
  w.uint(2, t.dataType); // data_type
  w.string(8, t.name); // name
  w.bytes(9, t.raw); // raw_data
  return w;
}

export function encodeAttribute(a: Attribute): ProtoWriter {
  const w = new ProtoWriter().string(1, a.name).uint(20, AttrType[a.type]);
  switch (a.type) {
    case 'float':
      return w.float(2, a.value);
    case 'int':
      return w.int64(3, a.value);
    case 'string':
      return w.string(4, a.value);
    case 'tensor':
      return w.message(5, encodeTensor(a.value));
    case 'floats':
      return w.packedFloat(7, a.value);
    case 'ints':
      return w.packedInt64(8, a.value);
  }
}

export function encodeNode(n: Node): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const a of n.attributes ?? []) w.message(5, encodeAttribute(a));
  if (n.domain) w.string(7, n.domain);
  return w;
}

export function encodeValueInfo(v: ValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = new ProtoWriter();
    if (typeof d === 'string') dim.string(2, d); // dim_param
    else dim.int64(1, d); // dim_value
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().uint(1, v.elemType).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType); // TypeProto.tensor_type
  const w = new ProtoWriter().string(1, v.name).message(2, type);
  if (v.docString) w.string(3, v.docString);
  return w;
}

export function encodeGraph(g: Graph): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, encodeNode(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, encodeTensor(t));
  if (g.docString) w.string(10, g.docString);
  for (const v of g.inputs) w.message(11, encodeValueInfo(v));
  for (const v of g.outputs) w.message(12, encodeValueInfo(v));
  for (const v of g.valueInfo ?? []) w.message(13, encodeValueInfo(v));
  return w;
}

export function encodeModel(m: Model): ProtoWriter {
  const w = new ProtoWriter().int64(1, m.irVersion).string(2, m.producerName).string(3, m.producerVersion);
  if (m.docString) w.string(6, m.docString);
  w.message(7, encodeGraph(m.graph));
  for (const o of m.opsetImports) {
    const op = new ProtoWriter();
    if (o.domain) op.string(1, o.domain);
    w.message(8, op.int64(2, o.version));
  }
  for (const [key, value] of Object.entries(m.metadata ?? {})) w.message(14, new ProtoWriter().string(1, key).string(2, value));
  return w;
}
