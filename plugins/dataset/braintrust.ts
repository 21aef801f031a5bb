/**
 * dataset `braintrust`: the queries of a Braintrust dataset, read as the reference notebook's
 * `init_dataset` does — each record's `input` (the query text), `expected` (the relevant id or
 * ids) and `metadata` (its fields reach splitters, so `splitter: { type: field, field: split }`
 * splits on `metadata.split`). The corpus is the sorted expected labels. The API key comes from
 * BRAINTRUST_API_KEY only; `ftrun dataset push` puts a local JSONL file there.
 */
import { UserError } from '../../core/errors.js';
import { definePlugin } from '../../core/plugin.js';
import { redactUrl } from '../../core/url.js';
import type { DatasetData, DatasetPlugin, OptionProblem, Query, RunContext } from '../../core/types.js';
import { apiKey, appUrlOf, openDataset, within } from '../common/braintrust.js';

export interface BraintrustDatasetOptions {
  project: string;
  name: string;
  version?: string;
  app_url?: string;
  timeout_s: number;
}

export default definePlugin({
  stage: 'dataset',
  type: 'braintrust',
  description: 'Queries from a Braintrust dataset (input, expected, metadata.split); corpus: the expected labels.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['project', 'name'],
    properties: {
      project: { type: 'string', minLength: 1, description: 'Braintrust project.' },
      name: { type: 'string', minLength: 1, description: 'Dataset name.' },
      version: { type: 'string', minLength: 1, description: 'Dataset version (default: the latest).' },
      app_url: { type: 'string', minLength: 1, description: 'Braintrust app URL (default: $BRAINTRUST_APP_URL, else https://www.braintrust.dev).' },
      timeout_s: { type: 'number', exclusiveMinimum: 0, default: 120, description: 'Longest the download may take.' },
    },
  },

  /** The key must be in the environment before anything runs. */
  check(): OptionProblem[] {
    return process.env.BRAINTRUST_API_KEY ? [] : [{ path: [], message: 'BRAINTRUST_API_KEY is not set: the braintrust dataset needs it (the key comes from the environment only)' }];
  },

  create: (options: BraintrustDatasetOptions, ctx: RunContext) => new BraintrustDataset(options, ctx),
});

class BraintrustDataset implements DatasetPlugin {
  constructor(
    private readonly options: BraintrustDatasetOptions,
    private readonly ctx: RunContext,
  ) {}

  async load(): Promise<DatasetData> {
    const o = this.options;
    const where = `braintrust dataset ${o.project}/${o.name} (${redactUrl(appUrlOf(o.app_url))})`;
    const { dataset, abort } = await openDataset({ project: o.project, name: o.name, ...(o.app_url ? { appUrl: o.app_url } : {}) }, apiKey('dataset'), o.version ? { version: o.version } : {});
    const records: Array<Record<string, unknown>> = [];
    try {
      await within(o.timeout_s, abort, (async () => {
        for await (const r of dataset.fetch()) records.push(r as unknown as Record<string, unknown>);
      })());
    } catch (e) {
      throw new Error(redactUrl(`could not read ${where}: ${e instanceof Error ? e.message : String(e)}`), { cause: e });
    }
    if (records.length === 0) throw new UserError('E_DATA', `dataset: ${where} has no records`);
    const queries = records.map((r, i): Query => {
      const id = typeof r.id === 'string' ? r.id : `braintrust:${i + 1}`;
      const input = r.input;
      const expected = r.expected;
      const text = typeof input === 'string' ? input : JSON.stringify(input);
      const relevant = typeof expected === 'string' ? [expected] : Array.isArray(expected) && expected.every((x) => typeof x === 'string') ? (expected as string[]) : undefined;
      if (!text || relevant === undefined || relevant.length === 0) {
        throw new UserError('E_DATA', `dataset: record ${id} of ${where} needs an input and an expected id (a string or a list of strings); got expected ${JSON.stringify(expected)}`);
      }
      const metadata = (typeof r.metadata === 'object' && r.metadata !== null ? r.metadata : {}) as Record<string, unknown>;
      return { id, text, relevant, label: relevant[0]!, fields: { ...metadata, metadata, id } };
    });
    const labels = [...new Set(queries.flatMap((q) => q.relevant))].sort();
    this.ctx.logger.debug(`dataset braintrust: ${queries.length} records from ${where}`);
    return { queries, corpus: labels.map((l) => ({ id: l, text: l })) };
  }
}
