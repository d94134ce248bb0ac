#!/usr/bin/env node
// The `maint` command: runs the compiled CLI, building dist/ first when the sources are newer.
import { ensureBuiltOrExit } from './ensure-build.mjs';
await ensureBuiltOrExit();
await import('../dist/src/cli/main.js');
