/**
 * `evaluate.sets`: more evaluation sets beside the primary one (the dataset's eval queries), e.g. a
 * general set that shows whether fine-tuning on a domain made the model forget the rest. Each set
 * is a dataset entry, built and checked like `dataset:`; all its queries are eval queries (its
 * `eval` queries when it has them), searched in its own corpus. Every model that evaluate()
 * scores is scored on each set too: metrics.json `sets.<set>.<model>`, per_query.jsonl rows and
 * `eval` events with `set`, and the sinks' logEvalSet.
 */
import { PRIMARY_SET_DEFAULT } from '../config/envelope.js';
import { UserError } from '../errors.js';
import type { DatasetPlugin, Doc, Encoder, Query } from '../types.js';
import { checkData } from './data-checks.js';
import { evaluateModel } from './evaluate.js';
import { callPlugin } from './plugin-errors.js';
import { appendPerQuery, entryRef, timed, type Run } from './stages.js';
import { round } from './training.js';

/** The dataset plugin of one evaluation set. */
export interface EvalSetPlugin {
  name: string;
  plugin: DatasetPlugin;
}

/** One evaluation set, loaded: its eval queries and its corpus. */
export interface EvalSet {
  name: string;
  queries: Query[];
  corpus: Doc[];
}

/** `evaluate.sets.<name>`: where a set is configured. */
const setPath = (name: string) => `evaluate.sets.${name}`;

/** The dataset plugin of each evaluation set (built with the run's other plugins, before any data loads). */
export async function openEvalSets(run: Run): Promise<EvalSetPlugin[]> {
  const out: EvalSetPlugin[] = [];
  for (const [name, entry] of Object.entries(run.config.evaluate.sets ?? {})) {
    out.push({ name, plugin: await callPlugin(entryRef(run, setPath(name), entry), 'create', () => run.res.make('dataset', entry)) });
  }
  return out;
}

/**
 * A dataset plugin names its option (`dataset.queries: file not found: …`); of a set's plugin, that
 * option is the set's: `evaluate.sets.<name>.queries`, so the error is located there.
 */
export function asSetError(e: unknown, name: string): unknown {
  if (!(e instanceof UserError) || !e.message.startsWith('dataset.')) return e;
  return new UserError(e.code, `${setPath(name)}.${e.message.slice('dataset.'.length)}`, { problems: e.problems, cause: e });
}

/** Load every evaluation set and check it as the dataset is checked; the summary names the primary set. */
export async function loadEvalSets(run: Run, plugins: EvalSetPlugin[]): Promise<EvalSet[]> {
  if (plugins.length === 0) return [];
  run.summary.primarySet = run.config.evaluate.name ?? PRIMARY_SET_DEFAULT;
  run.summary.sets = {};
  const sets: EvalSet[] = [];
  for (const { name, plugin } of plugins) {
    const at = setPath(name);
    const ref = entryRef(run, at, run.config.evaluate.sets![name]!);
    const data = await timed(run, `dataset_${name}`, at, () =>
      callPlugin(ref, 'load', async () => {
        try {
          return await plugin.load();
        } catch (e) {
          throw asSetError(e, name);
        }
      }),
    );
    const queries = data.eval ?? data.queries;
    checkData(run.config, run.loaded, { queries, corpus: data.corpus }, ['evaluate', 'sets', name]);
    sets.push({ name, queries, corpus: data.corpus });
    run.summary.sets[name] = {};
    run.ctx.logger.info(`evaluation set ${name}: ${queries.length} eval queries, ${data.corpus.length} documents`);
  }
  return sets;
}

/** Evaluate `model` on each evaluation set (after the primary set), recording it per set. */
export async function evaluateOnSets(run: Run, model: string, encoder: Encoder, sets: EvalSet[]): Promise<void> {
  const { config, ctx, summary } = run;
  // evaluate.dims is reported for the primary set only.
  const { dims: _dims, ...evaluate } = config.evaluate;
  for (const set of sets) {
    ctx.logger.info(`evaluating ${model} on ${set.name} (${set.queries.length} queries)…`);
    const result = await timed(run, `evaluate_${model}_${set.name}`, 'store', () => evaluateModel(`${model} [${set.name}]`, encoder, run.res.store!, set.corpus, set.queries, evaluate, ctx));
    for (const [k, v] of Object.entries(result.timings)) run.timings[`${model}_${set.name}_${k}`] = round(v, 4);
    ((summary.sets ??= {})[set.name] ??= {})[model] = result.summary;
    appendPerQuery(ctx.runDir, model, result.perQuery, set.name);
    for (const s of run.res.sinks) await callPlugin(s.ref, 'logEvalSet', () => s.sink.logEvalSet?.(set.name, model, result.perQuery, result.summary));
    await run.events.emit('eval', { model, set: set.name, metrics: result.summary });
  }
}
