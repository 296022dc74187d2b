/**
 * Conferences and their participants: start (StartConference), list, get, end,
 * lock/unlock; dial out, mute, deaf, kick, move, prompts; recordings, links and
 * messages of a conference.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Audience } from '../../compiler/ast.js';
import type { ApiContext } from '../context.js';
import { ApiError } from '../errors.js';
import { conferenceView, participantView } from '../views.js';
import {
  accepted,
  errorResponses,
  memberOf,
  nameParam,
  type PromptBody,
  participantParams,
  playBody,
  promptSourceOf,
  runningConference,
  runtimeCall,
  sayBody,
} from './common.js';

const tags = ['conferences'];
const ptags = ['participants'];

export function conferenceRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { backend, hub } = ctx;
  const view = (name: string) => conferenceView(runningConference(ctx, name), backend, hub);

  app.get(
    '/v1/conferences',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: 'Running standalone conferences with their participants',
        response: {
          200: {
            type: 'object',
            properties: { conferences: { type: 'array', items: { $ref: 'Conference#' } } },
          },
          ...errorResponses,
        },
      },
    },
    async () => ({
      conferences: backend.runtime
        .conferences()
        .filter((c) => !c.ended)
        .map((c) => conferenceView(c, backend, hub)),
    }),
  );

  app.post(
    '/v1/conferences',
    {
      config: { scope: 'control' },
      schema: {
        tags,
        summary: 'Start a standalone conference by name (StartConference)',
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^/\\s]+$' } },
        },
        response: { 201: { $ref: 'Conference#' }, ...errorResponses },
      },
    },
    async (req, reply) => {
      const { name } = req.body as { name: string };
      const running = backend.runtime.conference(name);
      if (running && !running.ended)
        throw new ApiError(409, 'conference-running', `conference "${name}" is already running`);
      const conf = await runtimeCall(() => backend.runtime.startConference(name));
      return reply.code(201).send(conferenceView(conf, backend, hub));
    },
  );

  app.get(
    '/v1/conferences/:name',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: 'One running conference',
        params: nameParam,
        response: { 200: { $ref: 'Conference#' }, ...errorResponses },
      },
    },
    async (req) => view((req.params as { name: string }).name),
  );

  app.delete(
    '/v1/conferences/:name',
    {
      config: { scope: 'control' },
      schema: {
        tags,
        summary: 'End a conference: every participant is hung up',
        params: nameParam,
        response: { 200: accepted, ...errorResponses },
      },
    },
    async (req) => {
      const conf = runningConference(ctx, (req.params as { name: string }).name);
      await conf.end('api');
      return { status: 'ended', conference: conf.name };
    },
  );

  for (const lock of [true, false]) {
    app.post(
      `/v1/conferences/:name/${lock ? 'lock' : 'unlock'}`,
      {
        config: { scope: 'control' },
        schema: {
          tags,
          summary: lock ? 'Lock: new participants are refused' : 'Unlock',
          params: nameParam,
          response: { 200: { $ref: 'Conference#' }, ...errorResponses },
        },
      },
      async (req) => {
        const conf = runningConference(ctx, (req.params as { name: string }).name);
        conf.locked = lock;
        return conferenceView(conf, backend, hub);
      },
    );
  }

  // ───────────────────────────── conference actions ─────────────────────────────

  for (const kind of ['say', 'play'] as const) {
    app.post(
      `/v1/conferences/:name/${kind}`,
      {
        config: { scope: 'control' },
        schema: {
          tags,
          summary: kind === 'say' ? 'Say text to everyone' : 'Play an audio file or URL to everyone',
          params: nameParam,
          body: kind === 'say' ? sayBody : playBody,
          response: { 202: accepted, ...errorResponses },
        },
      },
      async (req, reply) => {
        const conf = runningConference(ctx, (req.params as { name: string }).name);
        const source = promptSourceOf(kind, req.body as PromptBody);
        conf.emit(kind, {
          ...(kind === 'say' ? { text: (req.body as PromptBody).text ?? '' } : {}),
          to: 'all',
        });
        void conf
          .prompt('all', {}, source, { loop: false, signal: new AbortController().signal })
          .catch((err) => conf.logError(`api ${kind}`, err));
        return reply.code(202).send({ status: 'playing', to: 'all' });
      },
    );
  }

  app.post(
    '/v1/conferences/:name/recordings',
    {
      config: { scope: 'control' },
      schema: {
        tags,
        summary: 'Start recording the mix, or one participant with a direction',
        params: nameParam,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            participant: { type: 'string', minLength: 1 },
            direction: { type: 'string', enum: ['in', 'out', 'both'] },
            file: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\w.@+=,-]+$' },
          },
        },
        response: {
          201: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              file: { type: 'string' },
              participant: { type: 'string' },
              direction: { type: 'string' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const conf = runningConference(ctx, (req.params as { name: string }).name);
      const body = (req.body ?? {}) as {
        participant?: string;
        direction?: 'in' | 'out' | 'both';
        file?: string;
      };
      if (body.participant !== undefined) memberOf(conf, body.participant);
      const direction = body.direction ?? (body.participant !== undefined ? 'both' : 'in');
      if (body.participant === undefined && body.direction !== undefined && body.direction !== 'in')
        throw new ApiError(422, 'invalid-request', 'the mix is recorded as heard: direction must be "in"');
      const id = randomUUID();
      const handle = await runtimeCall(() =>
        conf.record(
          {
            what: body.participant !== undefined ? 'participant' : 'conference',
            direction,
            ...(body.file !== undefined ? { file: body.file } : {}),
          },
          body.participant,
          () => ctx.recordings.delete(id),
        ),
      );
      ctx.recordings.set(id, {
        id,
        conference: conf.name,
        direction,
        handle,
        startedAt: new Date(),
        ...(body.participant !== undefined ? { participant: body.participant } : {}),
      });
      return reply.code(201).send({
        id,
        file: handle.file,
        direction,
        ...(body.participant !== undefined ? { participant: body.participant } : {}),
      });
    },
  );

  app.delete(
    '/v1/conferences/:name/recordings/:id',
    {
      config: { scope: 'control' },
      schema: {
        tags,
        summary: 'Stop a recording started over the API; answers when the file is closed',
        params: participantParams,
        response: {
          200: {
            type: 'object',
            properties: { id: { type: 'string' }, file: { type: 'string' }, duration: { type: 'number' } },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const { name, id } = req.params as { name: string; id: string };
      const rec = ctx.recordings.get(id);
      if (!rec || rec.conference !== name)
        throw new ApiError(404, 'recording-not-found', `no recording "${id}" running in "${name}"`);
      ctx.recordings.delete(id);
      const result = await rec.handle.stop();
      return { id, file: result.file, duration: Math.round(result.durationMs) / 1000 };
    },
  );

  app.post(
    '/v1/conferences/:name/links',
    {
      config: { scope: 'control' },
      schema: {
        tags,
        summary: 'Link this conference with another running one',
        params: nameParam,
        body: {
          type: 'object',
          required: ['conference'],
          additionalProperties: false,
          properties: {
            conference: { type: 'string', minLength: 1 },
            direction: { type: 'string', enum: ['both', 'in', 'out'] },
          },
        },
        response: { 201: accepted, ...errorResponses },
      },
    },
    async (req, reply) => {
      const conf = runningConference(ctx, (req.params as { name: string }).name);
      const body = req.body as { conference: string; direction?: 'both' | 'in' | 'out' };
      if (body.conference === conf.name)
        throw new ApiError(422, 'invalid-request', 'a conference cannot be linked to itself');
      runningConference(ctx, body.conference);
      const direction = body.direction ?? 'both';
      await runtimeCall(() => conf.link(body.conference, direction));
      return reply.code(201).send({ status: 'linked', conference: body.conference, direction });
    },
  );

  app.delete(
    '/v1/conferences/:name/links/:other',
    {
      config: { scope: 'control' },
      schema: {
        tags,
        summary: 'Unlink two conferences',
        params: {
          type: 'object',
          required: ['name', 'other'],
          properties: { name: { type: 'string' }, other: { type: 'string' } },
        },
        response: { 200: accepted, ...errorResponses },
      },
    },
    async (req) => {
      const { name, other } = req.params as { name: string; other: string };
      const conf = runningConference(ctx, name);
      await runtimeCall(() => conf.unlink(other));
      return { status: 'unlinked', conference: other };
    },
  );

  app.post(
    '/v1/conferences/:name/messages',
    {
      config: { scope: 'control' },
      schema: {
        tags,
        summary: 'Send an in-call text message to every participant, or to some',
        params: nameParam,
        body: {
          type: 'object',
          required: ['text'],
          additionalProperties: false,
          properties: {
            text: { type: 'string', minLength: 1, maxLength: 1000 },
            to: { type: 'array', items: { type: 'string' }, maxItems: 1000 },
          },
        },
        response: { 202: accepted, ...errorResponses },
      },
    },
    async (req, reply) => {
      const conf = runningConference(ctx, (req.params as { name: string }).name);
      const body = req.body as { text: string; to?: string[] };
      const members = body.to ? body.to.map((id) => memberOf(conf, id)) : conf.members();
      conf.emit('send', { text: body.text, to: body.to ? body.to.join(',') : 'all' });
      const results = await Promise.allSettled(members.map((m) => m.participant.sendMessage(body.text)));
      const sent = results.filter((r) => r.status === 'fulfilled').length;
      return reply.code(202).send({ status: 'sent', sent, failed: results.length - sent });
    },
  );

  // ───────────────────────────── participants ─────────────────────────────

  app.post(
    '/v1/conferences/:name/participants',
    {
      config: { scope: 'control' },
      schema: {
        tags: ptags,
        summary:
          'Dial a participant out into the conference (dialout.allow applies); answers once it is answered',
        params: nameParam,
        body: {
          type: 'object',
          required: ['to'],
          additionalProperties: false,
          properties: {
            to: { type: 'string', pattern: '^sips?:', maxLength: 512 },
            from: { type: 'string', maxLength: 512 },
            trunk: { type: 'string' },
            timeout: { type: 'number', minimum: 1, maximum: 300, description: 'Seconds of ringing' },
            start: { type: 'string', description: 'State of the participant flow to start in' },
          },
        },
        response: {
          201: {
            type: 'object',
            properties: { status: { type: 'string' }, participant: { type: 'string' } },
          },
          ...errorResponses,
          502: { $ref: 'Error#' },
        },
      },
    },
    async (req, reply) => {
      const conf = runningConference(ctx, (req.params as { name: string }).name);
      const body = req.body as {
        to: string;
        from?: string;
        trunk?: string;
        timeout?: number;
        start?: string;
      };
      if (!backend.runtime.dialAllowed(body.to))
        throw new ApiError(422, 'dial-refused', `"${body.to}" is not allowed by dialout.allow`);
      const abort = new AbortController();
      // A client that gives up cancels the attempt.
      // (the request stream closes once its body is read; the response's closing before it finished is the signal)
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) abort.abort();
      });
      const outcome = await runtimeCall(() =>
        backend.runtime.dialInto(
          conf,
          {
            to: body.to,
            timeoutMs: (body.timeout ?? 30) * 1000,
            ...(body.from !== undefined ? { from: body.from } : {}),
            ...(body.trunk !== undefined ? { trunk: body.trunk } : {}),
            ...(body.start !== undefined ? { start: body.start } : {}),
          },
          abort.signal,
        ),
      );
      if (outcome.status !== 'answered')
        throw new ApiError(
          502,
          `dial-${outcome.status}`,
          `${body.to}: ${outcome.status}${outcome.reason ? ` (${outcome.reason})` : ''}`,
        );
      return reply.code(201).send({ status: 'answered', participant: outcome.participant });
    },
  );

  app.get(
    '/v1/conferences/:name/participants/:id',
    {
      config: { scope: 'read' },
      schema: {
        tags: ptags,
        summary: 'One participant',
        params: participantParams,
        response: { 200: { $ref: 'Participant#' }, ...errorResponses },
      },
    },
    async (req) => {
      const { name, id } = req.params as { name: string; id: string };
      const conf = runningConference(ctx, name);
      return participantView(conf, memberOf(conf, id), backend, hub);
    },
  );

  const flags = [
    ['mute', 'muted', true],
    ['unmute', 'muted', false],
    ['deaf', 'deaf', true],
    ['undeaf', 'deaf', false],
  ] as const;
  for (const [action, flag, value] of flags) {
    app.post(
      `/v1/conferences/:name/participants/:id/${action}`,
      {
        config: { scope: 'control' },
        schema: {
          tags: ptags,
          summary: `${action[0]?.toUpperCase()}${action.slice(1)} a participant`,
          params: participantParams,
          response: { 200: { $ref: 'Participant#' }, ...errorResponses },
        },
      },
      async (req) => {
        const { name, id } = req.params as { name: string; id: string };
        const conf = runningConference(ctx, name);
        memberOf(conf, id);
        await conf.setFlag([id], flag, value);
        return participantView(conf, memberOf(conf, id), backend, hub);
      },
    );
  }

  app.put(
    '/v1/conferences/:name/participants/:id/gain',
    {
      config: { scope: 'control' },
      schema: {
        tags: ptags,
        summary: "Gain on a participant's voice in the mix (1 = as received, 0 = silent, up to 16)",
        params: participantParams,
        body: {
          type: 'object',
          required: ['gain'],
          additionalProperties: false,
          properties: { gain: { type: 'number', minimum: 0, maximum: 16 } },
        },
        response: { 200: { $ref: 'Participant#' }, ...errorResponses },
      },
    },
    async (req) => {
      const { name, id } = req.params as { name: string; id: string };
      const conf = runningConference(ctx, name);
      memberOf(conf, id);
      await conf.setGain(id, (req.body as { gain: number }).gain);
      return participantView(conf, memberOf(conf, id), backend, hub);
    },
  );

  app.delete(
    '/v1/conferences/:name/participants/:id',
    {
      config: { scope: 'control' },
      schema: {
        tags: ptags,
        summary: 'Kick: the participant is hung up',
        params: participantParams,
        response: { 200: accepted, ...errorResponses },
      },
    },
    async (req) => {
      const { name, id } = req.params as { name: string; id: string };
      const conf = runningConference(ctx, name);
      memberOf(conf, id);
      const flow = backend.runtime.flowSession(id);
      if (flow) await flow.close('kicked');
      else await conf.leave(id, 'leave');
      return { status: 'kicked', participant: id };
    },
  );

  app.post(
    '/v1/conferences/:name/participants/:id/move',
    {
      config: { scope: 'control' },
      schema: {
        tags: ptags,
        summary: 'Move a participant into another standalone conference (started when not running)',
        params: participantParams,
        body: {
          type: 'object',
          required: ['conference'],
          additionalProperties: false,
          properties: {
            conference: { type: 'string', minLength: 1, maxLength: 200 },
            role: { type: 'string', minLength: 1, maxLength: 64 },
          },
        },
        response: { 200: { $ref: 'Participant#' }, ...errorResponses },
      },
    },
    async (req) => {
      const { name, id } = req.params as { name: string; id: string };
      const body = req.body as { conference: string; role?: string };
      const conf = runningConference(ctx, name);
      const m = memberOf(conf, id);
      if (body.conference === name)
        throw new ApiError(409, 'already-there', `participant "${id}" is already in "${name}"`);
      const flow = backend.runtime.flowSession(id);
      if (!flow) throw new ApiError(409, 'not-movable', `participant "${id}" has no flow of its own to move`);
      const target = await runtimeCall(() => backend.runtime.startConference(body.conference));
      // The move is the flow's own `join` action: it leaves the old conference and tells the flow.
      const life = new AbortController();
      await runtimeCall(() =>
        flow.perform(
          {
            type: 'join',
            src: target.doc.src,
            params: {
              conference: target.name,
              muted: m.muted,
              deaf: m.deaf,
              role: body.role ?? m.role,
              speak: m.speak,
              hear: m.hear,
              ...(m.music !== undefined ? { music: m.music } : {}),
            },
          },
          { event: { type: 'api.move' }, signal: life.signal, flowSignal: life.signal, src: target.doc.src },
        ),
      );
      const moved = target.member(id);
      if (!moved)
        throw new ApiError(409, 'conference-full', `conference "${target.name}" refused the participant`);
      return participantView(target, moved, backend, hub);
    },
  );

  for (const kind of ['say', 'play'] as const) {
    app.post(
      `/v1/conferences/:name/participants/:id/${kind}`,
      {
        config: { scope: 'control' },
        schema: {
          tags: ptags,
          summary: kind === 'say' ? 'Say text to one participant' : 'Play a file or URL to one participant',
          params: participantParams,
          body: kind === 'say' ? sayBody : playBody,
          response: { 202: accepted, ...errorResponses },
        },
      },
      async (req, reply) => {
        const { name, id } = req.params as { name: string; id: string };
        const conf = runningConference(ctx, name);
        memberOf(conf, id);
        const source = promptSourceOf(kind, req.body as PromptBody);
        const self: Audience = 'self';
        void conf
          .prompt(self, { self: id }, source, { loop: false, signal: new AbortController().signal })
          .catch((err) => conf.logError(`api ${kind}`, err));
        return reply.code(202).send({ status: 'playing', to: id });
      },
    );
  }
}
