/**
 * Bodies of in-dialog INFO (DTMF) and MESSAGE requests: what we accept and how we read it.
 * Kept apart from the dialog code so the formats can be tested on their own.
 */

export interface InfoDtmf {
  digit: string;
  durationMs: number;
}

const DIGITS = '0123456789*#ABCD';
const DEFAULT_DURATION_MS = 100;

/** The RFC 4733 event number of a key (10 = *, 11 = #, 12..15 = A..D) back to the key. */
function digitOf(signal: string): string | undefined {
  const s = signal.trim().toUpperCase();
  if (s.length === 1 && DIGITS.includes(s)) return s;
  if (/^\d{1,2}$/.test(s)) {
    const n = Number(s);
    if (n <= 15) return DIGITS[n];
  }
  if (s === 'E' || s === '16') return undefined; // flash: not a key
  return undefined;
}

/**
 * Reads `application/dtmf-relay` ("Signal=5\r\nDuration=160") or `application/dtmf` ("5"). Returns
 * undefined for a body that names no key; the caller answers it anyway (RFC 6086 says INFO
 * bodies we cannot use are still acknowledged once the type is accepted).
 */
export function parseDtmfInfo(contentType: string, body: string): InfoDtmf | undefined {
  if (body.length > 1024) return undefined;
  if (contentType === 'application/dtmf-relay') {
    let digit: string | undefined;
    let durationMs = DEFAULT_DURATION_MS;
    for (const line of body.split(/\r?\n/)) {
      const m = /^\s*([A-Za-z]+)\s*=\s*(.*?)\s*$/.exec(line);
      if (!m) continue;
      const name = m[1]!.toLowerCase();
      if (name === 'signal') digit = digitOf(m[2]!);
      if (name === 'duration' && /^\d{1,6}$/.test(m[2]!)) durationMs = Number(m[2]);
    }
    return digit === undefined ? undefined : { digit, durationMs };
  }
  if (contentType === 'application/dtmf') {
    const digit = digitOf(body);
    return digit === undefined ? undefined : { digit, durationMs: DEFAULT_DURATION_MS };
  }
  return undefined;
}

/** The INFO body we send for a key (application/dtmf-relay, the most widely understood). */
export function formatDtmfRelay(digit: string, durationMs: number): string {
  if (digit.length !== 1 || !DIGITS.includes(digit.toUpperCase()))
    throw new RangeError(`not a DTMF key: ${digit}`);
  return `Signal=${digit.toUpperCase()}\r\nDuration=${Math.max(1, Math.round(durationMs))}\r\n`;
}

export const INFO_TYPES = ['application/dtmf-relay', 'application/dtmf'];

/** The media type without parameters, lower-cased (`text/plain;charset=utf-8` → `text/plain`). */
export function mediaType(contentType: unknown): string {
  return typeof contentType === 'string' ? contentType.split(';')[0]!.trim().toLowerCase() : '';
}

/** MESSAGE bodies we hand to the application: any text type. */
export function isTextType(type: string): boolean {
  return type.startsWith('text/');
}
