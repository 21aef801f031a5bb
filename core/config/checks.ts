/**
 * Named cross-stage checks, run after both schema passes (so every section is well-formed and has
 * its defaults) and before anything heavy loads. Like Ludwig's config_validation/checks.py: to add
 * a rule, append a `{ name, check }` to CHECKS; return located problems made with `ctx.problem`.
 */
import { BUNDLED_CATALOG, BUNDLED_MODEL_NAMES, type BundledModelName } from './bundled-catalog.js';
import type { Problem } from '../errors.js';
import type { Registry } from '../registry.js';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EVAL_SET_NAME, MODEL_SOURCES, PRIMARY_SET_DEFAULT, pluginEntries } from './envelope.js';
import { baseDirOf, problemAt, resolveIn, type LoadedConfig } from './located.js';
import { choices } from './messages.js';
import { formatPath, type ConfigPath } from './path.js';
import { callHook } from './plugin-hooks.js';
import { methodOf } from '../train/methods.js';
import type { ExperimentConfig } from './types.js';

export interface CheckContext {
  registry: Registry;
  loaded: LoadedConfig;
  /** A problem about `path`, located where `at` (default: `path`) was defined. */
  problem(path: ConfigPath, message: string, at?: ConfigPath): Problem;
  /**
   * `compute()`'s result, computed once per validation for equal `key`s (JSON-comparable): the
   * trials of a sweep share it, so work that does not depend on the trial (a plugin's check of
   * options the sweep does not vary, a data file read) is done once, not once per trial. The
   * key must name everything the result depends on.
   */
  once<T>(key: unknown[], compute: () => T): T;
}

/** What CheckContext.once remembers: one per validation (all trials of a sweep share it). */
export type CheckMemo = Map<string, unknown>;

export interface ConfigCheck {
  name: string;
  description: string;
  check(cfg: ExperimentConfig, ctx: CheckContext): Problem[];
}


const shapeList = (s: readonly string[] | undefined) => (s && s.length ? s.join(', ') : '(nothing)');

