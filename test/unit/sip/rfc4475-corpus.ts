/**
 * The RFC 4475 torture messages and their expected answers, byte for byte: the copy in
 * test/fixtures/rfc4475 (stored by git without line-ending conversion, see .gitattributes),
 * or PARLEY_RFC4475_DIR. The copy is checked against the shared test-data folder
 * (../shared/testdata/rfc4475 beside the repository) wherever that folder exists.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TortureCase {
  name: string;
  bytes: Buffer;
  /** The RFC calls the message valid. */
  valid: boolean;
  /** Acceptable answers: status codes, 'drop' (no answer) or 'not-400' (any answer but a parse error). */
  expected: string[];
  note: string;
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The shared, upstream copy of the test data, beside the repository when there is one. */
export const SHARED_RFC4475_DIR = resolve(REPO_ROOT, '../shared/testdata/rfc4475');

export const RFC4475_DIR = process.env.PARLEY_RFC4475_DIR ?? resolve(REPO_ROOT, 'test/fixtures/rfc4475');

export function loadTortureCases(): TortureCase[] {
  const table = resolve(RFC4475_DIR, 'expected.tsv');
  if (!existsSync(table)) {
    throw new Error(
      `RFC 4475 test data missing: ${table} not found. The torture messages live in test/fixtures/rfc4475 ` +
        '(a byte-for-byte copy of ../shared/testdata/rfc4475; or set PARLEY_RFC4475_DIR).',
    );
  }
  const cases: TortureCase[] = [];
  for (const line of readFileSync(table, 'utf8').split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const [name, valid, expected, note = ''] = line.split('\t');
    if (!name || !valid || !expected) throw new Error(`malformed line in ${table}: ${line}`);
    cases.push({
      name,
      bytes: readFileSync(resolve(RFC4475_DIR, `${name}.dat`)),
      valid: valid === 'yes',
      expected: expected.split('|'),
      note,
    });
  }
  const files = readdirSync(RFC4475_DIR).filter((f) => f.endsWith('.dat'));
  if (files.length !== cases.length) {
    throw new Error(`${RFC4475_DIR}: ${files.length} .dat files but ${cases.length} rows in expected.tsv`);
  }
  return cases;
}

/** Codes the wire layer itself answers with; any other expected code is the application's to give. */
export const WIRE_STATUSES = new Set([400, 413, 416, 505]);

/**
 * Whether an answer is acceptable: `status` a response code, or 'drop' for no answer at all, or
 * 'app' when the message passed the wire layer and the application decides (then any application
 * answer in `expected` — or 'not-400' — makes it acceptable).
 */
export function acceptable(c: TortureCase, outcome: number | 'drop' | 'app'): boolean {
  if (outcome === 'drop') return c.expected.includes('drop');
  if (outcome === 'app') {
    return c.expected.some(
      (e) => e === 'not-400' || e === 'drop' || (e !== '400' && !WIRE_STATUSES.has(Number(e))),
    );
  }
  if (c.expected.includes(String(outcome))) return true;
  return outcome !== 400 && c.expected.includes('not-400');
}

/** A response rather than a request (a few torture messages are responses). */
export const isResponse = (c: TortureCase): boolean => c.bytes.subarray(0, 4).toString() === 'SIP/';

/** Messages whose length a stream cannot know: over TCP the server closes the connection. */
export const TCP_CLOSES: ReadonlySet<string> = new Set([
  'ncl',
  'mcl01',
  'inv2543',
  'dblreq',
  'clerr',
  'baddn',
]);

/**
 * The top Via's transport and sent-by pointed at a test's own socket so answers reach it;
 * folding and every other byte kept.
 */
export function rewriteTopVia(bytes: Buffer, transport: 'UDP' | 'TCP', port: number): Buffer {
  const text = bytes.toString('latin1');
  const headEnd = text.indexOf('\r\n\r\n');
  const head = headEnd < 0 ? text : text.slice(0, headEnd);
  const rewritten = head.replace(
    /^((?:via|v)[ \t]*:[ \t]*SIP\s*\/\s*\d\.\d\s*\/\s*)([A-Za-z]+)(\s+)([^;,\s]+)/im,
    (_m, pre: string, _t: string, ws: string) => `${pre}${transport}${ws}127.0.0.1:${port}`,
  );
  return Buffer.concat([Buffer.from(rewritten, 'latin1'), bytes.subarray(head.length)]);
}

/** The Call-ID of raw message bytes, read by pattern (the message may not parse). */
export function callIdOf(bytes: Buffer): string | undefined {
  return /^(?:call-id|i)[ \t]*:[ \t]*(\S+)/im.exec(bytes.toString('latin1'))?.[1];
}

/** A valid OPTIONS probe: the server must still answer it 200 after each torture message. */
export function optionsProbe(callId: string, transport: 'UDP' | 'TCP', port: number): Buffer {
  return Buffer.from(
    `OPTIONS sip:parley@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/${transport} 127.0.0.1:${port};branch=z9hG4bK-${callId}\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=p1\r\nTo: <sip:parley@127.0.0.1>\r\nCall-ID: ${callId}\r\n` +
      'CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n',
  );
}
