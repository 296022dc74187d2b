/**
 * Error bodies of the HTTP API. Every failure answers
 * `{ "error": { "status", "code", "message", "details"? } }` so a client can branch
 * on `code` (stable, kebab-case) and show `message` (plain words) as it is.
 */

export interface ErrorBody {
  error: { status: number; code: string; message: string; details?: unknown };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** What fastify and its plugins read. */
  get statusCode(): number {
    return this.status;
  }

  body(): ErrorBody {
    return {
      error: {
        status: this.status,
        code: this.code,
        message: this.message,
        ...(this.details !== undefined ? { details: this.details } : {}),
      },
    };
  }
}

export const notFound = (what: string): ApiError => new ApiError(404, 'not-found', what);
export const conflict = (code: string, message: string): ApiError => new ApiError(409, code, message);
export const unprocessable = (code: string, message: string, details?: unknown): ApiError =>
  new ApiError(422, code, message, details);

/** JSON Schema of the error body, for the OpenAPI document. */
export const errorSchema = {
  $id: 'Error',
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['status', 'code', 'message'],
      properties: {
        status: { type: 'integer' },
        code: { type: 'string' },
        message: { type: 'string' },
        details: {},
      },
    },
  },
} as const;