export const CHECKS: ConfigCheck[] = [
  {
    name: 'model-source',
    description: 'model names exactly one of `id` (hub), `path` (directory) or `bundled`',
    check(cfg, ctx) {
      const given = MODEL_SOURCES.filter((k) => cfg.model[k] !== undefined);
      if (given.length > 1) {
        return [ctx.problem(['model'], `give only one of "id" (a hub model id), "path" (a model directory) or "bundled"; found ${given.map((g) => `"${g}"`).join(' and ')}`)];
      }
      if (given.length === 0) {
        return [ctx.problem(['model'], `missing "id" (a hub model id), "path" (a model directory) or "bundled" (${BUNDLED_MODEL_NAMES.join(', ')})`)];
      }
      return [];
    },
  },
  {
    name: 'bundled-model',
    description: 'a bundled model needs a backend that serves bundled models, and cannot be fully fine-tuned',
    check(cfg, ctx) {
      const name = cfg.model.bundled as BundledModelName | undefined;
      if (name === undefined || !(name in BUNDLED_CATALOG)) return [];
      const problems = [];
      const backend = ctx.registry.get('backend', cfg.backend.type);
      if (backend && backend.servesBundled !== true) {
        const able = ctx.registry.entries('backend').filter(([, c]) => c.servesBundled === true).map(([t]) => t);
        problems.push(ctx.problem(['backend', 'type'], `backend ${cfg.backend.type} cannot load bundled model ${name}. Backends that can: ${able.join(', ') || '(none)'}.`));
      }
      if (!methodOf(cfg).frozenModels && !BUNDLED_CATALOG[name].canFineTune) {
        problems.push(ctx.problem(['training', 'method'], `bundled model ${name} is a frozen graph and cannot be fully fine-tuned; use training.method: adapter`));
      }
      return problems;
    },
  },
  {
    name: 'primary-metric',
    description: 'evaluate.primary is <metric>@<k> with metric in evaluate.metrics and k in evaluate.k',
    check(cfg, ctx) {
      const { primary, metrics, k } = cfg.evaluate;
      const valid = metrics.flatMap((m) => k.map((n) => `${m}@${n}`));
      const at = ['evaluate', 'primary'];
      const m = /^([a-z]+)@(\d+)$/.exec(primary);
      if (!m) return [ctx.problem(at, `"${primary}" is not of the form <metric>@<k>. ${choices(primary, valid, 'Choices')}`)];
      const [, metric, n] = m as unknown as [string, string, string];
      if (!(metrics as string[]).includes(metric)) {
        return [ctx.problem(at, `metric "${metric}" is not in evaluate.metrics. ${choices(primary, valid, 'Choices')}`)];
      }
      if (!k.includes(Number(n))) return [ctx.problem(at, `k ${n} is not in evaluate.k. ${choices(primary, valid, 'Choices')}`)];
      return [];
    },
  },
  {
    name: 'evaluate-dims',
    description: 'each of evaluate.dims is at most model.truncate_dim when set, and at most the model\'s embedding dimension when a model.path directory tells it',
    check(cfg, ctx) {
      const dims = cfg.evaluate.dims;
      if (!dims) return [];
      const dir = typeof cfg.model.path === 'string' ? resolveIn(ctx.loaded, cfg.model.path) : undefined;
      const dim = dir === undefined ? undefined : ctx.once(['embedding-dim', dir], () => embeddingDimOf(dir));
      // The encoder already cuts every embedding to model.truncate_dim (one over the model's dimension is model-truncate-dim's problem).
      const cut = cfg.model.truncate_dim !== undefined && (dim === undefined || cfg.model.truncate_dim <= dim) ? cfg.model.truncate_dim : undefined;
      return dims.flatMap((d, i) => {
        if (cut !== undefined && d > cut) {
          return [ctx.problem(['evaluate', 'dims', i], `${d} is more than model.truncate_dim ${cut}: the model's embeddings are cut to their first ${cut} values before evaluation; valid: integers from 1 to ${cut}`)];
        }
        if (dim !== undefined && d > dim) return [ctx.problem(['evaluate', 'dims', i], `${d} is more than the model's embedding dimension ${dim} (${cfg.model.path}); valid: integers from 1 to ${dim}`)];
        return [];
      });
    },
  },
  {
    name: 'evaluate-sets',
    description: 'each name of evaluate.sets is an identifier and differs from the primary set\'s (evaluate.name)',
    check(cfg, ctx) {
      const primary = cfg.evaluate.name ?? PRIMARY_SET_DEFAULT;
      return Object.keys(cfg.evaluate.sets ?? {}).flatMap((name) => {
        const at = ['evaluate', 'sets', name];
        if (!EVAL_SET_NAME.test(name)) return [ctx.problem(at, `set name ${JSON.stringify(name)} is not an identifier; valid: a letter or "_", then letters, digits, "_" or "-"`)];
        if (name === primary) {
          const why = cfg.evaluate.name === undefined ? `evaluate.name defaults to ${PRIMARY_SET_DEFAULT}` : 'evaluate.name';
          return [ctx.problem(at, `set name "${name}" is the primary set's name (${why}); give this set another name, or the primary set another evaluate.name`)];
        }
        return [];
      });
    },
  },
  {
    name: 'model-truncate-dim',
    description: "model.truncate_dim is at most the model's embedding dimension, when a model.path directory tells it",
    check(cfg, ctx) {
      const want = cfg.model.truncate_dim;
      if (want === undefined || typeof cfg.model.path !== 'string') return [];
      const dir = resolveIn(ctx.loaded, cfg.model.path);
      const dim = ctx.once(['embedding-dim', dir], () => embeddingDimOf(dir));
      if (dim === undefined || want <= dim) return [];
      return [ctx.problem(['model', 'truncate_dim'], `${want} is more than the model's embedding dimension ${dim} (${cfg.model.path}); valid: integers from 1 to ${dim}`)];
    },
  },
  {
    name: 'finetuned-needs-training',
    description: 'comparing the fine-tuned model needs a training method',
    check(cfg, ctx) {
      const i = cfg.evaluate.compare.indexOf('finetuned');
      if (i < 0 || methodOf(cfg).trains) return [];
      return [ctx.problem(['evaluate', 'compare', i], '"finetuned" needs a trained model, but training.method is "none"')];
    },
  },
  {
    name: 'training-needs-loss',
    description: 'a training method needs a loss',
    check(cfg, ctx) {
      if (!methodOf(cfg).trains || cfg.loss) return [];
      const available = ctx.registry.types('loss');
      return [ctx.problem(['loss'], `training.method "${cfg.training.method}" needs a loss. Available: ${available.join(', ') || '(none)'}.`, ['training', 'method'])];
    },
  },
  {
    name: 'early-stopping',
    description: 'training.early_stopping watches a metric the test-split evaluation computes, and the splitter makes a test split',
    check(cfg, ctx) {
      const es = cfg.training.early_stopping as { metric?: string } | undefined;
      if (!es || !methodOf(cfg).trains) return [];
      const problems = [];
      const { metrics, k } = cfg.evaluate;
      const valid = [...metrics.flatMap((m) => k.map((n) => `${m}@${n}`)), 'triplet_accuracy'];
      if (es.metric !== undefined && !valid.includes(es.metric)) {
        problems.push(ctx.problem(['training', 'early_stopping', 'metric'], `"${es.metric}" is not computed by the evaluation on the test split. ${choices(es.metric, valid, 'Choices')}`));
      }
      if (cfg.splitter.type === 'none') {
        problems.push(
          ctx.problem(
            ['training', 'early_stopping'],
            'needs a test split to evaluate on during training, but splitter "none" makes none; use splitter ratio (e.g. {type: ratio, test: 0.2}) or field, or remove training.early_stopping',
          ),
        );
      }
      return problems;
    },
  },
  {
    name: 'loss-shape',
    description: "the loss's example shape is among the shapes the miner provides",
    check(cfg, ctx) {
      if (!methodOf(cfg).trains || !cfg.loss) return [];
      const loss = ctx.registry.get('loss', cfg.loss.type);
      const miner = ctx.registry.get('miner', cfg.miner.type);
      const needs = loss?.readsWith?.(cfg.loss)?.needs ?? loss?.needs;
      if (!needs || !miner) return [];
      // miner none makes triplets only from the data's own negatives
      if (cfg.miner.type === 'none' && needs === 'triplets' && (cfg.dataset as Record<string, unknown>).negatives === undefined) {
        return [
          ctx.problem(['loss', 'type'], `loss ${cfg.loss.type} needs triplets examples; miner none makes them only from the data's own negatives, and dataset.negatives is not set. Set dataset.negatives (the field holding each record's negatives), or use a miner that mines negatives: random-negative, hard-negative.`),
        ];
      }
      if (miner.provides?.includes(needs)) return [];
      const fit = ctx.registry.entries('miner').filter(([, c]) => c.provides?.includes(needs)).map(([t]) => t);
      const hint = fit.length ? ` Miners that provide ${needs}: ${fit.join(', ')}.` : '';
      return [
        ctx.problem(['loss', 'type'], `loss ${cfg.loss.type} needs ${needs} examples; miner ${cfg.miner.type} provides: ${shapeList(miner.provides)}.${hint}`),
      ];
    },
  },
  {
    name: 'loss-values',
    description: 'the per-example values the loss reads (scores, teacher values) are carried by the dataset',
    check(cfg, ctx) {
      if (!methodOf(cfg).trains || !cfg.loss) return [];
      const loss = ctx.registry.get('loss', cfg.loss.type);
      const reads = (loss?.readsWith ? loss.readsWith(cfg.loss)?.reads : undefined) ?? loss?.reads ?? [];
      const dataset = ctx.registry.get('dataset', cfg.dataset.type);
      if (reads.length === 0 || !dataset?.valuesOf) return [];
      const has = dataset.valuesOf(cfg.dataset as Record<string, unknown>);
      const what = { score: 'a score', teacher: 'teacher values' } as const;
      const field = { score: "each record's pair score", teacher: "each record's teacher values (a margin or a list of scores)" } as const;
      return reads
        .filter((v) => !has.includes(v))
        .map((v) =>
          ctx.problem(['loss', 'type'], `loss ${cfg.loss!.type} needs ${what[v]} on every example, and dataset.${v} is not set: set it to the field holding ${field[v]}.`),
        );
    },
  },
  {
    name: 'backend-can-train',
    description: 'full fine-tuning needs a backend that can train',
    check(cfg, ctx) {
      if (!methodOf(cfg).needsTrainingEngine) return [];
      const backend = ctx.registry.get('backend', cfg.backend.type);
      if (!backend || backend.canTrain !== false) return [];
      const able = ctx.registry.entries('backend').filter(([, c]) => c.canTrain !== false).map(([t]) => t);
      return [
        ctx.problem(['backend', 'type'], `backend ${cfg.backend.type} cannot train (training.method: full). Backends that can: ${able.join(', ') || '(none)'}.`),
      ];
    },
  },
  {
    name: 'backend-trains-loss',
    description: 'a training backend that lists the losses its trainer implements (`trainsLosses`) implements the configured loss',
    check(cfg, ctx) {
      if (!methodOf(cfg).needsTrainingEngine || !cfg.loss) return [];
      const backend = ctx.registry.get('backend', cfg.backend.type);
      const list = backend?.trainsLosses;
      if (list === undefined || list === 'all' || list.includes(cfg.loss.type)) return [];
      const able = ctx.registry.entries('backend').filter(([, c]) => {
        const l = c.trainsLosses;
        return c.canTrain !== false && (l === undefined || l === 'all' || l.includes(cfg.loss!.type));
      }).map(([t]) => t);
      return [ctx.problem(['loss', 'type'], `backend ${cfg.backend.type} does not train with loss ${cfg.loss.type}; its trainer implements: ${list.join(', ')}. Backends that can: ${able.join(', ') || '(none)'}.`)];
    },
  },
  {
    name: 'one-mini-batch-size',
    description: "training.mini_batch_size and a cached loss's own mini_batch_size, when both are set, agree",
    check(cfg, ctx) {
      // The loss's value as written (its default gives way to training.mini_batch_size).
      const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
      const written = ctx.loaded.data.loss;
      // A wrapper's inner loss (matryoshka's `loss:`) may be the cached one.
      const [own, where] = !isMap(written) ? [] : written.mini_batch_size !== undefined ? [written.mini_batch_size, 'loss.mini_batch_size'] : isMap(written.loss) ? [written.loss.mini_batch_size, 'loss.loss.mini_batch_size'] : [];
      const set = cfg.training.mini_batch_size;
      if (!methodOf(cfg).trains || typeof own !== 'number' || typeof set !== 'number' || own === set) return [];
      return [
        ctx.problem(['training', 'mini_batch_size'], `${set} differs from ${where} (${own}) of loss ${cfg.loss!.type}; both set the GradCache chunk size: remove one of them, or give both the same value`),
      ];
    },
  },
  {
    name: 'model-directory',
    description: 'model.path is an existing directory, and model.max_seq_length fits its max_position_embeddings',
    check(cfg, ctx) {
      if (typeof cfg.model.path !== 'string') return [];
      const dir = resolveIn(ctx.loaded, cfg.model.path);
      const max = cfg.model.max_seq_length;
      return ctx.once(['model-directory', dir, max], () => modelDirectoryProblems(dir, max)).map(([path, message]) => ctx.problem(path, message));
    },
  },
  {
    name: 'plugin-options',
    description: 'each plugin\'s own check() of its options (things a schema cannot say, e.g. an execution provider that is not installed)',
    check(cfg, ctx) {
      const resolvePath = (x: string) => resolveIn(ctx.loaded, x);
      const optionsOf = (entry: { type: string }) => {
        const { type: _t, ...options } = entry as Record<string, unknown>;
        return options;
      };
      // A check sees its options, paths resolved against the base directory and the dataset's
      // first record: with those equal (a sweep that varies other options), its result is too.
      const base = baseDirOf(ctx.loaded);
      const sampleRecord = () =>
        ctx.once(['sample-record', base, cfg.dataset], () => callHook({ loaded: ctx.loaded, at: ['dataset'], stage: 'dataset', type: cfg.dataset.type }, 'sampleRecord', () => ctx.registry.get('dataset', cfg.dataset.type)?.sampleRecord?.(optionsOf(cfg.dataset), { resolvePath })));
      const modelDir = cfg.training.method === 'full' && typeof cfg.model.path === 'string' ? resolvePath(cfg.model.path) : undefined;
      const modelDim = () => (modelDir === undefined ? undefined : ctx.once(['model-dim', modelDir], () => hiddenSizeOf(modelDir)));
      return pluginEntries(cfg as unknown as Record<string, unknown>).flatMap(({ stage, path, entry }) => {
        const cls = entry ? ctx.registry.get(stage, (entry as { type: string }).type) : undefined;
        if (!entry || !cls?.check) return [];
        const problems = ctx.once(['plugin-check', stage, base, entry, cfg.dataset, modelDir], () => callHook({ loaded: ctx.loaded, at: path, stage, type: (entry as { type: string }).type }, 'check', () => cls.check!(optionsOf(entry as { type: string }), { resolvePath, sampleRecord, modelDim })));
        return problems.map((p) => {
          const full = [...path, ...p.path];
          // Locate at the option when it is written, else at the section.
          const o = ctx.loaded.locate(full);
          return ctx.problem(full, p.message, o.line !== undefined || o.file === '--set' ? full : path);
        });
      });
    },
  },
];

