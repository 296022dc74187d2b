import { type CliIO, EXIT_INVALID, EXIT_OK } from '../io.js';
import { validateCommand } from './validate.js';

/**
 * `parley serve [paths...]`. The SIP/RTP runtime is not part of this release:
 * the command validates and compiles the configuration it would serve, says so
 * plainly, and exits 0 only when the configuration is valid.
 */
export function serveCommand(paths: string[], io: CliIO): number {
  const code = validateCommand(paths, { format: 'text' }, io);
  if (code !== EXIT_OK) return EXIT_INVALID;
  io.out(
    'parley serve: the configuration is valid, but the SIP/RTP server is not built yet; ' +
      'nothing is listening. Use `parley simulate` or `parley test` to run the flows.',
  );
  return EXIT_OK;
}
