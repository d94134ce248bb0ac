#!/usr/bin/env node
// The `maint` command: registers tsx so the TypeScript CLI runs without a build step.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/main.ts');
