#!/usr/bin/env node
// `npm start` (and `npm run worker` with --external): the compiled service, built first when needed.
import { ensureBuiltOrExit } from './ensure-build.mjs';
await ensureBuiltOrExit();
await import('../dist/src/start.js');
