// The declarations of 'ftrun/loss' (dist/core/train/loss.d.ts), with what tfjs-core's declarations need.
/// <reference path="./tfjs-env.d.ts" />
export * from '../dist/core/train/loss.js';
