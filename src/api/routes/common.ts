/** Shared lookups and schema pieces of the route modules. */
import type { ConferenceActor, Member } from '../../runtime/conference/actor.js';
import { RuntimeError } from '../../runtime/errors.js';
import type { PromptSource } from '../../runtime/ports.js';
import type { ApiContext } from '../context.js';
import { ApiError } from '../errors.js';

export function runningConference(ctx: ApiContext, name: string): ConferenceActor {
  const conf = ctx.backend.runtime.conference(name);
  if (!conf || conf.ended) throw new ApiError(404, 'conference-not-found', `no running conference "${name}"`);
  return conf;
}

export function memberOf(conf: ConferenceActor, id: string): Member {
  const m = conf.member(id);
  if (!m)
    throw new ApiError(404, 'participant-not-found', `no participant "${id}" in conference "${conf.name}"`);
  return m;
}

/** Runtime errors as API errors: unknown names are 404, refusals 422, the rest 500. */
export function fromRuntime(err: unknown): unknown {
  if (!(err instanceof RuntimeError)) return err;
  switch (err.code) {
    case 'unknown-conference':
    case 'unknown-scenario':
      return new ApiError(404, err.code, err.message);
    case 'dial-refused':
    case 'unknown-state':
    case 'not-in-conference':
    case 'call-state':
      return new ApiError(422, err.code, err.message);
    default:
      return new ApiError(500, err.code, err.message);
  }
}

export async function runtimeCall<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw fromRuntime(err);
  }
}

export interface PromptBody {
  text?: string;
  voice?: string;
  file?: string;
  url?: string;
}

/** `say` bodies need `text`; `play` bodies one of `file` or `url`. */
export function promptSourceOf(kind: 'say' | 'play', body: PromptBody): PromptSource {
  if (kind === 'say')
    return { kind: 'tts', text: body.text ?? '', ...(body.voice ? { voice: body.voice } : {}) };
  if (body.file !== undefined) {
    // Files are relative to the configuration root: no way out of it.
    if (body.file.split(/[\\/]/).includes('..') || body.file.startsWith('/'))
      throw new ApiError(422, 'invalid-file', 'file must be a path inside the configuration folder');
    return { kind: 'file', path: body.file };
  }
  if (body.url !== undefined) return { kind: 'url', url: body.url };
  throw new ApiError(422, 'invalid-request', 'give "file" or "url"');
}

export const sayBody = {
  type: 'object',
  required: ['text'],
  additionalProperties: false,
  properties: {
    text: { type: 'string', minLength: 1, maxLength: 2000 },
    voice: { type: 'string', maxLength: 64 },
  },
} as const;

export const playBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  maxProperties: 1,
  properties: {
    file: { type: 'string', minLength: 1, maxLength: 1024 },
    url: { type: 'string', format: 'uri', pattern: '^https?://', maxLength: 2048 },
  },
} as const;

export const nameParam = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;

export const participantParams = {
  type: 'object',
  required: ['name', 'id'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    id: { type: 'string', minLength: 1, maxLength: 200 },
  },
} as const;

export const errorResponses = {
  401: { $ref: 'Error#' },
  403: { $ref: 'Error#' },
  404: { $ref: 'Error#' },
  409: { $ref: 'Error#' },
  422: { $ref: 'Error#' },
  429: { $ref: 'Error#' },
} as const;

export const accepted = {
  type: 'object',
  properties: { status: { type: 'string' } },
  additionalProperties: true,
} as const;
