/** A SIP message as a hand-written test peer reads it: start line, headers (lower-cased names), body. */
export interface SipText {
  start: string;
  headers: Map<string, string>;
  body: string;
}

/** Splits a received message at its first blank line; the body may hold blank lines of its own. */
export function parseSipText(text: string): SipText {
  const split = text.indexOf('\r\n\r\n');
  const head = split < 0 ? text : text.slice(0, split);
  const body = split < 0 ? '' : text.slice(split + 4);
  const [start = '', ...lines] = head.split('\r\n');
  const headers = new Map<string, string>();
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
  }
  return { start, headers, body };
}
