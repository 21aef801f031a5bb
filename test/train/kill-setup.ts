/**
 * The run shared by the kill/resume test and its child process (kill-child.ts): the tfjs backend
 * on wasm (one thread) training the tiny fixture model for 3 epochs, a checkpoint every 2 steps.
 */
import { join } from 'node:path';
import type { TrainRequest } from '../../core/types.js';
import BatchSemiHardTripletLoss from '../../plugins/loss/batch-semi-hard-triplet.js';
import TfjsBackend from '../../plugins/backend/tfjs.js';
import { makeContext } from '../helpers/context.js';
import { TINY_BERT } from '../helpers/shared.js';
import { corpus, examples, testQueries } from './fixture-data.js';

const semiHard = await new BatchSemiHardTripletLoss({ margin: 5, distance_metric: 'euclidean' }, makeContext());

export function killSetup(runDir: string, resume: boolean, onEvent: (e: Record<string, unknown>) => void): { backend: TfjsBackend; request: TrainRequest } {
  const ctx = makeContext({ runDir, seed: 11 });
  const backend = new TfjsBackend({ device: 'wasm', threads: 1, batch_size: 32 }, ctx);
  const items = examples(64);
  const request: TrainRequest = {
    model: { path: TINY_BERT, query_prompt: '', document_prompt: '' },
    examples: { shapes: ['labelled', 'triplets', 'pairs', 'labelled-pairs'], items },
    loss: { type: 'batch-semi-hard-triplet', options: { margin: 5, distance_metric: 'euclidean' }, needs: 'labelled', reference: semiHard },
    training: { method: 'full', epochs: 3, batch_size: 16, learning_rate: 5e-4, eval_every: 2, export_onnx: false, save_total_limit: 2 },
    test: testQueries(12),
    corpus: corpus(),
    metrics: ['mrr'],
    k: [1, 3],
    primary: 'mrr@3',
    outDir: join(runDir, 'model'),
    checkpointDir: join(runDir, 'checkpoints'),
    resume,
    onEvent,
  };
  return { backend, request };
}
