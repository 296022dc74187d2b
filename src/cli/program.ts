import { Command, CommanderError, Option } from 'commander';
import { PARLEY_VERSION } from '../version.js';
import { tuneV8ForBatchRun } from './batch-tuning.js';
import type { ServeCliOptions } from './commands/serve.js';
import { type CliIO, EXIT_OK, EXIT_USAGE, processIO, UsageError } from './io.js';

const DEFAULT_PATHS = ['conferences/'];

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

// Each command's module is imported when that command runs: `serve` pulls in the SIP
// stack, the HTTP server and the native media engine, which `validate` in CI never needs
// and which cost it about 0.3 s of start-up.

export interface RunOptions {
  /**
   * Set V8 up for a short run before a one-shot command (./batch-tuning.ts). Only for
   * the process's own command line: the flags last for the life of the process.
   */
  tuneV8?: boolean;
}

/** Builds the CLI; returns the process exit code (0 ok, 1 invalid input, 2 usage). */
export async function run(argv: string[], io: CliIO = processIO, options: RunOptions = {}): Promise<number> {
  let code = EXIT_OK;
  const program = new Command('parley')
    .description('Declarative audio conferencing: validate, render, simulate and serve conference flows.')
    .version(PARLEY_VERSION, '-V, --version', 'print the version and exit')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError()
    .hook('preAction', (_program, command) => {
      if (options.tuneV8 && command.name() !== 'serve') tuneV8ForBatchRun();
    });

  program
    .command('validate')
    .description('check configuration files; prints file:line:col: message for every problem')
    .argument('[paths...]', 'YAML files or folders', DEFAULT_PATHS)
    .addOption(
      new Option('--format <format>', 'output format').choices(['text', 'json', 'github']).default('text'),
    )
    .action(async (paths: string[], opts: { format: 'text' | 'json' | 'github' }) => {
      const { validateCommand } = await import('./commands/validate.js');
      code = validateCommand(paths, opts, io);
    });

  program
    .command('graph')
    .description('draw the state machines of the flows in a file')
    .argument('<file>', 'a YAML file with conference or scenario documents')
    .option('--flow <name>', 'one flow, e.g. room-*/participant')
    .addOption(
      new Option('--format <format>', 'output format').choices(['mermaid', 'dot']).default('mermaid'),
    )
    .action(async (file: string, opts: { flow?: string; format: 'mermaid' | 'dot' }) => {
      const { graphCommand } = await import('./commands/graph.js');
      code = graphCommand(file, opts, io);
    });

  program
    .command('simulate')
    .description('run a script against the flows on a virtual clock and print the transcript')
    .argument('[paths...]', 'YAML files or folders', DEFAULT_PATHS)
    .requiredOption('--script <script>', 'e.g. "call; dtmf 1234#; wait 5s; hangup"')
    .option('--target <target>', 'route (default), conference:NAME or scenario:NAME')
    .option('--from <uri>', 'caller, e.g. alice@example.com')
    .option('--to <user>', 'request-URI user or URI, e.g. conf-1234')
    .option('--source <ip>', 'source address of the call')
    .option('--var <key=value>', 'scenario variable (repeatable)', collect, [])
    .option('--json', 'print the transcript as JSON')
    .action(async (paths: string[], opts) => {
      const { simulateCommand } = await import('./commands/simulate.js');
      code = await simulateCommand(paths, opts, io);
    });

  program
    .command('test')
    .description('run the kind: test documents under the given paths')
    .argument('[paths...]', 'YAML files or folders', DEFAULT_PATHS)
    .option('--grep <text>', 'only tests whose name contains text')
    .option('-v, --verbose', 'print the transcript of failed tests')
    .action(async (paths: string[], opts: { grep?: string; verbose?: boolean }) => {
      const { testCommand } = await import('./commands/test.js');
      code = await testCommand(paths, opts, io);
    });

  program
    .command('serve')
    .description('serve the configuration: SIP calls into the compiled flows, media by the native engine')
    .argument('[paths...]', 'YAML files or folders', DEFAULT_PATHS)
    .option('--address <ip>', 'address SIP and RTP bind to', '127.0.0.1')
    .option('--advertise <ip>', 'address written into SIP headers and SDP (needed when --address is 0.0.0.0)')
    .option('--sip-port <port>', 'SIP port, UDP and TCP', '5060')
    .option('--no-tcp', 'SIP over UDP only')
    .option(
      '--sip-tls-port <port>',
      'also SIP over TLS on this port (conventionally 5061); needs --sip-tls-cert and --sip-tls-key',
    )
    .option('--sip-tls-cert <file>', 'PEM certificate (chain) presented to SIP over TLS clients')
    .option('--sip-tls-key <file>', 'PEM private key of --sip-tls-cert')
    .option(
      '--sip-tls-ca <file>',
      "PEM certificates trusted, besides the system's, when dialling out over TLS (the callee's certificate is always verified)",
    )
    .option(
      '--dns-server <ip[:port]>',
      "DNS server for finding dial-out destinations (NAPTR, SRV, A; repeatable); default: the system's",
      collect,
      [],
    )
    .option('--rtp-ports <range>', 'RTP port range', '20000-29999')
    .option('--recordings <dir>', 'folder recordings are written to', 'recordings')
    .option('--latching', "learn each caller's RTP address from its first packets (callers behind NAT)")
    .option('--codecs <list>', 'codec preference, e.g. opus,g722,pcmu,pcma')
    .option('--log-level <level>', 'trace, debug, info, warn or error', 'info')
    .option('--drain <seconds>', 'on SIGTERM, how long calls may go on before they are ended', '30')
    .option('--rt-priority <n>', 'real-time priority (1-99) for the media engine thread; 0 = normal', '0')
    .option(
      '--send-spread <ms>',
      "spread each 20 ms tick's outgoing RTP over this many ms (0-15) for steadier packet timing in large conferences, at up to that much added latency; 0 = at once",
      '0',
    )
    .option(
      '--tick-spin <us>',
      'the media engine thread spins this many µs (0-5000) before each tick instead of sleeping: fewer late ticks on a busy virtual machine, for that much CPU',
      '0',
    )
    .option('--max-calls <n>', 'most concurrent SIP dialogs; more get 503 (default 1000)')
    .option(
      '--max-calls-per-source <n>',
      'most concurrent SIP dialogs from one address, --sip-trusted ones excepted; more get 503 (default 100)',
    )
    .option('--sip-rate <n>', 'new SIP transactions per second from one address; more get 503 (default 20)')
    .option(
      '--sip-trusted <ips>',
      'comma-separated addresses exempt from the per-address rate (trunks, proxies)',
    )
    .option('--http <host:port>', 'HTTP API and management page address, or none', '127.0.0.1:8080')
    .option(
      '--http-token <token>',
      'API token, TOKEN or TOKEN:read,control (repeatable; also PARLEY_TOKENS)',
      collect,
      [],
    )
    .option('--http-insecure', 'run the HTTP API without tokens (loopback only, for development)')
    .option('--no-watch', 'do not reload when configuration files change (SIGHUP and the API still reload)')
    .action(async (paths: string[], opts: ServeCliOptions) => {
      const { serveCommand } = await import('./commands/serve.js');
      code = await serveCommand(paths, opts, io);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    if (err instanceof UsageError) {
      io.err(`parley: ${err.message}`);
      return EXIT_USAGE;
    }
    // Anything else is a defect in Parley, not in the user's input: say so in one line.
    io.err(`parley: internal error: ${err instanceof Error ? err.message : String(err)}`);
    return 70;
  }
}
