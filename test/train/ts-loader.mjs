/**
 * `node --import ./test/train/ts-loader.mjs child.ts`: lets a test child process run the
 * project's TypeScript sources directly (hooks in ts-hooks.mjs). Used by the kill/resume test.
 */
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
