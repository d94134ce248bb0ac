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

/**
 * Several bad inputs, all told at once (a config file with three mistakes names all three): one line each, naming its
 * field or its path in the file.
 */
export class InputErrors extends InputError {
  constructor(readonly errors: readonly InputError[]) {
    super(errors[0]!.field, '');
    this.name = 'InputErrors';
    this.message = errors.map((e) => e.message).join('\n');
  }
}

/** Collects the InputErrors of several checks, so that every check runs and all mistakes are told together. */
export class Problems {
  readonly found: InputError[] = [];

  /** What `check` returns; when it throws an InputError, that error is recorded and `fallback` returned. */
  take<T>(check: () => T, fallback: T): T {
    try {
      return check();
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      this.add(err);
      return fallback;
    }
  }

  add(...errors: InputError[]): void {
    for (const e of errors) this.found.push(...(e instanceof InputErrors ? e.errors : [e]));
  }

  /** Throws the InputErrors of everything found, if anything was. */
  throwIfAny(): void {
    if (this.found.length) throw new InputErrors(this.found);
  }
}
