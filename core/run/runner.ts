/**
 * One experiment run: dataset → split → mine → evaluate each model in `evaluate.compare`
 * → (train) → compare → sinks, writing the run directory contract as it goes.
 *
 * Every file is written atomically, so an interrupted or failed run leaves valid files and its
 * status in env.json / metrics.json.
 */
import { readFileSync, rmSync } from 'node:fs';
import { cpus, platform, release } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRunScope } from '../container.js';
import type { LoadedConfig } from '../config/load.js';
import type { ExperimentConfig, StageConfig } from '../config/types.js';
import { baseDirOf, resolveIn } from '../config/located.js';
import { redactArgv, redactConfig } from '../config/output.js';
import { toYaml } from '../config/validate.js';
import { UserError } from '../errors.js';
import { MODEL_SOURCES } from '../config/envelope.js';
import { pluginModuleFile } from '../config/plugins.js';
import { appendJsonl, removeTemporaries, reserveSpace, writeFileAtomic, writeJsonAtomic } from '../fsutil.js';
import { makeLogger, makeProgress, type LogOptions } from '../log.js';
import type { Registry } from '../registry.js';
import type {
  BackendPlugin,
  DatasetPlugin,
  Encoder,
  ModelSpec,
  MinerPlugin,
  PluginClass,
  RunContext,
  RunEvent,
  RunSummary,
  SinkPlugin,
  SplitterPlugin,
  StageName,
  StorePlugin,
  TrainLoss,
} from '../types.js';
import type { LossPlugin } from '../train/loss.js';
import { evaluateModel } from './evaluate.js';
import { checkData } from './data-checks.js';
import { locateError } from './locate-error.js';
import { methodOf } from '../train/methods.js';
import { describeTrainingEval, round, train, trainingSummary, tunedEncoder } from './training.js';

export interface RunRequest {
  loaded: LoadedConfig;
  config: ExperimentConfig;
  registry: Registry;
  runDir: string;
  runId: string;
  argv: string[];
  log: LogOptions;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
  /** Continue an interrupted run in `runDir` (ftrun resume): training restarts from its last checkpoint. */
  resume?: boolean;
  /** The experiment file to record in env.json (default: the loaded file; resume passes the original). */
  configFile?: string;
}

import { FTRUN_VERSION } from '../version.js';


class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

