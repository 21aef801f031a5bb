/**
 * The stages of a run, one function each, in the order runExperiment calls them: open the sinks
 * and the backend, load and split the data, mine training examples, evaluate the base model,
 * train and evaluate the tuned one. Each stage reads what it needs from the Run, borrows plugins
 * and encoders from the run's RunResources, and records what it produced in the run's summary,
 * env and events.
 */
import { join } from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import { MODEL_SOURCES } from '../config/envelope.js';
import { redactConfig } from '../config/output.js';
import type { ExperimentConfig, StageConfig } from '../config/types.js';
import { UserError } from '../errors.js';
import { appendJsonl } from '../fsutil.js';
import type { Registry } from '../registry.js';
import { methodOf } from '../train/methods.js';
import { negativesOf } from '../train/columns.js';
import type { LossPlugin } from '../train/loss.js';
import type {
  BackendPlugin, DatasetData, QueryResult, DatasetPlugin, DatasetServices, Encoder, Examples, MinerPlugin, ModelSpec, RunContext, RunSummary, SplitResult, SplitterPlugin, StageName, StagePlugins, StorePlugin, TrainLoss, TrainResult,
} from '../types.js';
import { checkData, checkEarlyStoppingSplit, checkTrainingNegatives } from './data-checks.js';
import { evaluateModel } from './evaluate.js';
import { evaluateOnSets, loadEvalSets, openEvalSets, type EvalSet, type EvalSetPlugin } from './eval-sets.js';
import type { RunEvents } from './events.js';
import { PER_QUERY_JSONL, type PerQuery, type RunEnv } from './records.js';
import { locateError } from './locate-error.js';
import { callPlugin, namePluginError, pluginLabel, type PluginEntryRef } from './plugin-errors.js';
import type { RunResources } from './resources.js';
import { describeTrainingEval, round, train, trainingSummary, tunedEncoder } from './training.js';
import type { Pruner } from '../train/early-stopping.js';

/** Thrown when the run's signal is aborted (Ctrl-C, SIGTERM) between or inside stages. */
export class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

/** One run in progress: its request, context, records and resources. */
export interface Run {
  config: ExperimentConfig;
  loaded: LoadedConfig;
  registry: Registry;
  ctx: RunContext;
  /** env.json, as it will be written. */
  env: RunEnv;
  summary: RunSummary;
  timings: Record<string, number>;
  events: RunEvents;
  res: RunResources;
  /** `evaluate.sets`, loaded by loadData: every model evaluate() scores is scored on each. */
  evalSets?: EvalSet[];
  /** A sweep trial's stopping rule (sweep.stop), asked after each evaluation during training. */
  prune?: Pruner;
}

/** Run a timed stage; user errors get the location of `configPath` (the stage's config key). */
export async function timed<T>(run: Run, name: string, configPath: string, fn: () => Promise<T> | T): Promise<T> {
  if (run.ctx.signal.aborted) throw new Interrupted();
  const t0 = performance.now();
  await run.events.emit('stage_start', { stage: name });
  let out: T;
  try {
    out = await fn();
  } catch (e) {
    throw locateError(e, run.loaded, configPath);
  }
  run.timings[name] = round((performance.now() - t0) / 1000, 4);
  await run.events.emit('stage_end', { stage: name, seconds: run.timings[name]! });
  if (run.ctx.signal.aborted) throw new Interrupted();
  return out;
}

/** The plugin entry at `at` (`dataset`, `sinks[1]`) of the run's config, for naming its failures. */
export function entryRef(run: Pick<Run, 'loaded'>, at: string, entry: StageConfig): PluginEntryRef {
  return { loaded: run.loaded, at, type: entry.type };
}

