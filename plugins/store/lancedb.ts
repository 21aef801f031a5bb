/**
 * store `lancedb`: documents and vectors in a LanceDB database on disk (@lancedb/lancedb), one
 * table per model per run named `<runId>__<name>`. Search is exact (a flat scan with cosine
 * distance: no ANN index is built, and `bypassVectorIndex` makes sure none is used), so results
 * equal the `memory` store's; score = 1 − cosine distance. An existing table is never replaced,
 * except by `ftrun resume` of the run that made it (the tables carry the run id).
 */
import type { Connection, Table } from '@lancedb/lancedb';
import { join } from 'node:path';
import { UserError } from '../../core/errors.js';
import { creatableProblem } from '../../core/fsutil.js';
import { LANCEDB_DIR } from '../../core/run/records.js';
import { definePlugin } from '../../core/plugin.js';
import type { CheckContext, Doc, OptionProblem, RunContext, SearchHit, StorePlugin } from '../../core/types.js';
import { checkVectors } from './memory.js';

export interface LanceDbStoreOptions {
  uri?: string;
  metric: 'cosine';
}

/** Rows fetched beyond k, so that ties at the cut-off are broken by corpus order. */
const TIE_MARGIN = 8;

/** LanceDB table names allow letters, digits, `_`, `-` and `.`; anything else becomes `_`. */
export function tableName(runId: string, name: string): string {
  return `${runId}__${name}`.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/**
 * A LanceDB call whose failure reads as ftrun's: what it was doing, the database, and the first
 * line of LanceDB's reason — not its Rust "Caused by" chain and build paths.
 */
async function lance<T>(uri: string, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const raw = e instanceof Error ? e.message : String(e);
    const first = raw.split('\n')[0]!.replace(/,?\s*\/(?:build|home|root|rustc|cargo)\/\S+/g, '').replace(/\s*Caused by:.*$/s, '').trim();
    throw new Error(`store lancedb: cannot ${what} in ${uri}: ${first || raw}`, { cause: e });
  }
}

export default definePlugin({
  stage: 'store',
  type: 'lancedb',
  description: 'LanceDB on disk: one table per model per run, exact cosine search.',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      uri: { type: 'string', minLength: 1, format: 'path', description: 'Database directory (default: <run dir>/lancedb); relative to the file that writes it.' },
      metric: { type: 'string', enum: ['cosine'], default: 'cosine', description: 'Distance metric; cosine only.' },
    },
  },

  /** A `uri` that exists as a file (or lies below one) cannot hold a database. */
  check(options: Record<string, unknown>, ctx: CheckContext): OptionProblem[] {
    if (typeof options.uri !== 'string') return [];
    const why = creatableProblem(ctx.resolvePath(options.uri), 'dir');
    return why ? [{ path: ['uri'], message: `cannot hold the database: ${why}` }] : [];
  },

  create: (options: LanceDbStoreOptions, ctx: RunContext) => new LanceDbStore(options, ctx),
});

class LanceDbStore implements StorePlugin {
  private db: Connection | undefined;
  private readonly tables = new Map<string, Table>();

  constructor(
    private readonly options: LanceDbStoreOptions,
    private readonly ctx: RunContext,
  ) {}

  /** The database directory. */
  get uri(): string {
    return this.options.uri !== undefined ? this.ctx.resolvePath(this.options.uri) : join(this.ctx.runDir, LANCEDB_DIR);
  }

  private async connection(): Promise<Connection> {
    // LanceDB (a native module) loads when a run first opens its database, not when validation reads the schema.
    this.db ??= await lance(this.uri, 'open the database', async () => (await import('@lancedb/lancedb')).connect(this.uri));
    return this.db;
  }

  async index(name: string, docs: Doc[], vectors: Float32Array[]): Promise<void> {
    const dim = checkVectors('lancedb', name, docs, vectors);
    const db = await this.connection();
    const tname = tableName(this.ctx.runId, name);
    const exists = this.tables.has(name) || (await db.tableNames()).includes(tname);
    // A resumed run rebuilds its own tables (named by its run id), left by the attempt it continues.
    if (exists && !this.ctx.resumed) {
      throw new UserError('E_RUN', `store lancedb: table "${tname}" already exists in ${this.uri}; it belongs to another run and is not replaced`);
    }
    const { Field, FixedSizeList, Float32, Int32, Schema, Utf8 } = await import('apache-arrow');
    const schema = new Schema([
      new Field('id', new Utf8(), false),
      new Field('ord', new Int32(), false),
      new Field('vector', new FixedSizeList(dim, new Field('item', new Float32(), true)), false),
    ]);
    const rows = docs.map((d, i) => ({ id: d.id, ord: i, vector: Array.from(vectors[i]!) }));
    const table = await lance(this.uri, `write table ${tname}`, () => db.createTable(tname, rows, { schema, mode: exists ? 'overwrite' : 'create' }));
    this.tables.set(name, table);
  }

  async search(name: string, queries: Float32Array[], k: number): Promise<SearchHit[][]> {
    const table = this.tables.get(name);
    if (!table) throw new Error(`store lancedb: no table "${name}" indexed in this run`);
    const out: SearchHit[][] = [];
    for (const q of queries) {
      const rows = (await lance(this.uri, `search table of ${name}`, () =>
        table.vectorSearch(Array.from(q)).distanceType('cosine').bypassVectorIndex().select(['id', 'ord', '_distance']).limit(k + TIE_MARGIN).toArray(),
      )) as Array<{ id: string; ord: number; _distance: number }>;
      // exact ties (duplicate documents) come back in no fixed order: order them by corpus
      // position, like `memory`; the extra rows let a tie that straddles the cut-off resolve too
      rows.sort((a, b) => a._distance - b._distance || a.ord - b.ord);
      out.push(rows.slice(0, k).map((r) => ({ id: r.id, score: 1 - r._distance })));
    }
    return out;
  }

  async close(): Promise<void> {
    for (const t of this.tables.values()) if (t.isOpen()) t.close();
    this.tables.clear();
    if (this.db?.isOpen()) this.db.close();
    this.db = undefined;
  }
}
