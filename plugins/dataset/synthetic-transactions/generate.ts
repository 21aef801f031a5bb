/**
 * The seeded corporate-card transaction generator behind the `synthetic-transactions` dataset.
 *
 * Merchant names come from the taxonomy's patterns (plugins/dataset/synthetic-transactions/taxonomy.ts). The whole name
 * space is split once per seed into a train part and an eval part by hashing each name, so an eval
 * merchant never appears in a training row (a name listed by two categories lands in the same part
 * for both). Rows are balanced over the chosen categories; `noise` (0..1) blurs them the way real
 * card data is blurred: merchants borrowed from an overlapping category, descriptors of the other
 * category or generic ones, abbreviated descriptors, off-program departments and spend programs.
 */
import { deriveSeed, Rng } from '../../../core/rng.js';
import {
  DEPARTMENTS, GENERIC_DESCRIPTORS, GENERIC_PROGRAMS, LOCATIONS, TRIP_PATTERNS, type CategorySpec,
} from './taxonomy.js';

/** One transaction, with the field names of the reference notebook's cleaned records. */
export interface TransactionRecord {
  merchant_name: string;
  merchant_category: string[];
  department: string;
  location: string;
  amount: number;
  spend_program_name: string;
  trip_name: string | null;
  expense_category: string;
}

/** The fields of every TransactionRecord, in order (what a `field` splitter may name). */
export const TRANSACTION_FIELDS = [
  'merchant_name', 'merchant_category', 'department', 'location', 'amount', 'spend_program_name', 'trip_name', 'expense_category',
] as const satisfies ReadonlyArray<keyof TransactionRecord>;

export type Part = 'train' | 'eval';

export interface GenerateOptions {
  train: number;
  eval: number;
  seed: number;
  noise: number;
}

/** Share of each category's merchant names held out for the eval part. */
export const EVAL_NAME_SHARE = 0.3;
const MAX_EXPANSIONS = 10_000;

/** The notebook's text layout. */
export function formatTransaction(r: TransactionRecord): string {
  return [
    '',
    `Name : ${r.merchant_name}`,
    `Category: ${r.merchant_category.join(', ')}`,
    `Department: ${r.department}`,
    `Location: ${r.location}`,
    `Amount: ${formatAmount(r.amount)}`,
    `Card: ${r.spend_program_name}`,
    `Trip Name: ${r.trip_name ?? 'unknown'}`,
    '',
  ].join('\n');
}

