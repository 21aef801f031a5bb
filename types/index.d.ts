// The declarations of 'ftrun' (dist/core/index.d.ts), with what tfjs-core's declarations need.
/// <reference path="./tfjs-env.d.ts" />
export * from '../dist/core/index.js';
