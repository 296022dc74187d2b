/**
 * Scenarios (StartScenarios) and HTTP requests to running sessions: the body
 * reaches the flow as an `http` event and the flow's `respond` is the answer.
 */
import type { FastifyInstance } from 'fastify';
import type { HttpRequest } from '../../runtime/ports.js';
import type { ApiContext } from '../context.js';
import { ApiError } from '../errors.js';
import { errorResponses, runtimeCall } from './common.js';

export function sessionRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { backend } = ctx;

  app.post(
    '/v1/scenarios/:name',
    {
      config: { scope: 'control' },
      schema: {
        tags: ['sessions'],
        summary: 'Start a scenario; the JSON body holds its variables (StartScenarios)',
        params: {
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string', minLength: 1, maxLength: 200 } },
        },
        body: {
          type: 'object',
          maxProperties: 100,
          additionalProperties: { type: ['string', 'number', 'boolean'] },
        },
        response: {
          201: {
            type: 'object',
            properties: { session: { type: 'string' }, scenario: { type: 'string' } },
          },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const { name } = req.params as { name: string };
      const vars = (req.body ?? {}) as Record<string, unknown>;
      if (!backend.runtime.scenarioDoc(name))
        throw new ApiError(404, 'unknown-scenario', `no scenario named "${name}"`);
      const flow = await runtimeCall(() => {
        try {
          return backend.runtime.startScenario(name, vars);
        } catch (err) {
          // A known scenario refusing its variables is the client's mistake, not a missing thing.
          if (err instanceof Error && /needs the variable/.test(err.message))
            throw new ApiError(422, 'missing-variable', err.message);
          throw err;
        }
      });
      return reply.code(201).send({ session: flow.id, scenario: name });
    },
  );

  app.post(
    '/v1/sessions/:id/requests',
    {
      config: { scope: 'control' },
      schema: {
        tags: ['sessions'],
        summary:
          'Deliver a request to a running session (a conference by name, or a flow by id) as an `http` event; the flow answers',
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', minLength: 1, maxLength: 300 } },
        },
        querystring: {
          type: 'object',
          properties: { path: { type: 'string', pattern: '^/', maxLength: 512 } },
          additionalProperties: { type: 'string' },
        },
        response: { ...errorResponses, 504: { $ref: 'Error#' } },
      },
    },
    async (req, reply) => {
      const { id } = req.params as { id: string };
      const { path = '/', ...query } = req.query as Record<string, string>;
      const runtime = backend.runtime;
      const conf = runtime.conference(id);
      const target =
        conf && !conf.ended ? { conference: id } : runtime.flowSession(id) ? { flow: id } : undefined;
      if (!target) throw new ApiError(404, 'session-not-found', `no running conference or flow "${id}"`);
      const answer = await new Promise<{ status: number; body: unknown }>((resolve) => {
        let done = false;
        const timer = setTimeout(() => {
          done = true;
          resolve({
            status: 504,
            body: new ApiError(
              504,
              'no-response',
              `the flow did not respond within ${ctx.sessionTimeoutMs} ms`,
            ).body(),
          });
        }, ctx.sessionTimeoutMs);
        const request: HttpRequest = {
          method: 'POST',
          path,
          query,
          body: req.body ?? null,
          get responded() {
            return done;
          },
          respond(status, body) {
            if (done) return;
            done = true;
            clearTimeout(timer);
            resolve({ status, body });
          },
        };
        runtime.http(target, request);
      });
      // The flow chooses the status; the schema's typed codes do not apply to it.
      const status = (
        Number.isInteger(answer.status) && answer.status >= 200 && answer.status <= 599 ? answer.status : 500
      ) as 404;
      if (answer.body === undefined) return reply.code(status).send();
      return reply.code(status).type('application/json').send(JSON.stringify(answer.body));
    },
  );
}
