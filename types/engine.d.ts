// The declarations of 'ftrun/engine' (dist/engine/index.d.ts), with what tfjs-core's declarations need.
/// <reference path="./tfjs-env.d.ts" />
export * from '../dist/engine/index.js';
