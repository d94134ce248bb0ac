import { Command, CommanderError } from 'commander';
import { InputError } from '../kernel/errors.js';
import type { Settings } from '../settings/index.js';
import { registerDetect } from './commands/detect.js';
import { registerCancel } from './commands/cancel.js';
import { registerRerun } from './commands/rerun.js';
import { registerControl } from './commands/control.js';
import { registerJobs } from './commands/jobs.js';
import { registerKeys } from './commands/keys.js';
import { registerReport } from './commands/report.js';
import { registerRun } from './commands/run.js';
import { registerRuns } from './commands/runs.js';
import { registerStatus } from './commands/status.js';
import { registerSchedules } from './commands/schedules.js';
import { registerSeed } from './commands/seed.js';

const program = new Command('maint')
  .description('Run and inspect the maintenance jobs of an auth database (Temporal workflows)')
  .showHelpAfterError()
  .exitOverride();

// Read once, when a command first needs them (`maint --help` reads none): the CLI delivers no notification, so it needs
// none of their secrets.
let loaded: Promise<Settings> | undefined;
const settings = () => (loaded ??= import('../settings/index.js').then((s) => s.loadSettings(undefined, { notificationSecrets: false })));

registerRun(program, settings);
registerRuns(program, settings);
registerStatus(program, settings);
registerCancel(program, settings);
registerRerun(program, settings);
registerControl(program, settings);
registerJobs(program, settings);
registerSchedules(program, settings);
registerSeed(program, settings);
registerKeys(program, settings);
registerReport(program, settings);
registerDetect(program, settings);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander already printed the message (and help on usage errors).
    process.exitCode = err.exitCode;
  } else if (err instanceof InputError || (err instanceof Error && (err.cause as Error | undefined) instanceof InputError)) {
    const e = err instanceof InputError ? err : (err.cause as InputError);
    // Several mistakes (InputErrors) are one line each.
    process.stderr.write(e.message.split('\n').map((line) => `error: ${line}\n`).join(''));
    process.exitCode = 2;
  } else {
    // Loaded only on failure: it takes the Temporal client's error classes, which `maint --help` must not load.
    const { describeError } = await import('./errors.js');
    process.stderr.write(`error: ${describeError(err)}\n`);
    process.exitCode = 1;
  }
}