/** Amounts as Python prints floats: `2000.0`, `85.5`, `4500.23`. */
export function formatAmount(n: number): string {
  const s = String(Math.round(n * 100) / 100);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** A pattern split into parts: literal text, or a list of alternatives. */
function parsePattern(pattern: string): Array<string | string[]> {
  const parts: Array<string | string[]> = [];
  const re = /\{([^{}]*)\}/g;
  let last = 0;
  for (let m = re.exec(pattern); m; m = re.exec(pattern)) {
    if (m.index > last) parts.push(pattern.slice(last, m.index));
    parts.push(m[1]!.split('|'));
    last = m.index + m[0].length;
  }
  if (last < pattern.length) parts.push(pattern.slice(last));
  return parts;
}

const tidy = (s: string) => s.replace(/\s+/g, ' ').trim();

/** Every name a pattern can produce, in pattern order. */
export function enumeratePattern(pattern: string): string[] {
  let out = [''];
  for (const part of parsePattern(pattern)) {
    const alts = typeof part === 'string' ? [part] : part;
    out = out.flatMap((prefix) => alts.map((a) => prefix + a));
    if (out.length > MAX_EXPANSIONS) throw new Error(`pattern "${pattern}" expands to more than ${MAX_EXPANSIONS} names`);
  }
  return [...new Set(out.map(tidy))].filter((s) => s.length > 0);
}

/** One random expansion of a pattern. */
export function expandPattern(pattern: string, rng: Rng): string {
  return tidy(parsePattern(pattern).map((p) => (typeof p === 'string' ? p : rng.choice(p))).join(''));
}

/** All merchant names of a category. */
export function merchantNames(spec: CategorySpec): string[] {
  return [...new Set(spec.merchants.flatMap(enumeratePattern))];
}

/**
 * Splits the merchant names of `taxonomy` into train and eval pools per category. A name's part
 * depends only on the seed and the name, so it is the same in every category that lists it and
 * for any subset of categories; a category left with an empty pool gets its extreme name moved.
 */
export function partitionMerchants(taxonomy: readonly CategorySpec[], seed: number): Map<string, Record<Part, string[]>> {
  const hash = (name: string) => deriveSeed(seed, `merchant:${name}`) / 4294967296;
  const part = new Map<string, Part>();
  const names = new Map(taxonomy.map((c) => [c.name, merchantNames(c)]));
  for (const list of names.values()) for (const n of list) part.set(n, hash(n) < EVAL_NAME_SHARE ? 'eval' : 'train');
  for (const list of names.values()) {
    const byHash = [...list].sort((a, b) => hash(a) - hash(b));
    if (!list.some((n) => part.get(n) === 'eval')) part.set(byHash[0]!, 'eval');
    if (!list.some((n) => part.get(n) === 'train')) part.set(byHash[byHash.length - 1]!, 'train');
  }
  const pools = new Map<string, Record<Part, string[]>>();
  for (const [cat, list] of names) {
    const pool = { train: list.filter((n) => part.get(n) === 'train'), eval: list.filter((n) => part.get(n) === 'eval') };
    if (pool.train.length === 0 || pool.eval.length === 0) throw new Error(`taxonomy: category "${cat}" has too few merchant names to split`);
    pools.set(cat, pool);
  }
  return pools;
}

const ABBREVIATIONS: Array<[RegExp, string]> = [
  [/Services\b/, 'Svcs'], [/ & /, ' and '], [/ and /, ' & '], [/Software\b/, 'SW'], [/Management\b/, 'Mgmt'],
];

/** Card-statement style corruption of a descriptor: an abbreviation, or upper case. */
function garble(d: string, rng: Rng): string {
  const hits = ABBREVIATIONS.filter(([re]) => re.test(d));
  if (hits.length > 0 && rng.next() < 0.7) {
    const [re, to] = rng.choice(hits);
    return d.replace(re, to);
  }
  return d.toUpperCase();
}

/** Log-uniform in [min, max]; a share of round amounts, as invoices and plans are. */
function drawAmount([min, max]: [number, number], noise: number, rng: Rng): number {
  let a = Math.exp(Math.log(min) + rng.next() * (Math.log(max) - Math.log(min)));
  if (rng.next() < noise * 0.2) a *= 0.25 + rng.next() * 3.75; // an unusual amount for the category
  if (rng.next() < 0.35) {
    const step = a >= 1000 ? 100 : a >= 100 ? 50 : 5;
    return Math.max(step, Math.round(a / step) * step);
  }
  return Math.max(1, Math.round(a * 100) / 100);
}

function pickDistinct<T>(items: readonly T[], k: number, rng: Rng): T[] {
  return rng.sample(items, Math.min(k, items.length));
}

/** One transaction of category `spec`, drawn from the `part` merchant pools. */
function makeRow(
  spec: CategorySpec,
  part: Part,
  pools: Map<string, Record<Part, string[]>>,
  specs: Map<string, CategorySpec>,
  noise: number,
  rng: Rng,
): TransactionRecord {
  const overlaps = spec.overlaps.filter((o) => specs.has(o));
  // an ambiguous row: the merchant (and some of its description) of an overlapping category
  const borrowed = overlaps.length > 0 && rng.next() < noise * 0.5 ? specs.get(rng.choice(overlaps))! : undefined;
  const merchantPool = pools.get((borrowed ?? spec).name)![part];
  const merchant = rng.choice(merchantPool);

  const descriptors = pickDistinct(spec.descriptors, rng.next() < 0.45 ? 1 : 2, rng);
  if (borrowed) descriptors[0] = rng.choice(borrowed.descriptors);
  if (rng.next() < noise) {
    const other = overlaps.length > 0 && rng.next() < 0.5 ? specs.get(rng.choice(overlaps))!.descriptors : GENERIC_DESCRIPTORS;
    const d = rng.choice(other);
    if (!descriptors.includes(d)) descriptors[descriptors.length > 1 ? 1 : 0] = d;
  }
  if (rng.next() < noise * 0.5) {
    const i = rng.int(descriptors.length);
    descriptors[i] = garble(descriptors[i]!, rng);
  }

  const department = rng.next() < noise * 0.5 ? rng.choice(DEPARTMENTS) : rng.choice(spec.departments);
  const program = rng.next() < noise * 0.5 ? rng.choice(GENERIC_PROGRAMS) : rng.choice(spec.programs);
  const trip = rng.next() < (spec.tripRate ?? 0) ? expandPattern(rng.choice(TRIP_PATTERNS), rng) : null;
  return {
    merchant_name: merchant,
    merchant_category: descriptors,
    department,
    location: rng.choice(LOCATIONS),
    amount: drawAmount(spec.amount, noise, rng),
    spend_program_name: expandPattern(program, rng),
    trip_name: trip,
    expense_category: spec.name,
  };
}

/** `count` rows balanced over `categories` (each block of |categories| rows holds each once). */
function generatePart(
  categories: readonly CategorySpec[],
  part: Part,
  count: number,
  pools: Map<string, Record<Part, string[]>>,
  noise: number,
  rng: Rng,
): TransactionRecord[] {
  const specs = new Map(categories.map((c) => [c.name, c]));
  const rows: TransactionRecord[] = [];
  while (rows.length < count) {
    for (const spec of rng.shuffle(categories)) {
      if (rows.length === count) break;
      rows.push(makeRow(spec, part, pools, specs, noise, rng));
    }
  }
  return rows;
}

/**
 * Train and eval transactions over `categories` (a subset of `taxonomy`, whose full name space
 * fixes the merchant partition). The same options give the same rows.
 */
export function generateTransactions(
  taxonomy: readonly CategorySpec[],
  categories: readonly CategorySpec[],
  o: GenerateOptions,
): Record<Part, TransactionRecord[]> {
  if (!(o.noise >= 0 && o.noise <= 1)) throw new Error(`noise must be in [0, 1], got ${o.noise}`);
  if (categories.length === 0) throw new Error('generateTransactions: no categories');
  const pools = partitionMerchants(taxonomy, o.seed);
  return {
    train: generatePart(categories, 'train', o.train, pools, o.noise, new Rng(deriveSeed(o.seed, 'synthetic:train'))),
    eval: generatePart(categories, 'eval', o.eval, pools, o.noise, new Rng(deriveSeed(o.seed, 'synthetic:eval'))),
  };
}
