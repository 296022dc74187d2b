/**
 * The HTTP API: fastify with JSON Schema on every route, OpenAPI at /docs,
 * bearer tokens with `read`/`control` scopes, rate limits, precise error bodies,
 * the event stream (SSE, WebSocket, webhooks), /metrics, /healthz, /readyz and
 * the management page at /.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { ReloadResult } from '../runtime/config-store.js';
import type { Logger, RuntimeEvent } from '../runtime/ports.js';
import type { ApiBackend } from './backend.js';
import type { ApiContext, ApiRecording } from './context.js';
import { ApiError, errorSchema } from './errors.js';
import { EventHub } from './event-hub.js';
import { Metrics } from './metrics.js';
import { conferenceRoutes } from './routes/conferences.js';
import { configRoutes } from './routes/config.js';
import { eventRoutes } from './routes/events.js';
import { recordingRoutes } from './routes/recordings.js';
import { sessionRoutes } from './routes/sessions.js';
import { type ApiToken, findToken, type Scope } from './tokens.js';
import { conferenceSchema, participantSchema } from './views.js';
import { Webhooks } from './webhooks.js';

export interface ApiOptions {
  backend: ApiBackend;
  /** Accepted tokens; empty only together with `anonymous`. */
  tokens: readonly ApiToken[];
  /** No authentication at all: loopback development only (the caller checks the bind address). */
  anonymous?: boolean;
  logger: Logger;
  /** Requests per token (or per address without one) per minute. Default 1200. */
  rateLimitPerMinute?: number;
  /** How long a session request waits for the flow's answer. Default 10 s. */
  sessionTimeoutMs?: number;
  /** Folder of the management page. Default the package's `web/`. */
  webDir?: string;
  webhookRetryDelaysMs?: readonly number[];
}

export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

function presentedToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (h !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    return m?.[1] ?? '';
  }
  // EventSource, WebSocket and <audio> cannot send headers: GETs may carry the token in the query.
  if (req.method === 'GET') {
    const q = (req.query as Record<string, unknown> | undefined)?.access_token;
    if (typeof q === 'string') return q;
  }
  return undefined;
}

export class ParleyApi {
  readonly app: FastifyInstance;
  readonly hub: EventHub;
  readonly metrics: Metrics;
  readonly webhooks: Webhooks;

  private constructor(app: FastifyInstance, ctx: ApiContext, metrics: Metrics) {
    this.app = app;
    this.hub = ctx.hub;
    this.webhooks = ctx.webhooks;
    this.metrics = metrics;
  }

