/**
 * Small training setups on the shared transactions data and the tiny fixture model, for the
 * trainer, resume and tfjs backend tests (and the kill test's child process).
 */
import { readFileSync } from 'node:fs';
import { loadModelLayout } from '../../engine/model/layout.js';
import { TfjsSentenceModel } from '../../plugins/backend/tfjs/sentence.js';
import type { TrainerRequest } from '../../core/train/trainer.js';
import { readTrainingConfig, type FullTrainingConfig } from '../../core/train/training-schema.js';
import type { Doc, Example, Query } from '../../core/types.js';
import { TINY_BERT, TRANSACTIONS } from '../helpers/shared.js';

interface Row {
  input: string;
  expected: string[];
}

const rows = (file: string): Row[] =>
  readFileSync(`${TRANSACTIONS}/${file}`, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Row);

export function corpus(): Doc[] {
  const cats = JSON.parse(readFileSync(`${TRANSACTIONS}/categories.json`, 'utf8')) as Array<{ category: string }>;
  return cats.map((c) => ({ id: c.category, text: c.category }));
}

/** Training examples (anchor = transaction, label = its category, positive = the category name, negative = another one). */
export function examples(n: number, offset = 0): Example[] {
  const docs = corpus();
  return rows('train_transactions.jsonl')
    .slice(offset, offset + n)
    .map((r, i) => {
      const label = r.expected[0]!;
      const neg = docs[(docs.findIndex((d) => d.id === label) + 1 + (i % 5)) % docs.length]!.id;
      return { anchor: r.input, label, positive: label, negative: neg, pairLabel: i % 2 === 0 ? 1 : 0 };
    });
}

export function testQueries(n: number): Query[] {
  return rows('eval_transactions.jsonl')
    .slice(0, n)
    .map((r, i) => ({ id: `q${i}`, text: r.input, relevant: [r.expected[0]!], label: r.expected[0]! }));
}

export function tinyModel(): TfjsSentenceModel {
  return TfjsSentenceModel.load(loadModelLayout(TINY_BERT, { query_prompt: '', document_prompt: '' }));
}

export function training(over: Partial<FullTrainingConfig> = {}): FullTrainingConfig {
  return readTrainingConfig({ method: 'full', epochs: 2, batch_size: 16, learning_rate: 5e-4, eval_every: 0, export_onnx: false, ...over });
}

export const quietLogger = { info() {}, warn() {}, debug() {} };

/** A TrainerRequest without model and loss (the caller adds them). */
export function trainerRequest(checkpointDir: string, over: Partial<TrainerRequest> = {}): Omit<TrainerRequest, 'open' | 'loss'> {
  return {
    examples: examples(64),
    training: training(),
    seed: 7,
    test: testQueries(16),
    corpus: corpus(),
    metrics: ['mrr', 'recall'],
    k: [1, 3],
    primary: 'mrr@1',
    checkpointDir,
    resume: false,
    onEvent: () => {},
    logger: quietLogger,
    ...over,
  };
}
