/**
 * A small builder for ONNX graphs: append nodes in topological order (each call returns its
 * output name), add weights as initializers, and reuse constants (scalars, int64 vectors) by
 * value. `reduce()` hides the opset 18 change that moved `axes` of ReduceMax/ReduceL2/ReduceMean
 * from an attribute to an input.
 */
import { DataType, type Attribute, type Node, type Tensor } from './onnx-proto.js';
import { littleEndianBytes } from './protobuf.js';

/** Attribute helpers. */
export const attr = {
  int: (name: string, value: number): Attribute => ({ name, type: 'int', value }),
  float: (name: string, value: number): Attribute => ({ name, type: 'float', value }),
  ints: (name: string, value: number[]): Attribute => ({ name, type: 'ints', value }),
};

export class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly initializers: Tensor[] = [];
  private readonly constants = new Map<string, string>();
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(readonly opset: number) {}

  /** Append a node; returns its (single) output name: `out` if given, else a fresh one. */
  op(opType: string, inputs: string[], attributes: Attribute[] = [], out?: string): string {
    const output = out ?? this.fresh(opType);
    this.claim(output);
    this.nodes.push({ opType, inputs, outputs: [output], name: `${opType}_${this.nodes.length}`, ...(attributes.length ? { attributes } : {}) });
    return output;
  }

  /** Append a node with several outputs (names given; '' for an unused optional output). */
  opMulti(opType: string, inputs: string[], outputs: string[], attributes: Attribute[] = [], domain?: string): string[] {
    for (const o of outputs) if (o) this.claim(o);
    this.nodes.push({ opType, inputs, outputs, name: `${opType}_${this.nodes.length}`, ...(attributes.length ? { attributes } : {}), ...(domain ? { domain } : {}) });
    return outputs;
  }

  /** A fresh value name with a readable prefix (for opMulti outputs). */
  name(prefix: string): string {
    return this.fresh(prefix);
  }

  /** A float32 initializer (the data is referenced, not copied). */
  floatTensor(name: string, dims: number[], data: Float32Array): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (data.length !== n) throw new Error(`initializer ${name}: ${data.length} values for shape [${dims}]`);
    this.claim(name);
    this.initializers.push({ name, dataType: DataType.FLOAT, dims, raw: littleEndianBytes(data) });
    return name;
  }

  /** A float32 scalar constant (shape []), shared by value. */
  scalar(value: number): string {
    return this.constant(`f:${value}`, () => this.floatTensor(this.fresh('const_f'), [], Float32Array.of(value)));
  }

  /** A 1-D int64 constant, shared by value. */
  int64s(values: number[]): string {
    return this.constant(`i:${values.join(',')}`, () => {
      const name = this.fresh('const_i');
      this.claim(name);
      const data = BigInt64Array.from(values.map((v) => BigInt(v)));
      this.initializers.push({ name, dataType: DataType.INT64, dims: [values.length], raw: littleEndianBytes(data) });
      return name;
    });
  }

  /** ReduceMax / ReduceMean / ReduceL2 / ReduceSum over `axes` (attribute or input by opset). */
  reduce(opType: 'ReduceMax' | 'ReduceMean' | 'ReduceL2' | 'ReduceSum', x: string, axes: number[], keepdims: boolean): string {
    const keep = attr.int('keepdims', keepdims ? 1 : 0);
    const axesAsInput = opType === 'ReduceSum' ? this.opset >= 13 : this.opset >= 18;
    return axesAsInput ? this.op(opType, [x, this.int64s(axes)], [keep]) : this.op(opType, [x], [attr.ints('axes', axes), keep]);
  }

  private constant(key: string, make: () => string): string {
    let name = this.constants.get(key);
    if (name === undefined) {
      name = make();
      this.constants.set(key, name);
    }
    return name;
  }

  private fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`;
    while (this.names.has(name));
    return name;
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`ONNX graph: duplicate value name ${name}`);
    this.names.add(name);
  }
}
