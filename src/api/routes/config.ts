/** The configuration's version, its refused successor's errors, and reload on request. */
import type { FastifyInstance } from 'fastify';
import type { Diagnostic } from '../../compiler/index.js';
import type { ConfigStore, ReloadResult } from '../../runtime/config-store.js';
import type { ApiContext } from '../context.js';
import { errorResponses } from './common.js';

const errorItem = {
  type: 'object',
  properties: {
    location: { type: 'string', description: 'file:line:col' },
    file: { type: 'string' },
    line: { type: 'integer' },
    col: { type: 'integer' },
    code: { type: 'string' },
    message: { type: 'string' },
  },
} as const;

const configSchema = {
  type: 'object',
  properties: {
    version: { type: 'string' },
    loadedAt: { type: 'string', format: 'date-time' },
    trigger: { type: 'string' },
    files: {
      type: 'array',
      items: { type: 'object', properties: { file: { type: 'string' }, sha256: { type: 'string' } } },
    },
    conferences: { type: 'array', items: { type: 'string' } },
    scenarios: { type: 'array', items: { type: 'string' } },
    refused: {
      type: ['object', 'null'],
      properties: {
        at: { type: 'string', format: 'date-time' },
        trigger: { type: 'string' },
        errors: { type: 'array', items: errorItem },
      },
    },
    reloads: {
      type: 'object',
      properties: {
        reloaded: { type: 'integer' },
        unchanged: { type: 'integer' },
        refused: { type: 'integer' },
      },
    },
  },
} as const;

export function diagnosticView(d: Diagnostic) {
  return {
    location: `${d.file}:${d.line}:${d.col}`,
    file: d.file,
    line: d.line,
    col: d.col,
    code: d.code,
    message: d.message,
  };
}

export function configView(store: ConfigStore) {
  const v = store.current;
  const r = store.refused;
  return {
    version: v.version,
    loadedAt: v.loadedAt.toISOString(),
    trigger: v.trigger,
    files: v.files,
    conferences: v.set.conferences.map((c) => c.name),
    scenarios: v.set.scenarios.map((s) => s.name),
    refused: r ? { at: r.at.toISOString(), trigger: r.trigger, errors: r.errors.map(diagnosticView) } : null,
    reloads: store.reloads,
  };
}

export function configRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const store = ctx.backend.config;
  app.get(
    '/v1/config',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['config'],
        summary: 'The configuration version serving now, and the last refused set with its errors',
        response: { 200: configSchema, ...errorResponses },
      },
    },
    async () => configView(store),
  );

  app.post(
    '/v1/config/reload',
    {
      config: { scope: 'control' },
      schema: {
        tags: ['config'],
        summary:
          'Validate and compile the configuration again; swap it in when valid (422 with the errors when not)',
        response: {
          200: {
            type: 'object',
            properties: {
              status: { type: 'string' },
              version: { type: 'string' },
              previous: { type: 'string' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (_req, reply) => {
      const result: ReloadResult = await store.reload('api');
      if (result.status === 'refused') {
        return reply.code(422).send({
          error: {
            status: 422,
            code: 'config-refused',
            message: `the configuration has ${result.refused.errors.length} error(s); version ${result.version.version.slice(0, 12)} keeps serving`,
            details: result.refused.errors.map(diagnosticView),
          },
        });
      }
      return {
        status: result.status,
        version: result.version.version,
        ...(result.status === 'reloaded' ? { previous: result.previous } : {}),
      };
    },
  );
}
