import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.js';
import { f16ToF32, readSafetensors, readSafetensorsHeader, writeSafetensors } from '../core/safetensors.js';
import { TINY_BERT, describeShared } from './helpers/shared.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'ftrun-st-'));

/** A hand-made file: one tensor of `dtype` holding `raw` bytes. */
function handMade(dir: string, dtype: string, shape: number[], raw: Uint8Array): string {
  const header = JSON.stringify({ x: { dtype, shape, data_offsets: [0, raw.length] } });
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  const path = join(dir, `${dtype}.safetensors`);
  writeFileSync(path, Buffer.concat([len, Buffer.from(header), raw]));
  return path;
}

describeShared('safetensors: the fixture model', () => {
  it('reads every tensor with the shapes implied by config.json', () => {
    const cfg = JSON.parse(readFileSync(join(TINY_BERT, 'config.json'), 'utf8'));
    const t = readSafetensors(join(TINY_BERT, 'model.safetensors'));
    const H = cfg.hidden_size;
    expect(t.get('embeddings.word_embeddings.weight')!.shape).toEqual([cfg.vocab_size, H]);
    expect(t.get('embeddings.position_embeddings.weight')!.shape).toEqual([cfg.max_position_embeddings, H]);
    expect(t.get('embeddings.token_type_embeddings.weight')!.shape).toEqual([cfg.type_vocab_size, H]);
    for (let l = 0; l < cfg.num_hidden_layers; l++) {
      const p = `encoder.layer.${l}.`;
      expect(t.get(p + 'attention.self.query.weight')!.shape).toEqual([H, H]);
      expect(t.get(p + 'intermediate.dense.weight')!.shape).toEqual([cfg.intermediate_size, H]);
      expect(t.get(p + 'output.dense.weight')!.shape).toEqual([H, cfg.intermediate_size]);
      expect(t.get(p + 'output.LayerNorm.bias')!.data.length).toBe(H);
    }
    expect(t.size).toBe(5 + 16 * cfg.num_hidden_layers + 2);
    const ln = t.get('embeddings.LayerNorm.weight')!;
    expect(ln.dtype).toBe('F32');
    expect(ln.data.every((v) => Number.isFinite(v))).toBe(true);
    expect(readSafetensorsHeader(join(TINY_BERT, 'model.safetensors')).metadata).toEqual({ format: 'pt' });
  });

  it('writes the fixture back bit-exactly (round trip)', () => {
    const src = readSafetensors(join(TINY_BERT, 'model.safetensors'));
    const path = join(tmp(), 'model.safetensors');
    writeSafetensors(path, src, { format: 'pt' });
    const back = readSafetensors(path);
    expect([...back.keys()]).toEqual([...src.keys()]);
    for (const [k, v] of src) {
      expect(back.get(k)!.shape).toEqual(v.shape);
      expect(Buffer.from(back.get(k)!.data.buffer).equals(Buffer.from(v.data.buffer))).toBe(true);
    }
  });
});

describe('safetensors: format details', () => {
  it('pads the header with spaces to a multiple of 8 and writes atomically', () => {
    const dir = tmp();
    const path = join(dir, 'a.safetensors');
    const data = new Float32Array([1.5, -2, 3e-39, Math.PI]);
    writeSafetensors(path, new Map([['w', { shape: [2, 2], data }], ['e', { shape: [0], data: new Float32Array(0) }]]), { k: 'v' });
    const buf = readFileSync(path);
    const n = Number(buf.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const header = JSON.parse(buf.subarray(8, 8 + n).toString());
    expect(header.__metadata__).toEqual({ k: 'v' });
    expect(header.w).toEqual({ dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] });
    expect(buf.length).toBe(8 + n + 16);
    expect(Array.from(readSafetensors(path).get('w')!.data)).toEqual(Array.from(data));
    expect(readSafetensors(path).get('e')!.shape).toEqual([0]);
    expect(readdirSync(dir)).toEqual(['a.safetensors']);
  });

  it('decodes F16 exactly, including subnormals, infinities and negative zero', () => {
    const halves = [0x3c00, 0xc000, 0x3555, 0x0001, 0x03ff, 0x7bff, 0x7c00, 0xfc00, 0x8000, 0x4248];
    const want = [1, -2, 0.333251953125, 2 ** -24, 1023 * 2 ** -24, 65504, Infinity, -Infinity, -0, 3.140625];
    const raw = new Uint8Array(new Uint16Array(halves).buffer);
    const t = readSafetensors(handMade(tmp(), 'F16', [2, 5], raw)).get('x')!;
    expect(t.dtype).toBe('F16');
    expect(t.shape).toEqual([2, 5]);
    expect(Array.from(t.data)).toEqual(want);
    expect(Number.isNaN(f16ToF32(0x7e00))).toBe(true);
  });

  it('decodes BF16 as the top half of a float32', () => {
    const values = new Float32Array([1, -2.5, 0.15625, 3.0e38, -1.1754944e-38]);
    const u32 = new Uint32Array(values.buffer);
    const raw = new Uint8Array(new Uint16Array(Array.from(u32, (u) => u >>> 16)).buffer);
    const t = readSafetensors(handMade(tmp(), 'BF16', [5], raw)).get('x')!;
    const want = Float32Array.from(u32, (u) => new Float32Array(new Uint32Array([u & 0xffff0000]).buffer)[0]!);
    expect(Array.from(t.data)).toEqual(Array.from(want));
    expect(t.data[0]).toBe(1);
    expect(t.data[2]).toBe(0.15625);
  });

  it('decodes I64 and I32 tensors to float32', () => {
    const dir = tmp();
    const i64 = readSafetensors(handMade(dir, 'I64', [3], new Uint8Array(new BigInt64Array([0n, 511n, -7n]).buffer))).get('x')!;
    expect(Array.from(i64.data)).toEqual([0, 511, -7]);
    const i32 = readSafetensors(handMade(dir, 'I32', [2], new Uint8Array(new Int32Array([5, -6]).buffer))).get('x')!;
    expect(Array.from(i32.data)).toEqual([5, -6]);
  });

  it('rejects malformed files with E_MODEL naming the file, and a missing file with E_FILE', () => {
    const dir = tmp();
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, Buffer.from('not a safetensors file at all'));
    expect(() => readSafetensors(bad)).toThrow(/bad\.safetensors: not a valid safetensors file/);
    const short = handMade(dir, 'F32', [4], new Uint8Array(8));
    expect(() => readSafetensors(short)).toThrow(/data_offsets span 8 bytes, shape \[4\] F32 needs 16/);
    const odd = handMade(dir, 'C64', [1], new Uint8Array(8));
    expect(() => readSafetensors(odd)).toThrow(/unsupported dtype "C64"/);
    // Two tensors sharing bytes: a.weight [0, 16) and b.weight [8, 24).
    const header = JSON.stringify({ 'a.weight': { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, 'b.weight': { dtype: 'F32', shape: [4], data_offsets: [8, 24] } });
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    const overlap = join(dir, 'overlap.safetensors');
    writeFileSync(overlap, Buffer.concat([len, Buffer.from(header), Buffer.alloc(24)]));
    expect(() => readSafetensors(overlap)).toThrow(/overlap\.safetensors: not a valid safetensors file \(tensors a\.weight \[0,16\] and b\.weight \[8,24\] overlap in the data section\)/);
    try {
      readSafetensors(join(dir, 'missing.safetensors'));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      expect((e as UserError).code).toBe('E_FILE');
    }
  });
});
