/** The event stream over SSE and WebSocket, and webhooks per conference. */
import type {} from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';
import { ApiError } from '../errors.js';
import { type ApiEvent, EVENT_TYPES, type EventFilter } from '../event-hub.js';
import { errorResponses, nameParam } from './common.js';

const filterQuery = {
  type: 'object',
  properties: {
    conference: { type: 'string', minLength: 1, maxLength: 200 },
    types: { type: 'string', description: 'Comma-separated event types' },
    access_token: { type: 'string', description: 'For clients that cannot send headers (EventSource)' },
  },
} as const;

function filterOf(q: { conference?: string; types?: string }): EventFilter {
  const types = q.types
    ?.split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  for (const t of types ?? [])
    if (!(EVENT_TYPES as readonly string[]).includes(t))
      throw new ApiError(
        422,
        'invalid-request',
        `unknown event type "${t}" (known: ${EVENT_TYPES.join(', ')})`,
      );
  return {
    ...(q.conference !== undefined ? { conference: q.conference } : {}),
    ...(types && types.length > 0 ? { types: new Set(types) } : {}),
  };
}

const KEEPALIVE_MS = 15_000;

export function eventRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { hub, webhooks } = ctx;

  app.get(
    '/v1/events',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['events'],
        summary: 'Server-sent events; `Last-Event-ID` resumes from the backlog',
        querystring: filterQuery,
        response: { 200: { type: 'string', description: 'text/event-stream' }, ...errorResponses },
      },
    },
    async (req, reply) => {
      const filter = filterOf(req.query as { conference?: string; types?: string });
      const last = Number(req.headers['last-event-id']);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const send = (e: ApiEvent) => {
        res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
      };
      res.write(': parley events\nretry: 2000\n\n');
      if (Number.isInteger(last) && last >= 0) for (const e of hub.since(last, filter)) send(e);
      const unsubscribe = hub.subscribe(filter, send);
      const keepalive = setInterval(() => res.write(': keep-alive\n\n'), KEEPALIVE_MS);
      const close = () => {
        clearInterval(keepalive);
        unsubscribe();
      };
      res.once('close', close);
      res.once('error', close);
    },
  );

  app.get(
    '/v1/events/ws',
    {
      websocket: true,
      config: { scope: 'read' },
      schema: {
        tags: ['events'],
        summary: 'The event stream over a WebSocket: one JSON event per text message',
        querystring: filterQuery,
      },
    },
    (socket, req) => {
      let filter: EventFilter;
      try {
        filter = filterOf(req.query as { conference?: string; types?: string });
      } catch (err) {
        socket.close(1008, err instanceof Error ? err.message.slice(0, 120) : 'bad filter');
        return;
      }
      const unsubscribe = hub.subscribe(filter, (e) => {
        if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(e));
      });
      socket.on('close', unsubscribe);
      socket.on('error', unsubscribe);
      // Clients only listen; anything they send is ignored.
      socket.on('message', () => undefined);
    },
  );

  const webhookSchema = {
    type: 'object',
    properties: {
      id: { type: 'string' },
      conference: { type: 'string' },
      url: { type: 'string' },
      types: { type: 'array', items: { type: 'string' } },
      delivered: { type: 'integer' },
      failed: { type: 'integer' },
      lastError: { type: 'string' },
    },
  } as const;

  app.post(
    '/v1/conferences/:name/webhooks',
    {
      config: { scope: 'control' },
      schema: {
        tags: ['events'],
        summary:
          'Send this conference\'s events to a URL, signed: X-Parley-Signature: t=<unix>,v1=hex(HMAC-SHA256(secret, "<t>.<body>"))',
        params: nameParam,
        body: {
          type: 'object',
          required: ['url'],
          additionalProperties: false,
          properties: {
            url: { type: 'string', format: 'uri', pattern: '^https?://', maxLength: 2048 },
            secret: { type: 'string', minLength: 16, maxLength: 256 },
            types: { type: 'array', items: { type: 'string', enum: [...EVENT_TYPES] }, maxItems: 20 },
          },
        },
        response: {
          201: { ...webhookSchema, properties: { ...webhookSchema.properties, secret: { type: 'string' } } },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const { name } = req.params as { name: string };
      const body = req.body as { url: string; secret?: string; types?: string[] };
      const hook = webhooks.add(name, body.url, body.types ?? [], body.secret);
      return reply.code(201).send(hook);
    },
  );

  app.get(
    '/v1/webhooks',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['events'],
        summary: 'Registered webhooks (without their secrets)',
        querystring: { type: 'object', properties: { conference: { type: 'string' } } },
        response: {
          200: { type: 'object', properties: { webhooks: { type: 'array', items: webhookSchema } } },
          ...errorResponses,
        },
      },
    },
    async (req) => ({ webhooks: webhooks.list((req.query as { conference?: string }).conference) }),
  );

  app.delete(
    '/v1/webhooks/:id',
    {
      config: { scope: 'control' },
      schema: {
        tags: ['events'],
        summary: 'Remove a webhook',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } },
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (req, reply) => {
      const { id } = req.params as { id: string };
      if (!webhooks.remove(id)) throw new ApiError(404, 'webhook-not-found', `no webhook "${id}"`);
      return reply.code(204).send();
    },
  );
}
