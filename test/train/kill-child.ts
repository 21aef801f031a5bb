/**
 * Child process of the kill/resume test: trains the tiny fixture model through the tfjs backend's
 * train() with the setup of killSetup(), printing every training event as a JSON line on stdout.
 * After its first checkpoint event it pauses for a while, so the parent's SIGKILL lands
 * mid-training, between checkpoints.
 *   node --import ./test/train/ts-loader.mjs test/train/kill-child.ts <runDir>
 */
import 'reflect-metadata';
import { killSetup } from './kill-setup.js';

const runDir = process.argv[2]!;
const { backend, request } = killSetup(runDir, false, (e) => {
  process.stdout.write(JSON.stringify(e) + '\n');
  if (e.type === 'checkpoint') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5000);
});
await backend.train(request);
process.stdout.write(JSON.stringify({ type: 'finished' }) + '\n');
