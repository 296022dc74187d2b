// The `parley` command line. Subcommands are registered in ./program.ts.
import { run } from './program.js';

process.exitCode = await run(process.argv.slice(2), undefined, { tuneV8: true });
