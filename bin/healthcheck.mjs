#!/usr/bin/env node
// The image's health check: exit 0 while this host's worker polls its task queue (see src/healthcheck.ts).
const { checkWorkerHealth } = await import('../dist/src/healthcheck.js');
const result = await checkWorkerHealth().catch((err) => ({ healthy: false, message: err instanceof Error ? err.message : String(err) }));
process.stdout.write(`${result.message}\n`);
process.exit(result.healthy ? 0 : 1);
