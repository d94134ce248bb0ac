export declare const root: string;
export declare const dist: string;
/** Builds dist/ when it is missing or older than the sources; waits for a build another process runs. */
export declare function ensureBuilt(): Promise<void>;
export declare function ensureBuiltOrExit(): Promise<void>;
