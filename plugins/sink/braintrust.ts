/**
 * Sink `braintrust`: each evaluated model becomes one Braintrust experiment, as the reference
 * notebook logged its evaluations: `<name>-base` and `<name>-finetuned` (and `<name>-merged` with
 * training.merge) (`<name>-t<N>-…` for
 * sweep trial N), one row per eval query — input (the query), expected (the relevant ids), output
 * (the ranked ids with their scores), a score per metric (`mrr@1`, `recall@3`, … in [0, 1]) and
 * metadata (model, run id, config hash, query id). The fine-tuned experiment names the base one
 * as its comparison baseline; the training curve (test-split metrics and loss by step) and the
 * training summary go into its metadata. With evaluation sets (`evaluate.sets`), the model's
 * experiment also gets a row per query of each set, its scores named `<set>/<metric>`
 * (`general/mrr@1`: Braintrust averages them apart from the primary set's) and `set` in its
 * metadata; the experiment's metadata has each set's metrics (`sets`).
 *
 * The API key comes only from the environment (BRAINTRUST_API_KEY): it is not an option, so it is
 * never written to the run directory. Without a key the sink says so once and sends nothing.
 * Sending happens when the run ends, bounded by `timeout_s`; a network failure, a 4xx/5xx or a
 * timeout is a warning naming the sink (the run and its directory are complete either way); rows
 * the SDK could not send count as a failure too (it would drop them silently).
 */
import { createHash } from 'node:crypto';
import { definePlugin } from '../../core/plugin.js';
import { redactUrl } from '../../core/url.js';
import type { QueryResult, RunContext, RunEvent, RunSummary, SinkPlugin } from '../../core/types.js';
import { connect, within, type Connection } from '../common/braintrust.js';

export interface BraintrustSinkOptions {
  project: string;
  experiment?: string;
  app_url?: string;
  timeout_s: number;
}

interface Evaluated {
  model: string;
  perQuery: QueryResult[];
  summary: Record<string, number>;
  /** The model's evaluations on `evaluate.sets`. */
  sets: Array<{ set: string; perQuery: QueryResult[]; summary: Record<string, number> }>;
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

export default definePlugin({
  stage: 'sink',
  type: 'braintrust',
  description: 'Logs each evaluated model as a Braintrust experiment (one row per eval query, a score per metric; fine-tuned compared to base).',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['project'],
    properties: {
      project: { type: 'string', minLength: 1, description: 'Braintrust project (created when missing).' },
      experiment: { type: 'string', minLength: 1, description: 'Experiment name prefix (default: the experiment name); `-base` / `-finetuned` (`-merged`) is appended.' },
      app_url: { type: 'string', minLength: 1, description: 'Braintrust app URL (default: $BRAINTRUST_APP_URL, else https://www.braintrust.dev).' },
      timeout_s: { type: 'number', exclusiveMinimum: 0, default: 60, description: 'Longest the sink may take to send everything at the end of the run.' },
    },
  },
  create: (options: BraintrustSinkOptions, ctx: RunContext) => new BraintrustSink(options, ctx),
});

class BraintrustSink implements SinkPlugin {
  private readonly evaluated: Evaluated[] = [];
  private readonly curve: Array<Record<string, unknown>> = [];
  private configHash = '';

  constructor(
    private readonly options: BraintrustSinkOptions,
    private readonly ctx: RunContext,
  ) {}