/** The sinks, told the config; then the run's first event. */
export async function openSinks(run: Run): Promise<void> {
  for (const [i, entry] of run.config.sinks.entries()) {
    const ref = entryRef(run, `sinks[${i}]`, entry);
    const named = { name: pluginLabel(run.loaded, ref.at, ref.type), ref, sink: await callPlugin(ref, 'create', () => run.res.make('sink', entry)) };
    run.res.sinks.push(named);
    run.events.addSink(named);
  }
  const config = redactConfig(run.config, run.loaded);
  for (const s of run.res.sinks) await callPlugin(s.ref, 'logConfig', () => s.sink.logConfig?.(config));
  await run.events.emit(run.ctx.resumed ? 'run_resume' : 'run_start', { run_id: run.ctx.runId, name: run.config.name });
}

/** Every stage's plugin of the run, built before any data loads. */
export interface RunPlugins {
  backend: BackendPlugin;
  dataset: DatasetPlugin;
  splitter: SplitterPlugin;
  miner: MinerPlugin;
  /** Present when the training method trains. */
  loss?: LossPlugin;
  store: StorePlugin;
  /** `evaluate.sets`: each set's dataset plugin. */
  sets?: EvalSetPlugin[];
}

/**
 * Build every plugin before any data loads, the backend first: what a constructor refuses (e.g. an
 * execution provider that is not installed) fails the run at once, located at its section.
 */
export async function openPlugins(run: Run): Promise<RunPlugins> {
  const { config } = run;
  const make = <S extends StageName>(stage: S, entry: StageConfig, at: string): Promise<StagePlugins[S]> => callPlugin(entryRef(run, at, entry), 'create', () => run.res.make(stage, entry));
  const backend = await make('backend', config.backend, 'backend');
  const plugins: RunPlugins = {
    backend,
    dataset: await make('dataset', config.dataset, 'dataset'),
    splitter: await make('splitter', config.splitter, 'splitter'),
    miner: await make('miner', config.miner, 'miner'),
    store: await make('store', config.store, 'store'),
  };
  if (methodOf(config).trains && config.loss) plugins.loss = await make('loss', config.loss, 'loss');
  plugins.sets = await openEvalSets(run);
  run.res.store = plugins.store;
  return plugins;
}

/** Load the dataset, check it against the config, split it. */
export async function loadData(run: Run, plugins: RunPlugins): Promise<{ data: DatasetData; split: SplitResult }> {
  const services: DatasetServices = {
    loadEncoder: (spec, name, where) => loadEncoder(run, plugins.backend, name, spec, where),
    release: (encoder) => run.res.release(encoder),
  };
  const data = await timed(run, 'dataset', 'dataset', () => callPlugin(entryRef(run, 'dataset', run.config.dataset), 'load', () => plugins.dataset.load(services)));
  const info = plugins.dataset.info?.();
  if (info !== undefined) run.env.dataset = info;
  checkData(run.config, run.loaded, data);
  const split = await timed(run, 'split', 'splitter', () => callPlugin(entryRef(run, 'splitter', run.config.splitter), 'split', () => plugins.splitter.split(data)));
  checkTrainingNegatives(run.config, run.loaded, run.registry, split.train);
  checkEarlyStoppingSplit(run.config, run.loaded, split.test);
  await run.events.emit('split', { train: split.train.length, test: split.test.length, eval: split.eval.length, corpus: data.corpus.length });
  run.ctx.logger.info(`data: ${split.train.length} train / ${split.test.length} test / ${split.eval.length} eval queries, ${data.corpus.length} documents`);
  run.evalSets = await loadEvalSets(run, plugins.sets ?? []);
  return { data, split };
}

/** Where the base model is configured, for locating load errors. */
const baseWhere = (config: ExperimentConfig) => {
  const source = MODEL_SOURCES.find((k) => config.model[k] !== undefined);
  return source ? `model.${source}` : 'model';
};

/** Where a miner's own model (`miner.model`) is configured, for locating load errors. */
const minerWhere = (spec: ModelSpec) => {
  const source = MODEL_SOURCES.find((k) => spec[k] !== undefined);
  return source ? `miner.model.${source}` : 'miner.model';
};

