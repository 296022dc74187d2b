/** Recordings on disk: list, download (audio/wav, Range requests), delete. */
import { readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type {} from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.js';
import { ApiError } from '../errors.js';
import { errorResponses } from './common.js';

interface Listed {
  id: string;
  size: number;
  modified: string;
  url: string;
  recording: boolean;
}

async function walk(dir: string, base: string, out: string[]): Promise<void> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) await walk(full, base, out);
    else if (e.isFile() && /\.wav$/i.test(e.name))
      out.push(path.relative(base, full).split(path.sep).join('/'));
  }
}

/** The file a recording id names, never outside the recordings folder. */
export function recordingPath(dir: string, id: string): string {
  const full = path.resolve(dir, id);
  if (!full.startsWith(dir + path.sep) || !/\.wav$/i.test(full))
    throw new ApiError(404, 'recording-not-found', `no recording "${id}"`);
  return full;
}

export function recordingRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const dir = path.resolve(ctx.backend.recordingsDir);
  const open = () => new Set([...ctx.recordings.values()].map((r) => r.handle.file));

  app.get(
    '/v1/recordings',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['recordings'],
        summary: 'Recordings in the recordings folder, newest first',
        response: {
          200: {
            type: 'object',
            properties: {
              recordings: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'string' },
                    size: { type: 'integer' },
                    modified: { type: 'string', format: 'date-time' },
                    url: { type: 'string' },
                    recording: { type: 'boolean', description: 'Still being written' },
                  },
                },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async () => {
      const files: string[] = [];
      await walk(dir, dir, files);
      const writing = open();
      const out: Listed[] = [];
      for (const id of files) {
        const s = await stat(path.join(dir, id)).catch(() => undefined);
        if (!s) continue;
        out.push({
          id,
          size: s.size,
          modified: s.mtime.toISOString(),
          url: `/v1/recordings/${id.split('/').map(encodeURIComponent).join('/')}`,
          recording: writing.has(id),
        });
      }
      out.sort((a, b) => b.modified.localeCompare(a.modified) || a.id.localeCompare(b.id));
      return { recordings: out };
    },
  );

  app.get(
    '/v1/recordings/*',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['recordings'],
        summary: 'Download a recording (audio/wav; Range requests; ?access_token= for audio elements)',
        response: { 200: { type: 'string', format: 'binary' }, ...errorResponses },
      },
    },
    async (req, reply) => {
      const id = (req.params as { '*': string })['*'];
      const full = recordingPath(dir, id);
      const s = await stat(full).catch(() => undefined);
      if (!s?.isFile()) throw new ApiError(404, 'recording-not-found', `no recording "${id}"`);
      reply.header('content-type', 'audio/wav');
      return reply.sendFile(path.relative(dir, full), dir, { acceptRanges: true, cacheControl: false });
    },
  );

  app.delete(
    '/v1/recordings/*',
    {
      config: { scope: 'control' },
      schema: {
        tags: ['recordings'],
        summary: 'Delete a recording (409 while it is being written)',
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (req, reply) => {
      const id = (req.params as { '*': string })['*'];
      const full = recordingPath(dir, id);
      if (open().has(path.relative(dir, full).split(path.sep).join('/')))
        throw new ApiError(409, 'recording-in-progress', `"${id}" is still being recorded: stop it first`);
      try {
        await unlink(full);
      } catch {
        throw new ApiError(404, 'recording-not-found', `no recording "${id}"`);
      }
      return reply.code(204).send();
    },
  );
}
