/**
 * Test helpers over the protobuf wire-format reader (engine/adapter/proto-read.ts, which is written
 * independently of the encoder): split a message into its fields (number, wire type, value) so the
 * tests can check what the encoder wrote without trusting the encoder itself.
 */
import { firstBytes, readFields, text as utf8, type WireField } from '../../../engine/adapter/proto-read.js';

export type Field = WireField;

export const decodeFields = readFields;

/** All values of one field. */
export function values(fields: Field[], field: number): Field['value'][] {
  return fields.filter((f) => f.field === field).map((f) => f.value);
}

/** The one length-delimited value of `field` (throws when absent). */
export function bytesOf(fields: Field[], field: number): Uint8Array {
  const v = firstBytes(fields, field);
  if (!v) throw new Error(`field ${field} not found`);
  return v;
}

export const text = (b: Field['value']): string => utf8(b as Uint8Array);

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