  static async create(options: ApiOptions): Promise<ParleyApi> {
    if (options.tokens.length === 0 && !options.anonymous)
      throw new Error('the HTTP API needs at least one token (or anonymous access for loopback development)');
    const { backend, logger } = options;
    const app = Fastify({
      logger: false,
      bodyLimit: 64 * 1024,
      // Event streams stay open for ever: closing the server must not wait for their clients.
      forceCloseConnections: true,
      // Unknown properties are errors, not silently dropped.
      ajv: { customOptions: { removeAdditional: false, allErrors: false, allowUnionTypes: true } },
      routerOptions: { ignoreTrailingSlash: true },
    });
    const recordingsDir = path.resolve(backend.recordingsDir);
    const hub = new EventHub({
      conferenceOf: (leg) => backend.runtime.flowSession(leg)?.conference?.name,
      callerOf: (leg) => backend.runtime.flowSession(leg)?.from,
      version: () => backend.config.current.version,
      recordingPath: (file) => path.join(recordingsDir, file),
    });
    const webhooks = new Webhooks(hub, {
      logger,
      ...(options.webhookRetryDelaysMs ? { retryDelaysMs: options.webhookRetryDelaysMs } : {}),
    });
    const ctx: ApiContext = {
      backend,
      hub,
      webhooks,
      recordings: new Map<string, ApiRecording>(),
      sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
    };
    const metrics = new Metrics(backend, hub);

    app.addSchema(errorSchema);
    app.addSchema(participantSchema);
    app.addSchema(conferenceSchema);

    app.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
      if (err instanceof ApiError) return reply.code(err.status).send(err.body());
      if (err.validation) {
        const details = err.validation.map((v) => ({
          where: `${err.validationContext ?? 'request'}${v.instancePath}`,
          message: v.message ?? 'is not valid',
          ...(v.params && Object.keys(v.params).length > 0 ? { params: v.params } : {}),
        }));
        return reply.code(422).send(new ApiError(422, 'invalid-request', err.message, details).body());
      }
      const status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
      if (status >= 500) logger.error({ url: req.url, err: err.message }, 'API request failed');
      const code =
        err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
          ? 'unsupported-media-type'
          : err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
            ? 'body-too-large'
            : status === 400
              ? 'bad-request'
              : status >= 500
                ? 'internal'
                : `http-${status}`;
      const message = status >= 500 ? 'internal error (see the server log)' : err.message;
      return reply.code(status).send(new ApiError(status, code, message).body());
    });
    app.setNotFoundHandler((req, reply) =>
      reply
        .code(404)
        .send(new ApiError(404, 'route-not-found', `no route ${req.method} ${req.url.split('?')[0]}`).body()),
    );

    // First: its onRequest hook marks upgrade requests, so a refused upgrade's socket is closed.
    await app.register(websocket, { options: { maxPayload: 4096 } });
    await app.register(rateLimit, {
      global: true,
      max: options.rateLimitPerMinute ?? 1200,
      timeWindow: 60_000,
      keyGenerator: (req) => presentedToken(req) ?? req.ip,
      errorResponseBuilder: (_req, c) =>
        new ApiError(429, 'rate-limited', `too many requests: at most ${c.max} per ${c.after}`),
    });

    app.addHook('onRequest', async (req, reply) => {
      const scope: Scope | undefined = req.routeOptions.config.scope;
      if (scope === undefined || options.anonymous) return;
      const presented = presentedToken(req);
      if (presented === undefined || presented === '') {
        reply.header('www-authenticate', 'Bearer realm="parley"');
        throw new ApiError(401, 'unauthorized', 'send a token: Authorization: Bearer <token>');
      }
      const token = findToken(options.tokens, presented);
      if (!token) {
        reply.header('www-authenticate', 'Bearer realm="parley", error="invalid_token"');
        throw new ApiError(401, 'unauthorized', 'the token is not valid');
      }
      if (!token.scopes.has(scope))
        throw new ApiError(403, 'forbidden', `this token lacks the "${scope}" scope`, { needs: scope });
    });

    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Parley HTTP API',
          version: '1',
          description:
            'Control and observe Parley conferences. Authenticate with `Authorization: Bearer <token>`; tokens have the scopes `read` and/or `control`. Errors answer `{"error": {status, code, message, details?}}`.',
        },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
        security: [{ bearer: [] }],
      },
      refResolver: { buildLocalReference: (json, _base, _frag, i) => String(json.$id ?? `def-${i}`) },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });

    const webDir = options.webDir ?? DEFAULT_WEB_DIR;
    await app.register(fastifyStatic, {
      root: existsSync(webDir) ? webDir : recordingsDir,
      serve: existsSync(webDir),
      prefix: '/',
      index: ['index.html'],
      cacheControl: false,
    });

    app.get('/healthz', { schema: { tags: ['operations'], summary: 'Alive' } }, async () => ({
      status: 'ok',
    }));
    app.get(
      '/readyz',
      { schema: { tags: ['operations'], summary: 'Ready to take calls' } },
      async (_req, reply) =>
        backend.ready()
          ? { status: 'ready', version: backend.config.current.version }
          : reply.code(503).send(new ApiError(503, 'not-ready', 'starting or stopping').body()),
    );
    app.get(
      '/metrics',
      { config: { scope: 'read' }, schema: { tags: ['operations'], summary: 'Prometheus metrics' } },
      async (_req, reply) => {
        const text = await metrics.registry.metrics();
        return reply.type(metrics.registry.contentType).send(text);
      },
    );

    conferenceRoutes(app, ctx);
    sessionRoutes(app, ctx);
    recordingRoutes(app, ctx);
    configRoutes(app, ctx);
    eventRoutes(app, ctx);
    await app.ready();
    return new ParleyApi(app, ctx, metrics);
  }

  /** Every runtime event comes through here (ServerOptions.onEvent). */
  ingest(e: RuntimeEvent): void {
    this.metrics.runtimeEvent(e);
    this.hub.ingest(e);
  }

  /** A configuration reload's outcome: an event and a metric. */
  reloaded(result: ReloadResult): void {
    this.metrics.reload(result);
    if (result.status === 'reloaded')
      this.hub.publish('config.reloaded', {}, { version: result.version.version, previous: result.previous });
    else if (result.status === 'refused') {
      const first = result.refused.errors[0];
      this.hub.publish(
        'config.refused',
        {},
        {
          version: result.version.version,
          errors: result.refused.errors.length,
          ...(first ? { first: `${first.file}:${first.line}:${first.col}: ${first.message}` } : {}),
        },
      );
    }
  }

  /** Listens; resolves with the bound address (`host:port`). */
  async listen(host: string, port: number): Promise<{ host: string; port: number }> {
    await this.app.listen({ host, port });
    const addr = this.app.server.address();
    if (addr === null || typeof addr === 'string') return { host, port };
    return { host: addr.address, port: addr.port };
  }

  async close(): Promise<void> {
    this.webhooks.close();
    // Event-stream clients would otherwise hold the close until they leave.
    for (const c of this.app.websocketServer?.clients ?? []) c.terminate();
    await this.app.close();
  }
}
