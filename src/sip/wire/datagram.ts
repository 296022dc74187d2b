/** One UDP datagram → one verdict. */
import { interpretMessage } from './parse.js';
import type { WireVerdict } from './types.js';

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Reason prefix of a drop caused by a bug in this layer rather than by the input (tests look for it). */
export const INTERNAL_ERROR = 'internal error';

/**
 * Parses and checks one datagram. Never throws. Leading CR/LF bytes are skipped (RFC 3261 §7.5); a
 * datagram of nothing else is a keep-alive. The body is what follows the blank line, cut to
 * Content-Length (trailing bytes are discarded, RFC 3261 §18.3).
 */
export function parseDatagram(data: Buffer): WireVerdict {
  try {
    let start = 0;
    while (start < data.length && (data[start] === 0x0d || data[start] === 0x0a)) start++;
    if (start === data.length) {
      return data.length > 0
        ? { kind: 'keepalive', pong: false }
        : { kind: 'drop', reason: 'empty datagram' };
    }
    const end = data.indexOf(CRLFCRLF, start);
    if (end < 0) {
      // No blank line: the datagram is all head (RFC 4475 baddn ends this way); strip a last CRLF.
      let stop = data.length;
      if (data[stop - 2] === 0x0d && data[stop - 1] === 0x0a) stop -= 2;
      return interpretMessage(data.toString('utf8', start, stop), Buffer.alloc(0), 'datagram');
    }
    return interpretMessage(data.toString('utf8', start, end), data.subarray(end + 4), 'datagram');
  } catch (e) {
    return { kind: 'drop', reason: `${INTERNAL_ERROR}: ${e instanceof Error ? e.message : String(e)}` };
  }
}
