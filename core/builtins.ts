/**
 * The closed map of built-in plugins, one file per plugin, keyed by stage and by `type` as
 * experiment files write it. Each plugin is declared with definePlugin, so the compiler checks it
 * against its stage; the map's type checks that every stage has an entry and that each plugin sits
 * under its own stage and `type`.
 *
 * Importing a plugin's module is cheap (its schema, checks and capabilities): what it needs to run
 * — tfjs, onnxruntime-node, LanceDB, the Braintrust SDK, ECharts — is imported inside its
 * create() or methods, so `validate`, `plan`, `schema` and `--help` load none of it.
 */
import { Registry, type PluginMap } from './registry.js';
import type { StageName } from './types.js';

import braintrustDataset from '../plugins/dataset/braintrust.js';
import csvDataset from '../plugins/dataset/csv.js';
import generateDataset from '../plugins/dataset/generate.js';
import hfDataset from '../plugins/dataset/hf.js';
import jsonlDataset from '../plugins/dataset/jsonl.js';
import parquetDataset from '../plugins/dataset/parquet.js';
import syntheticTransactionsDataset from '../plugins/dataset/synthetic-transactions.js';
import fieldSplitter from '../plugins/splitter/field.js';
import noneSplitter from '../plugins/splitter/none.js';
import ratioSplitter from '../plugins/splitter/ratio.js';
import hardNegativeMiner from '../plugins/miner/hard-negative.js';
import noneMiner from '../plugins/miner/none.js';
import randomNegativeMiner from '../plugins/miner/random-negative.js';
import ortBackend from '../plugins/backend/ort.js';
import tfjsBackend from '../plugins/backend/tfjs.js';
import angleLoss from '../plugins/loss/angle.js';
import batchAllTripletLoss from '../plugins/loss/batch-all-triplet.js';
import batchHardSoftMarginTripletLoss from '../plugins/loss/batch-hard-soft-margin-triplet.js';
import batchHardTripletLoss from '../plugins/loss/batch-hard-triplet.js';
import batchSemiHardTripletLoss from '../plugins/loss/batch-semi-hard-triplet.js';
import contrastiveLoss from '../plugins/loss/contrastive.js';
import cosentLoss from '../plugins/loss/cosent.js';
import cosineSimilarityLoss from '../plugins/loss/cosine-similarity.js';
import distillKlDivLoss from '../plugins/loss/distill-kl-div.js';
import gistLoss from '../plugins/loss/gist.js';
import marginMseLoss from '../plugins/loss/margin-mse.js';
import matryoshkaLoss from '../plugins/loss/matryoshka.js';
import cachedMultipleNegativesRankingLoss from '../plugins/loss/cached-multiple-negatives-ranking.js';
import multipleNegativesRankingLoss from '../plugins/loss/multiple-negatives-ranking.js';
import multipleNegativesSymmetricRankingLoss from '../plugins/loss/multiple-negatives-symmetric-ranking.js';
import tripletLoss from '../plugins/loss/triplet.js';
import lancedbStore from '../plugins/store/lancedb.js';
import memoryStore from '../plugins/store/memory.js';
import braintrustSink from '../plugins/sink/braintrust.js';
import consoleSink from '../plugins/sink/console.js';
import htmlSink from '../plugins/sink/html.js';
import jsonSink from '../plugins/sink/json.js';
import markdownSink from '../plugins/sink/markdown.js';

/** Every entry `stage → type → plugin` is a plugin of that stage whose `type` is its key. */
type KeyedByType<M> = { [S in keyof M]: { [T in keyof M[S]]: { readonly stage: S; readonly type: T } } };

const BUILTIN_PLUGINS = {
  dataset: {
    braintrust: braintrustDataset,
    csv: csvDataset,
    generate: generateDataset,
    hf: hfDataset,
    jsonl: jsonlDataset,
    parquet: parquetDataset,
    'synthetic-transactions': syntheticTransactionsDataset,
  },
  splitter: {
    field: fieldSplitter,
    none: noneSplitter,
    ratio: ratioSplitter,
  },
  miner: {
    'hard-negative': hardNegativeMiner,
    none: noneMiner,
    'random-negative': randomNegativeMiner,
  },
  loss: {
    angle: angleLoss,
    'batch-all-triplet': batchAllTripletLoss,
    'batch-hard-soft-margin-triplet': batchHardSoftMarginTripletLoss,
    'batch-hard-triplet': batchHardTripletLoss,
    'batch-semi-hard-triplet': batchSemiHardTripletLoss,
    'cached-multiple-negatives-ranking': cachedMultipleNegativesRankingLoss,
    contrastive: contrastiveLoss,
    cosent: cosentLoss,
    'cosine-similarity': cosineSimilarityLoss,
    'distill-kl-div': distillKlDivLoss,
    gist: gistLoss,
    'margin-mse': marginMseLoss,
    matryoshka: matryoshkaLoss,
    'multiple-negatives-ranking': multipleNegativesRankingLoss,
    'multiple-negatives-symmetric-ranking': multipleNegativesSymmetricRankingLoss,
    triplet: tripletLoss,
  },
  backend: {
    ort: ortBackend,
    tfjs: tfjsBackend,
  },
  store: {
    lancedb: lancedbStore,
    memory: memoryStore,
  },
  sink: {
    braintrust: braintrustSink,
    console: consoleSink,
    html: htmlSink,
    json: jsonSink,
    markdown: markdownSink,
  },
} satisfies Record<StageName, object>;

export const BUILTINS: PluginMap & KeyedByType<typeof BUILTIN_PLUGINS> = BUILTIN_PLUGINS;

export function builtinRegistry(): Registry {
  return new Registry(BUILTINS);
}

/**
 * The adapter training method (training.method adapter: engine/adapter/) runs on the engine kit;
 * core/train/methods.ts loads it through here, lazily, when a run trains or loads an adapter:
 * core/ reaches engine/ only through this file, as it reaches the plugins above.
 */
export const adapterMethod = {
  train: () => import('../engine/adapter/train.js'),
  encoder: () => import('../engine/adapter/encoder.js'),
};

/** training.merge (weight averaging of the base and the fine-tuned model), loaded the same way by core/train/methods.ts. */
export const mergeMethod = {
  merge: () => import('../engine/model/merge.js'),
};