export async function runExperiment(req: RunRequest): Promise<RunSummary> {
  const { config, registry, runDir, runId, loaded } = req;
  const started = new Date();
  const timings: Record<string, number> = {};
  const env: Record<string, unknown> = {
    ftrun_version: FTRUN_VERSION,
    node: process.version,
    platform: `${platform()} ${release()}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    started_at: started.toISOString(),
    finished_at: null,
    status: 'running',
    seed: config.seed,
    run_id: runId,
    // The experiment file as the user named it (kept across resumes, which load resolved.yaml) and
    // the directory its relative paths resolve against.
    config_file: req.configFile ?? loaded.file,
    base_dir: baseDirOf(loaded),
    argv: redactArgv(req.argv),
    timings,
    encoders: {} as Record<string, unknown>,
  };
  const baseDir = baseDirOf(loaded);
  const ctx: RunContext = {
    configFile: loaded.file,
    baseDir,
    runDir,
    runId,
    resumed: req.resume ?? false,
    seed: config.seed,
    logger: makeLogger(req.log),
    progress: makeProgress(req.log),
    write: req.log.write ?? ((s) => void process.stderr.write(s)),
    quiet: req.log.quiet,
    signal: req.signal,
    resolvePath: (p) => resolveIn(loaded, p),
  };
  const summary: RunSummary = {
    name: config.name,
    runDir,
    status: 'failed',
    primary: config.evaluate.primary,
    models: {},
    delta: {},
    timings,
  };

  // Plugin module paths are made absolute so that `ftrun resume` can load them from resolved.yaml.
  const recorded = { ...config, plugins: config.plugins.map((p, i) => pluginPath(loaded, p, i)) };
  writeFileAtomic(join(runDir, 'resolved.yaml'), toYaml(redactConfig(recorded, loaded)));
  if (req.resume) {
    env.resumed_at = started.toISOString();
    // Leftovers of the interrupted attempt: half-written files and model directories.
    for (const dir of [runDir, join(runDir, 'checkpoints')]) removeTemporaries(dir);
    rmSync(join(runDir, 'per_query.jsonl'), { force: true }); // evaluations are redone
  }
  writeJsonAtomic(join(runDir, 'env.json'), env);

  const scope = createRunScope(ctx);
  const sinks: SinkPlugin[] = [];
  let store: StorePlugin | undefined;
  const encoders: Encoder[] = [];

  const emit = async (type: string, fields: Record<string, unknown> = {}) => {
    const event: RunEvent = { time: new Date().toISOString(), type, ...fields };
    appendJsonl(join(runDir, 'events.jsonl'), event);
    for (const s of sinks) await s.log?.(event);
  };
  /** Run a timed stage; user errors get the location of `configPath` (the stage's config key). */
  const stage = async <T>(name: string, configPath: string, fn: () => Promise<T> | T): Promise<T> => {
    if (req.signal.aborted) throw new Interrupted();
    const t0 = performance.now();
    await emit('stage_start', { stage: name });
    let out: T;
    try {
      out = await fn();
    } catch (e) {
      throw locateError(e, loaded, configPath);
    }
    timings[name] = round((performance.now() - t0) / 1000, 4);
    await emit('stage_end', { stage: name, seconds: timings[name] });
    if (req.signal.aborted) throw new Interrupted();
    return out;
  };
  const make = <T>(stageName: StageName, entry: StageConfig): T => {
    const cls = registry.get(stageName, entry.type) as PluginClass<T>;
    const { type: _type, ...options } = entry;
    return scope.create(cls, options);
  };
  const writeMetrics = () =>
    writeJsonAtomic(join(runDir, 'metrics.json'), {
      models: summary.models,
      delta: summary.delta,
      primary: summary.primary,
      status: summary.status,
    });

  let failure: unknown;
  try {
    reserveSpace(join(runDir, RESERVE), RESERVE_BYTES);
    for (const entry of config.sinks) sinks.push(make<SinkPlugin>('sink', entry));
    for (const s of sinks) await s.logConfig?.(redactConfig(config, loaded));
    await emit(req.resume ? 'run_resume' : 'run_start', { run_id: runId, name: config.name });

    // The backend first: its option checks (e.g. an execution provider not installed) fail before any data loads.
    let backend: BackendPlugin;
    try {
      backend = make<BackendPlugin>('backend', config.backend);
    } catch (e) {
      throw locateError(e, loaded, 'backend');
    }
    const data = await stage('dataset', 'dataset', () => make<DatasetPlugin>('dataset', config.dataset).load());
    checkData(config, loaded, data);
    const split = await stage('split', 'splitter', () => make<SplitterPlugin>('splitter', config.splitter).split(data));
    await emit('split', { train: split.train.length, test: split.test.length, eval: split.eval.length, corpus: data.corpus.length });
    ctx.logger.info(
      `data: ${split.train.length} train / ${split.test.length} test / ${split.eval.length} eval queries, ${data.corpus.length} documents`,
    );
    const load = async (model: string, spec: ModelSpec, where: string) => {
      const encoder = await stage(`load_${model}`, where, () => backend.loadEncoder(spec, model));
      encoders.push(encoder);
      (env.encoders as Record<string, unknown>)[model] = encoder.info;
      return encoder;
    };
    const source = MODEL_SOURCES.find((k) => config.model[k] !== undefined);
    const baseWhere = source ? `model.${source}` : 'model';

    // Miners such as hard-negative rank the corpus with the base model: load it once for both.
    const minerNeedsEncoder = registry.get('miner', config.miner.type)?.needsEncoder === true;
    let baseEncoder = minerNeedsEncoder ? await load('base', config.model, baseWhere) : undefined;
    const examples = await stage('mine', 'miner', () => make<MinerPlugin>('miner', config.miner).mine(split.train, data.corpus, baseEncoder));
    await emit('mined', { examples: examples.items.length, shapes: examples.shapes });
    // Before the base model is evaluated: training needs at least one batch.
    const batchSize = (config.training as { batch_size?: number }).batch_size;
    if (methodOf(config).trains && batchSize !== undefined && examples.items.length < batchSize) {
      const n = examples.items.length;
      throw locateError(
        new UserError('E_CONFIG', `training.batch_size: ${batchSize} is more than the ${n} training example${n === 1 ? '' : 's'} the miner made, so not one batch can be formed; lower training.batch_size or add training data`),
        loaded,
        'training',
      );
    }

    store = make<StorePlugin>('store', config.store);

    const release = async (encoder: Encoder) => {
      const i = encoders.indexOf(encoder);
      if (i >= 0) encoders.splice(i, 1);
      await encoder.dispose();
    };
    /** Evaluate and record one model (`base` or `finetuned`), then release its encoder unless kept. */
    const evaluate = async (model: string, encoder: Encoder, opts: { keep?: boolean } = {}) => {
      ctx.logger.info(`evaluating ${model} on ${split.eval.length} queries…`);
      const result = await stage(`evaluate_${model}`, 'store', () =>
        evaluateModel(model, encoder, store!, data.corpus, split.eval, config.evaluate, ctx),
      );
      for (const [k, v] of Object.entries(result.timings)) timings[`${model}_${k}`] = round(v, 4);
      summary.models[model] = result.summary;
      for (const r of result.perQuery) {
        appendJsonl(join(runDir, 'per_query.jsonl'), {
          model,
          query_id: r.queryId,
          text: r.text,
          expected: r.expected,
          top: r.top.map((h) => ({ id: h.id, score: round(h.score, 6) })),
          metrics: r.metrics,
        });
      }
      for (const s of sinks) await s.logEval?.(model, result.perQuery, result.summary);
      await emit('eval', { model, metrics: result.summary });
      if (!opts.keep) await release(encoder);
    };

    const method = methodOf(config);
    const adapter = method.keepsBaseEncoder;
    if (config.evaluate.compare.includes('base')) {
      const encoder = baseEncoder ?? (await load('base', config.model, baseWhere));
      await evaluate('base', encoder, { keep: adapter });
      baseEncoder = adapter ? encoder : undefined;
    } else if (baseEncoder && !adapter) {
      await release(baseEncoder);
      baseEncoder = undefined;
    }

    if (method.trains) {
      ctx.logger.info(`training (${config.training.method}) on ${examples.items.length} examples…`);
      let eventFailure: unknown; // a training event that could not be recorded fails the run once training returns
      if (adapter) baseEncoder ??= await load('base', config.model, baseWhere);
      const result = await stage('train', 'training', () =>
        train({
          config, ctx, resume: req.resume ?? false, data, split, examples, backend,
          loss: trainLoss(config.loss!, make<LossPlugin>('loss', config.loss!)),
          baseEncoder,
          onEvent: (event) => {
            const { type, ...rest } = event;
            if (type === 'eval') ctx.logger.info(describeTrainingEval(rest, config.evaluate.primary));
            emit(type === 'eval' ? 'train_eval' : String(type ?? 'train'), rest).catch((e: unknown) => {
              eventFailure ??= e;
            });
          },
        }),
      );
      if (eventFailure) throw eventFailure;
      if (baseEncoder) await release(baseEncoder);
      summary.training = trainingSummary(result);
      env.training = { ...result.info, ...summary.training };
      if (config.evaluate.compare.includes('finetuned')) {
        const tuned = await tunedEncoder(config, result, async (spec) => {
          const enc = await load('finetuned', spec, 'training');
          encoders.splice(encoders.indexOf(enc), 1); // the tuned encoder (which may wrap it) is tracked instead
          return enc;
        });
        encoders.push(tuned);
        (env.encoders as Record<string, unknown>).finetuned = tuned.info;
        await evaluate('finetuned', tuned);
      }
    }
    summary.delta = delta(summary.models);
    summary.status = 'ok';
  } catch (e) {
    failure = e;
    summary.status = e instanceof Interrupted || req.signal.aborted ? 'interrupted' : 'failed';
  }

  for (const enc of encoders) await enc.dispose().catch(() => undefined);
  await store?.close().catch(() => undefined);
  // The space held back at the start, and what a failed write left, make room for the record of how the run ended.
  rmSync(join(runDir, RESERVE), { force: true });
  if (failure) for (const dir of [runDir, join(runDir, 'checkpoints')]) removeTemporaries(dir);
  /** Each record of the end is attempted even when another could not be written (a full disk). */
  const finishing: unknown[] = [];
  const attempt = async (fn: () => unknown) => {
    try {
      await fn();
    } catch (e) {
      finishing.push(e);
    }
  };
  env.status = summary.status;
  env.finished_at = new Date().toISOString();
  if (failure && summary.status === 'failed') {
    env.error = {
      message: failure instanceof Error ? failure.message : String(failure),
      code: failure instanceof UserError ? failure.code : undefined,
    };
  }
  await attempt(writeMetrics);
  await attempt(() => emit('run_end', { status: summary.status }));
  for (const s of sinks) {
    try {
      await s.close?.(summary);
    } catch (e) {
      failure ??= e;
      // A sink that could not finish fails the run: the files say so, and it can be resumed.
      if (summary.status === 'ok') {
        summary.status = 'failed';
        env.status = 'failed';
        env.error = { message: e instanceof Error ? e.message : String(e), code: e instanceof UserError ? e.code : undefined };
        await attempt(writeMetrics);
      }
    }
  }
  await attempt(() => writeJsonAtomic(join(runDir, 'env.json'), env));
  scope.dispose();
  for (const e of new Set(finishing.map((e) => (e instanceof Error ? e.message : String(e))))) {
    ctx.logger.warn(`the end of the run could not be fully recorded: ${e}`);
  }
  if (failure && !(failure instanceof Interrupted)) throw failure;
  if (finishing.length > 0) throw finishing[0];
  return summary;
}

/**
 * Disk space a run holds back from its start (see reserveSpace) and releases at its end, so that
 * a run that fills the disk still writes its status, metrics and report.
 */
const RESERVE = '.ftrun-reserve';
const RESERVE_BYTES = 256 * 1024;

/** A plugin module as loadCustomPlugins resolves it (a file against the file that lists it, cwd for --set; a package to its entry file). */
function pluginPath(loaded: LoadedConfig, p: string, i: number): string {
  const origin = loaded.locate(['plugins', i]).file;
  return pluginModuleFile(p, origin === '--set' ? process.cwd() : dirname(origin)) ?? p;
}

/** The declarative loss of a training request, with the plugin's reference implementation. */
function trainLoss(entry: StageConfig, reference: LossPlugin): TrainLoss {
  const { type, ...options } = entry;
  return { type, options, needs: reference.needs, reference };
}

function delta(models: Record<string, Record<string, number>>): Record<string, number> {
  const base = models.base;
  const tuned = models.finetuned;
  if (!base || !tuned) return {};
  const out: Record<string, number> = {};
  for (const k of Object.keys(base)) if (k in tuned) out[k] = tuned[k]! - base[k]!;
  return out;
}
