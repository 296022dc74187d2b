/** The subset of pino's logger the SIP layer writes to (pino itself satisfies it). */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Discards everything; the default when no logger is injected. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** A logger that adds fixed fields (the call's callId) to every line. */
export function withFields(logger: Logger, fields: object): Logger {
  return {
    debug: (obj, msg) => logger.debug({ ...fields, ...obj }, msg),
    info: (obj, msg) => logger.info({ ...fields, ...obj }, msg),
    warn: (obj, msg) => logger.warn({ ...fields, ...obj }, msg),
    error: (obj, msg) => logger.error({ ...fields, ...obj }, msg),
  };
}