  logConfig(config: Record<string, unknown>): void {
    this.configHash = createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);
  }

  log(event: RunEvent): void {
    if (event.type === 'train_eval') this.curve.push({ step: event.step, epoch: event.epoch, ...event.metrics });
    else if (event.type === 'train_step' && event.step % 10 === 0) this.curve.push({ step: event.step, epoch: event.epoch, loss: round(event.loss), lr: event.lr });
  }

  logEval(model: string, perQuery: QueryResult[], summary: Record<string, number>): void {
    this.evaluated.push({ model, perQuery, summary, sets: [] });
  }

  logEvalSet(set: string, model: string, perQuery: QueryResult[], summary: Record<string, number>): void {
    const ev = this.evaluated.find((e) => e.model === model);
    if (ev) ev.sets.push({ set, perQuery, summary });
  }

  async close(summary: RunSummary): Promise<void> {
    if (this.evaluated.length === 0) return;
    const apiKey = process.env.BRAINTRUST_API_KEY;
    if (!apiKey) {
      this.ctx.logger.warn('sink braintrust: BRAINTRUST_API_KEY is not set, so nothing was sent (the run directory has every result)');
      return;
    }
    const bt = await connect(apiKey, this.options.app_url);
    try {
      const links = await within(this.options.timeout_s, bt.abort, this.send(summary, apiKey, bt));
      if (!this.ctx.quiet) for (const [name, url] of links) this.ctx.write(`braintrust: ${name} ${redactUrl(url)}\n`);
    } catch (e) {
      bt.abort();
      this.ctx.logger.warn(redactUrl(`sink braintrust: could not send to ${bt.appUrl} (project ${this.options.project}): ${e instanceof Error ? e.message : String(e)}; the run directory has every result`));
    }
  }

  /** One experiment per evaluated model, base first (the others name it as their baseline); returns [name, url] links. */
  private async send(summary: RunSummary, apiKey: string, { sdk, state, appUrl, takeFlushErrors }: Connection): Promise<Array<[string, string]>> {
    const trial = this.ctx.trial?.index ?? /-t(\d+)$/.exec(this.ctx.runId)?.[1];
    const prefix = `${this.options.experiment ?? summary.name}${trial ? `-t${trial}` : ''}`;
    const order = [...this.evaluated].sort((a, b) => (a.model === 'base' ? -1 : b.model === 'base' ? 1 : 0));
    const links: Array<[string, string]> = [];
    let baseId: string | undefined;
    for (const ev of order) {
      const name = `${prefix}-${ev.model}`;
      const metadata: Record<string, unknown> = { model: ev.model, run_id: this.ctx.runId, config_hash: this.configHash, run_dir: summary.runDir, primary: summary.primary, metrics: ev.summary };
      if (ev.sets.length) Object.assign(metadata, { primary_set: summary.primarySet, sets: Object.fromEntries(ev.sets.map((s) => [s.set, s.summary])) });
      if (this.ctx.trial) metadata.trial = this.ctx.trial;
      if (ev.model !== 'base' && summary.training) metadata.training = { ...summary.training, curve: this.curve };
      const experiment = sdk.init({
        project: this.options.project,
        experiment: name,
        apiKey,
        appUrl,
        state,
        setCurrent: false,
        metadata,
        ...(ev.model !== 'base' && baseId ? { baseExperimentId: baseId } : {}),
      });
      const rows = [{ perQuery: ev.perQuery }, ...ev.sets];
      for (const { perQuery, set } of rows as Array<{ perQuery: QueryResult[]; set?: string }>) {
        for (const r of perQuery) {
          experiment.log({
            input: r.text,
            expected: r.expected,
            output: r.top.map((h) => ({ id: h.id, score: round(h.score) })),
            scores: set === undefined ? r.metrics : Object.fromEntries(Object.entries(r.metrics).map(([k, v]) => [`${set}/${k}`, v])),
            metadata: { model: ev.model, ...(set !== undefined ? { set } : {}), query_id: r.queryId, run_id: this.ctx.runId, config_hash: this.configHash, ...(this.ctx.trial ? { trial: this.ctx.trial.overrides } : {}) },
          });
        }
      }
      const s = await experiment.summarize({ summarizeScores: false });
      await experiment.flush();
      // The SDK drops rows it could not send and resolves anyway: ask what failed.
      const failed = takeFlushErrors();
      if (failed.length) throw new Error(failed[0]);
      if (ev.model === 'base') baseId = s.experimentId;
      links.push([name, s.experimentUrl ?? s.experimentName]);
    }
    return links;
  }
}
