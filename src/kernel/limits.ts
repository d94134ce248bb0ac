/**
 * Bounds on inputs that end up in a column or a Temporal field, shared by the CLI and the workflows' input
 * parsers so a value is refused where it arrives, not after retries where it lands. No imports: workflow code
 * may use it.
 */

/** `maintenance_run.workflow_id` is varchar(255); Temporal's own default limit is 1000. */
export const WORKFLOW_ID_MAX_LENGTH = 255;
/** `maintenance_run.trigger` is varchar(255). */
export const TRIGGER_MAX_LENGTH = 255;
/** Temporal's default limit on task queue names. */
export const TASK_QUEUE_MAX_LENGTH = 1000;

/**
 * The config file (`MAINT_CONFIG`): a real one is a few KiB (a rule is about 300 bytes). The YAML parser needs
 * about half a second for 128 KiB of tiny keys on a busy 2-core machine; a bigger file is refused unread.
 */
export const CONFIG_FILE_MAX_BYTES = 128 * 1024;
/** Most custom rules (and schedule overrides) a config file may hold. */
export const CONFIG_MAX_RULES = 500;
export const CONFIG_MAX_SCHEDULES = 500;
/** Foreign keys the config file declares (`foreignKeys:`, for the HIdP presets). */
export const CONFIG_MAX_FOREIGN_KEYS = 500;
/** Keys of the `notifications:` section (channels and thresholds): a handful in any real file. */
export const CONFIG_MAX_NOTIFICATION_KEYS = 50;