/** hidden_size of a model directory's config.json (the embedding dimension ftrun trains), or undefined when unreadable. */
function hiddenSizeOf(dir: string): number | undefined {
  try {
    const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const n = Number(c.hidden_size ?? c.dim ?? c.d_model);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** The embedding dimension of a model directory: its hidden size, unless a Dense module changes it (then undefined). */
function embeddingDimOf(dir: string): number | undefined {
  try {
    if (readFileSync(join(dir, 'modules.json'), 'utf8').includes('Dense')) return undefined;
  } catch {
    // no modules.json: a plain transformer, pooled
  }
  return hiddenSizeOf(dir);
}

/**
 * Run every check (or the given ones) and collect their problems. `memo`: what CheckContext.once
 * remembers, shared by the calls that pass the same map (the trials of a sweep).
 */
export function runChecks(cfg: ExperimentConfig, loaded: LoadedConfig, registry: Registry, checks: readonly ConfigCheck[] = CHECKS, memo: CheckMemo = new Map()): Problem[] {
  const ctx: CheckContext = {
    registry,
    loaded,
    problem: (path, message, at) => ({ ...problemAt(loaded, at ?? path, message), path: formatPath(path) }),
    once: <T>(key: unknown[], compute: () => T): T => {
      const k = JSON.stringify(key);
      if (memo.has(k)) return memo.get(k) as T;
      const v = compute();
      memo.set(k, v);
      return v;
    },
  };
  return checks.flatMap((c) => c.check(cfg, ctx));
}

/** The model-directory check's findings for directory `dir` (absolute) and model.max_seq_length `max`. */
export function modelDirectoryProblems(dir: string, max: number | undefined): Array<[ConfigPath, string]> {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    return [[['model', 'path'], `no such directory: ${dir}`]];
  }
  if (!isDir) return [[['model', 'path'], `not a directory: ${dir} (a model directory holds config.json, tokenizer.json and the weights)`]];
  if (max === undefined) return [];
  try {
    const positions = (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { max_position_embeddings?: unknown }).max_position_embeddings;
    if (typeof positions === 'number' && max > positions) {
      return [[['model', 'max_seq_length'], `${max} is more than the model's max_position_embeddings (${positions}, ${join(dir, 'config.json')})`]];
    }
  } catch {
    /* the model's loader reports an unreadable config.json */
  }
  return [];
}
