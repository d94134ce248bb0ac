/**
 * Errors about one named thing (an input field, a delivery channel): the message starts with its name, so it
 * reads alone in a log or an audit row. Its own module, free of Node imports, so workflow code can throw them too.
 */
export class LabelledError extends Error {
  constructor(label: string, message: string) {
    super(`${label}: ${message}`);
  }
}

/** Thrown for any bad input (flag, env var, rule, workflow input): names the field and what is allowed. */
export class InputError extends LabelledError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(field, message);
    this.name = 'InputError';
  }
}