/** Load an encoder (timed, tracked, recorded in env.json). */
export async function loadEncoder(run: Run, backend: BackendPlugin, model: string, spec: ModelSpec, where: string): Promise<Encoder> {
  // A failure names the backend; a user error is located at `where` (the model source) by timed().
  const encoder = await timed(run, `load_${model}`, where, async () => {
    try {
      return await backend.loadEncoder(spec, model);
    } catch (e) {
      throw e instanceof UserError ? e : namePluginError(e, entryRef(run, 'backend', run.config.backend), 'loadEncoder');
    }
  });
  run.env.encoders[model] = encoder.info;
  return run.res.track(encoder);
}

/** How many examples hold each number of negatives (negative_1 … negative_n, or one negative), by that number, ascending: `{"3": 186}`. */
export function negativeCounts(examples: Examples): Record<string, number> {
  const counts = new Map<number, number>();
  for (const e of examples.items) {
    const n = negativesOf(e).length;
    counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  return Object.fromEntries([...counts].sort((a, b) => a[0] - b[0]).map(([n, c]) => [String(n), c]));
}

/**
 * Mine training examples, and check before any model is evaluated that training can form a batch.
 * A miner that ranks with an encoder (`needsEncoder`) gets the model of its `model:` option (a
 * model spec; env.json encoders `miner`, released after mining) or else the base model's encoder,
 * which is then returned for reuse.
 */
export async function mineExamples(run: Run, plugins: RunPlugins, data: DatasetData, split: SplitResult): Promise<{ examples: Examples; baseEncoder?: Encoder }> {
  const { config } = run;
  const ranks = run.registry.get('miner', config.miner.type)?.needsEncoder === true;
  const own = ranks ? (config.miner as { model?: ModelSpec }).model : undefined;
  const minerEncoder = own ? await loadEncoder(run, plugins.backend, 'miner', own, minerWhere(own)) : undefined;
  const baseEncoder = ranks && !own ? await loadEncoder(run, plugins.backend, 'base', config.model, baseWhere(config)) : undefined;
  const encoder = minerEncoder ?? baseEncoder;
  const examples = await timed(run, 'mine', 'miner', () => callPlugin(entryRef(run, 'miner', config.miner), 'mine', () => plugins.miner.mine(split.train, data.corpus, encoder)));
  if (minerEncoder) await run.res.release(minerEncoder);
  const negatives = negativeCounts(examples);
  await run.events.emit('mined', { examples: examples.items.length, shapes: examples.shapes, negatives, ...(examples.stats ? { stats: examples.stats } : {}) });
  const withN = Object.entries(negatives).map(([n, count]) => `${count} with ${n} negative${n === '1' ? '' : 's'}`);
  run.ctx.logger.info(`miner ${config.miner.type}: ${examples.items.length} training example${examples.items.length === 1 ? '' : 's'}${withN.length ? ` (${withN.join(', ')})` : ''}`);
  const batchSize = (config.training as { batch_size?: number }).batch_size;
  if (methodOf(config).trains && batchSize !== undefined && examples.items.length < batchSize) {
    const n = examples.items.length;
    throw locateError(
      new UserError('E_CONFIG', `training.batch_size: ${batchSize} is more than the ${n} training example${n === 1 ? '' : 's'} the miner made, so not one batch can be formed; lower training.batch_size or add training data`),
      run.loaded,
      'training',
    );
  }
  return { examples, ...(baseEncoder ? { baseEncoder } : {}) };
}

/**
 * A loss with a guide model (`gist`): the guide never changes, so every text of the training examples
 * is embedded with it once, before training (anchors as queries, positives and negatives as
 * documents, with the model's prompts unless the guide sets its own), and the loss gets the vectors
 * (LossGuide.vectors; the loss seam hands each batch its rows). The guide is the base model unless the
 * loss names another (env.json encoders `guide`, released at once). The base encoder is reused when
 * loaded, and returned still loaded when it was loaded here and the base model is needed later.
 */
export async function embedGuide(run: Run, plugins: RunPlugins, examples: Examples, baseEncoder?: Encoder): Promise<Encoder | undefined> {
  const guide = plugins.loss?.guide;
  if (!guide) return baseEncoder;
  const { config } = run;
  const own = guide.model;
  let encoder: Encoder;
  let kept = baseEncoder;
  if (own) {
    const spec = { ...own, query_prompt: own.query_prompt ?? config.model.query_prompt, document_prompt: own.document_prompt ?? config.model.document_prompt } as ModelSpec;
    const source = MODEL_SOURCES.find((k) => spec[k] !== undefined);
    encoder = await loadEncoder(run, plugins.backend, 'guide', spec, source ? `${guide.at}.${source}` : guide.at);
  } else if (baseEncoder) {
    encoder = baseEncoder;
  } else {
    encoder = await loadEncoder(run, plugins.backend, 'base', config.model, baseWhere(config));
    if (config.evaluate.compare.includes('base') || methodOf(config).keepsBaseEncoder) kept = encoder;
  }
  const query = new Set<string>();
  const document = new Set<string>();
  for (const e of examples.items) {
    query.add(e.anchor);
    if (e.positive !== undefined) document.add(e.positive);
    for (const n of negativesOf(e)) document.add(n);
  }
  guide.vectors = await timed(run, 'embed_guide', guide.at, async () => {
    const embed = async (texts: Set<string>, kind: 'query' | 'document') => {
      const list = [...texts];
      const vectors = list.length ? await encoder.encode(list, { kind }) : [];
      return new Map(list.map((t, i) => [t, vectors[i]!]));
    };
    const q = await embed(query, 'query');
    const d = await embed(document, 'document');
    return { dim: q.values().next().value?.length ?? encoder.dim, query: q, document: d };
  });
  run.ctx.logger.info(`guide (${own ? guide.at : 'the base model'}): embedded ${query.size} queries and ${document.size} documents of the training examples`);
  if (encoder !== kept) await run.res.release(encoder);
  return kept;
}

/** Append a model's per-query results to per_query.jsonl (`set`: the evaluation set, when not the primary one). */
export function appendPerQuery(runDir: string, model: string, perQuery: readonly QueryResult[], set?: string): void {
  for (const r of perQuery) {
    appendJsonl(join(runDir, PER_QUERY_JSONL), {
      model,
      ...(set !== undefined ? { set } : {}),
      query_id: r.queryId,
      text: r.text,
      expected: r.expected,
      top: r.top.map((h) => ({ id: h.id, score: round(h.score, 6) })),
      metrics: r.metrics,
    } satisfies PerQuery);
  }
}

/** Evaluate one model (`base`, `finetuned`) on the eval queries; record it; release its encoder unless kept. */
export async function evaluate(run: Run, model: string, encoder: Encoder, data: DatasetData, split: SplitResult, opts: { keep?: boolean } = {}): Promise<void> {
  const { config, ctx, summary } = run;
  ctx.logger.info(`evaluating ${model} on ${split.eval.length} queries…`);
  const store = run.res.store!;
  const result = await timed(run, `evaluate_${model}`, 'store', () => evaluateModel(model, encoder, store, data.corpus, split.eval, config.evaluate, ctx));
  for (const [k, v] of Object.entries(result.timings)) run.timings[`${model}_${k}`] = round(v, 4);
  summary.models[model] = result.summary;
  if (result.dims) {
    (summary.dims ??= {})[model] = result.dims;
    const primary = config.evaluate.primary;
    for (const [d, m] of Object.entries(result.dims)) ctx.logger.info(`${model} at dim ${d}: ${primary} ${m[primary] !== undefined ? round(m[primary]!, 4) : 'n/a'}`);
  }
  appendPerQuery(ctx.runDir, model, result.perQuery);
  for (const s of run.res.sinks) await callPlugin(s.ref, 'logEval', () => s.sink.logEval?.(model, result.perQuery, result.summary));
  await run.events.emit('eval', { model, metrics: result.summary });
  await evaluateOnSets(run, model, encoder, run.evalSets ?? []);
  if (!opts.keep) await run.res.release(encoder);
}

/**
 * The base model, as `evaluate.compare` asks: evaluated when listed; kept loaded when the training
 * method trains on top of it (adapters). Returns the base encoder still held, if any.
 */
export async function evaluateBase(run: Run, backend: BackendPlugin, data: DatasetData, split: SplitResult, baseEncoder?: Encoder): Promise<Encoder | undefined> {
  const keep = methodOf(run.config).keepsBaseEncoder;
  if (run.config.evaluate.compare.includes('base')) {
    const encoder = baseEncoder ?? (await loadEncoder(run, backend, 'base', run.config.model, baseWhere(run.config)));
    await evaluate(run, 'base', encoder, data, split, { keep });
    return keep ? encoder : undefined;
  }
  if (baseEncoder && !keep) {
    await run.res.release(baseEncoder);
    return undefined;
  }
  return baseEncoder;
}

/** The declarative loss of a training request, with the plugin's reference implementation. */
function trainLoss(entry: StageConfig, reference: LossPlugin): TrainLoss {
  const { type, ...options } = entry;
  return { type, options, needs: reference.needs, reference };
}

/** Train as `training.method` says, then evaluate the tuned model when `evaluate.compare` lists it. */
export async function trainAndEvaluate(run: Run, plugins: RunPlugins, data: DatasetData, split: SplitResult, examples: Examples, baseEncoder?: Encoder): Promise<void> {
  const { config, ctx, summary } = run;
  const { backend } = plugins;
  const method = methodOf(config);
  ctx.logger.info(`training (${config.training.method}) on ${examples.items.length} examples…`);
  if (method.keepsBaseEncoder) baseEncoder ??= await loadEncoder(run, backend, 'base', config.model, baseWhere(config));
  const result = await timed(run, 'train', 'training', async () => {
    const out = await train({
      config, ctx, resume: ctx.resumed ?? false, data, split, examples, backend,
      loss: trainLoss(config.loss!, plugins.loss!),
      ...(baseEncoder ? { baseEncoder } : {}),
      ...(run.prune ? { prune: run.prune } : {}),
      onEvent: (event) => {
        if (event.type === 'eval') ctx.logger.info(describeTrainingEval(event, config.evaluate.primary));
        run.events.post(event);
      },
    });
    await run.events.flush(); // every training event recorded and delivered before the stage ends
    return out;
  });
  if (baseEncoder) await run.res.release(baseEncoder);
  summary.training = trainingSummary(result);
  run.env.training = { ...result.info, ...summary.training };
  if (result.earlyStop) summary.earlyStop = result.earlyStop;
  if (config.evaluate.compare.includes('finetuned')) {
    const tuned = await tunedEncoder(config, result, async (spec) => {
      const enc = await loadEncoder(run, backend, 'finetuned', spec, 'training');
      run.res.untrack(enc); // the tuned encoder (which may wrap it) is tracked instead
      return enc;
    });
    run.res.track(tuned);
    run.env.encoders.finetuned = tuned.info;
    await evaluate(run, 'finetuned', tuned, data, split);
  }
  if (config.training.merge !== undefined) await mergeAndEvaluate(run, backend, result, data, split);
}

/**
 * training.merge: write the weight average of the base and the fine-tuned model (<run>/merged,
 * redone by `ftrun resume`), record it in env.json `merge`, and evaluate it as model `merged`.
 */
async function mergeAndEvaluate(run: Run, backend: BackendPlugin, result: TrainResult, data: DatasetData, split: SplitResult): Promise<void> {
  const { config, ctx } = run;
  const method = methodOf(config);
  if (!method.merge) throw new Error(`training.method ${config.training.method} has no training.merge`);
  const merged = await timed(run, 'merge', 'training.merge', () => method.merge!(config, result, ctx));
  run.env.merge = merged.info;
  await run.events.emit('merged', { base_weight: merged.info.base_weight as number, model_dir: merged.info.model_dir as string, tensors: merged.info.tensors as number });
  ctx.logger.info(`merged: ${String(merged.info.base_weight)} × base + ${round(1 - (merged.info.base_weight as number), 6)} × fine-tuned → ${String(merged.info.model_dir)}`);
  const encoder = await loadEncoder(run, backend, 'merged', merged.spec, 'training.merge');
  await evaluate(run, 'merged', encoder, data, split);
}
