/**
 * Test-only protobuf decoder: splits a message into its fields (number, wire type, value) so the
 * tests can check what the encoder wrote without trusting the encoder itself.
 */

export type Field =
  | { field: number; wire: 0; value: bigint }
  | { field: number; wire: 1; value: Uint8Array }
  | { field: number; wire: 2; value: Uint8Array }
  | { field: number; wire: 5; value: Uint8Array };

export function decodeFields(b: Uint8Array): Field[] {
  const out: Field[] = [];
  let p = 0;
  const varint = (): bigint => {
    let r = 0n;
    let shift = 0n;
    for (;;) {
      if (p >= b.length) throw new Error('truncated varint');
      const x = b[p++]!;
      r |= BigInt(x & 0x7f) << shift;
      shift += 7n;
      if (!(x & 0x80)) return r;
    }
  };
  while (p < b.length) {
    const tag = Number(varint());
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) out.push({ field, wire, value: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      if (p + len > b.length) throw new Error('truncated length-delimited field');
      out.push({ field, wire, value: b.subarray(p, p + len) });
      p += len;
    } else if (wire === 5 || wire === 1) {
      const n = wire === 5 ? 4 : 8;
      out.push({ field, wire, value: b.subarray(p, p + n) } as Field);
      p += n;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

/** All values of one field. */
export function values(fields: Field[], field: number): Field['value'][] {
  return fields.filter((f) => f.field === field).map((f) => f.value);
}

/** The one length-delimited value of `field` (throws when absent). */
export function bytesOf(fields: Field[], field: number): Uint8Array {
  const f = fields.find((x) => x.field === field && x.wire === 2);
  if (!f) throw new Error(`field ${field} not found`);
  return f.value as Uint8Array;
}

export const text = (b: Field['value']): string => new TextDecoder().decode(b as Uint8Array);

/** Packed varints → bigints. */
export function packedVarints(b: Uint8Array): bigint[] {
  const out: bigint[] = [];
  let r = 0n;
  let shift = 0n;
  for (const x of b) {
    r |= BigInt(x & 0x7f) << shift;
    shift += 7n;
    if (!(x & 0x80)) {
      out.push(r);
      r = 0n;
      shift = 0n;
    }
  }
  return out;
}
