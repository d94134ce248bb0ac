import { readdirSync, readFileSync } from 'node:fs';

/**
 * Live processes whose environment holds `name=value`: what a test started carries the marker it was given (children
 * inherit it), whoever adopted them since, so this finds what it left running and nothing of anyone else's.
 */
export function processesMarked(name: string, value: string): Array<{ pid: number; cmdline: string }> {
  const wanted = `${name}=${value}`;
  const found: Array<{ pid: number; cmdline: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(wanted)) continue;
      found.push({ pid: Number(entry), cmdline: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim() });
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

/** Waits until nothing marked runs any more (a stopped server may take a moment to exit); returns what still runs. */
export async function leftRunning(name: string, value: string, graceMs = 5_000): Promise<Array<{ pid: number; cmdline: string }>> {
  const deadline = Date.now() + graceMs;
  for (;;) {
    const found = processesMarked(name, value);
    if (!found.length || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 200));
  }
}
