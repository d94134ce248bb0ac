/**
 * Thrown for any bad input (flag, env var, rule, workflow input): names the field and what is allowed.
 * Its own module, free of Node imports, so workflow code can throw it too.
 */
export class InputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'InputError';
  }
}
