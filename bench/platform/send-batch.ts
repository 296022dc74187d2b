/**
 * Runs send-batch.c: the cost of sending one UDP datagram from each of N sockets, by sendto and by
 * one io_uring submission (the media engine's two ways). Prints its JSON line.
 *
 *   npm run bench:send-batch [-- --sockets 500] [-- --rounds 1000]
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { buildC } from './build-c.js';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  const value = at > 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} needs a positive whole number`);
  return value;
}

const binary = buildC(path.join(import.meta.dirname, 'send-batch.c'), 'send-batch', ['-luring', '-lpthread']);
process.stdout.write(
  execFileSync(binary, [String(option('--sockets', 500)), String(option('--rounds', 1000))], {
    encoding: 'utf8',
  }),
);
