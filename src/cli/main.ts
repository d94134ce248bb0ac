import { Command, CommanderError } from 'commander';
import { InputError } from '../kernel/errors.js';
import { describeError } from './errors.js';
import { registerJobs } from './commands/jobs.js';
import { registerKeys } from './commands/keys.js';
import { registerReport } from './commands/report.js';
import { registerRun } from './commands/run.js';
import { registerRuns } from './commands/runs.js';
import { registerSchedules } from './commands/schedules.js';
import { registerSeed } from './commands/seed.js';

const program = new Command('maint')
  .description('Run and inspect the maintenance jobs of an auth database (Temporal workflows)')
  .showHelpAfterError()
  .exitOverride();

registerRun(program);
registerRuns(program);
registerJobs(program);
registerSchedules(program);
registerSeed(program);
registerKeys(program);
registerReport(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander already printed the message (and help on usage errors).
    process.exitCode = err.exitCode;
  } else if (err instanceof InputError || (err instanceof Error && (err.cause as Error | undefined) instanceof InputError)) {
    const e = err instanceof InputError ? err : (err.cause as InputError);
    process.stderr.write(`error: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`error: ${describeError(err)}\n`);
    process.exitCode = 1;
  }
}
