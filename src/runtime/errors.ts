/** Typed runtime errors. Each carries where it came from: a source position, a call or a conference. */
import type { SourceRef } from '../compiler/diagnostics.js';

export type RuntimeErrorCode =
  | 'action-failed'
  | 'expression'
  | 'call-state'
  | 'not-in-conference'
  | 'no-conference'
  | 'unknown-conference'
  | 'unknown-scenario'
  | 'unknown-state'
  | 'dial-refused'
  | 'media'
  | 'http';

export class RuntimeError extends Error {
  readonly code: RuntimeErrorCode;
  /** Where in the YAML the failing action or expression was written. */
  readonly src: SourceRef | undefined;
  constructor(code: RuntimeErrorCode, message: string, opts: { src?: SourceRef; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'RuntimeError';
    this.code = code;
    this.src = opts.src;
  }
}

/** An action of a flow could not be carried out (bad template at run time, port failure, ...). */
export class ActionError extends RuntimeError {
  readonly action: string;
  constructor(action: string, message: string, opts: { src?: SourceRef; cause?: unknown } = {}) {
    super('action-failed', message, opts);
    this.name = 'ActionError';
    this.action = action;
  }
}

/** A call was asked for something its state does not allow (reject after answer, ...). */
export class CallStateError extends RuntimeError {
  readonly callId: string;
  constructor(callId: string, message: string) {
    super('call-state', message);
    this.name = 'CallStateError';
    this.callId = callId;
  }
}

/** A dial-out destination is not allowed by `dialout.allow`, or names an unknown trunk. */
export class DialRefusedError extends RuntimeError {
  readonly destination: string;
  constructor(destination: string, message: string, opts: { src?: SourceRef } = {}) {
    super('dial-refused', message, opts);
    this.name = 'DialRefusedError';
    this.destination = destination;
  }
}

export function formatSrc(src: SourceRef | undefined): string {
  return src ? `${src.file}:${src.line}:${src.col}` : '<unknown>';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
