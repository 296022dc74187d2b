/**
 * Typed access to the few functions of the npm `sip` package (CommonJS, untyped) this layer uses:
 * its header-value parsers for the authentication headers (their structure is the package's own), and
 * `stringify`. Its message parser and stream parser are not used:
 * they accept invalid messages and buffer without bound (see parse.ts and framer.ts).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The parts of the package's exports this module relies on. */
interface SipPackage {
  /** Parses "head\r\n\r\nbody" (a string); undefined when the start line does not match. */
  parse(text: string): { headers: Record<string, unknown> } | undefined;
  stringify(message: object): string;
}

const sip = require('sip') as SipPackage;

/** Headers that the package parses into structures; every other header stays a string. */
export const SIP_LIB_PARSED = new Set([
  'www-authenticate',
  'proxy-authenticate',
  'authorization',
  'proxy-authorization',
  'authentication-info',
]);

/**
 * Runs the package's header parsers over already unfolded, already named fields. The start line is
 * a fixed placeholder: only the headers are wanted. A header whose value the package cannot parse
 * is left out (the package swallows the exception), which callers treat as "not present".
 */
export function parseHeadersWithSipLib(
  fields: ReadonlyArray<{ name: string; value: string }>,
): Record<string, unknown> {
  if (fields.length === 0) return {};
  let text = 'OPTIONS sip:parley.invalid SIP/2.0\r\n';
  for (const f of fields) text += `${f.name}: ${f.value}\r\n`;
  try {
    return sip.parse(`${text}\r\n`)?.headers ?? {};
  } catch {
    // Defence in depth: the package's parser is not ours to trust with arbitrary input.
    return {};
  }
}

export function sipLibStringify(message: object): string {
  return sip.stringify(message);
}
