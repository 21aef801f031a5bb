/**
 * The closed map of built-in plugins, one file per plugin, keyed by `type`.
 * `Record<StageName, …>` makes the compiler catch a stage without an entry.
 */
import { Registry, type PluginMap } from './registry.js';
import type { PluginClass } from './types.js';

import braintrustDataset from '../plugins/dataset/braintrust.js';
import jsonlDataset from '../plugins/dataset/jsonl.js';
import syntheticTransactionsDataset from '../plugins/dataset/synthetic-transactions.js';
import fieldSplitter from '../plugins/splitter/field.js';
import noneSplitter from '../plugins/splitter/none.js';
import ratioSplitter from '../plugins/splitter/ratio.js';
import hardNegativeMiner from '../plugins/miner/hard-negative.js';
import noneMiner from '../plugins/miner/none.js';
import randomNegativeMiner from '../plugins/miner/random-negative.js';
import ortBackend from '../plugins/backend/ort.js';
import tfjsBackend from '../plugins/backend/tfjs.js';
import batchAllTripletLoss from '../plugins/loss/batch-all-triplet.js';
import batchHardSoftMarginTripletLoss from '../plugins/loss/batch-hard-soft-margin-triplet.js';
import batchHardTripletLoss from '../plugins/loss/batch-hard-triplet.js';
import batchSemiHardTripletLoss from '../plugins/loss/batch-semi-hard-triplet.js';
import contrastiveLoss from '../plugins/loss/contrastive.js';
import multipleNegativesRankingLoss from '../plugins/loss/multiple-negatives-ranking.js';
import tripletLoss from '../plugins/loss/triplet.js';
import lancedbStore from '../plugins/store/lancedb.js';
import memoryStore from '../plugins/store/memory.js';
import braintrustSink from '../plugins/sink/braintrust.js';
import consoleSink from '../plugins/sink/console.js';
import htmlSink from '../plugins/sink/html.js';
import jsonSink from '../plugins/sink/json.js';
import markdownSink from '../plugins/sink/markdown.js';

const byType = (...classes: PluginClass[]): Record<string, PluginClass> =>
  Object.fromEntries(classes.map((c) => [c.type, c]));

export const BUILTINS: PluginMap = {
  dataset: byType(braintrustDataset, jsonlDataset, syntheticTransactionsDataset),
  splitter: byType(fieldSplitter, noneSplitter, ratioSplitter),
  miner: byType(hardNegativeMiner, noneMiner, randomNegativeMiner),
  loss: byType(
    batchAllTripletLoss,
    batchHardSoftMarginTripletLoss,
    batchHardTripletLoss,
    batchSemiHardTripletLoss,
    contrastiveLoss,
    multipleNegativesRankingLoss,
    tripletLoss,
  ),
  backend: byType(ortBackend, tfjsBackend),
  store: byType(lancedbStore, memoryStore),
  sink: byType(braintrustSink, consoleSink, htmlSink, jsonSink, markdownSink),
};

export function builtinRegistry(): Registry {
  return new Registry(BUILTINS);
}
