/**
 * Message framing for stream transports (TCP, TLS): finds each message's end from its mandatory
 * Content-Length (RFC 3261 §18.3), with every buffer bounded. The npm `sip` package's stream parser
 * is not used: it treats a missing or non-numeric Content-Length as "wait for more" and buffers
 * without bound.
 *
 * A message whose length cannot be known (Content-Length missing, repeated, non-numeric, negative)
 * or that exceeds a limit makes the connection unusable: the framer answers it if it can (a
 * `reject` verdict), then sets `fatal`, and the transport closes the connection after handling the
 * verdicts of that push. Between messages, "\r\n\r\n" is an RFC 5626 ping (verdict `keepalive`,
 * `pong: true`: write "\r\n" back) and a lone "\r\n" (a pong, or a stray line break RFC 3261 §7.5
 * says to ignore) is skipped.
 */
import { lexHead } from './lex.js';
import { type FramingRefusal, interpretMessage, refuseHead } from './parse.js';
import type { WireVerdict } from './types.js';

export interface FramerLimits {
  /** Head + body of one message. */
  maxMessageBytes: number;
  /** Start line + headers of one message, up to and including the blank line. */
  maxHeaderBytes: number;
  /** Bytes held between pushes (an incomplete message plus what follows it). */
  maxBufferedBytes: number;
}

export const DEFAULT_FRAMER_LIMITS: Readonly<FramerLimits> = Object.freeze({
  maxMessageBytes: 64 * 1024,
  maxHeaderBytes: 16 * 1024,
  maxBufferedBytes: 128 * 1024,
});

const CRLFCRLF = Buffer.from('\r\n\r\n');
const CR = 0x0d;
const LF = 0x0a;

interface Pending {
  head: string;
  bodyStart: number;
  contentLength: number;
}

function positiveInteger(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isInteger(value) && value > 0 ? value : fallback;
}

export class StreamFramer {
  private readonly limits: FramerLimits;
  private buf = Buffer.alloc(4096);
  private start = 0;
  private end = 0;
  /** Where the search for the end of the current head resumes (absolute index in buf). */
  private scanFrom = 0;
  private pending: Pending | undefined;
  private fatalReason: string | undefined;

  constructor(limits: Partial<FramerLimits> = {}) {
    const maxMessageBytes = positiveInteger(limits.maxMessageBytes, DEFAULT_FRAMER_LIMITS.maxMessageBytes);
    const maxHeaderBytes = Math.min(
      positiveInteger(limits.maxHeaderBytes, DEFAULT_FRAMER_LIMITS.maxHeaderBytes),
      maxMessageBytes,
    );
    // At least one whole message must fit, or no message could ever complete.
    const maxBufferedBytes = Math.max(
      positiveInteger(limits.maxBufferedBytes, DEFAULT_FRAMER_LIMITS.maxBufferedBytes),
      maxMessageBytes,
    );
    this.limits = { maxMessageBytes, maxHeaderBytes, maxBufferedBytes };
  }

  /** Set on a framing error: the connection must be closed. */
  get fatal(): string | undefined {
    return this.fatalReason;
  }

  /** Bytes held now. */
  get buffered(): number {
    return this.end - this.start;
  }

  /**
   * Whether part of a message is held: the transport runs its slow-sender clock while this is true
   * (a message must complete within SipLimits.messageTimeoutMs of its first byte).
   */
  get partial(): boolean {
    for (let i = this.start; i < this.end; i++) {
      const b = this.buf[i];
      if (b !== CR && b !== LF) return true;
    }
    return false;
  }

  push(chunk: Buffer): WireVerdict[] {
    if (this.fatalReason !== undefined) return [];
    this.append(chunk);
    const out: WireVerdict[] = [];
    try {
      this.drain(out);
    } catch (e) {
      // A bug here must not take the process down; the connection cannot be trusted afterwards.
      this.fail(`internal error: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (this.fatalReason === undefined && this.buffered > this.limits.maxBufferedBytes) {
      this.fail('too many bytes buffered');
    }
    return out;
  }

  private fail(reason: string): void {
    this.fatalReason = reason;
    this.buf = Buffer.alloc(0);
    this.start = this.end = this.scanFrom = 0;
    this.pending = undefined;
  }

  private append(chunk: Buffer): void {
    if (this.end + chunk.length > this.buf.length) {
      const live = this.end - this.start;
      const needed = live + chunk.length;
      const target = needed > this.buf.length / 2 ? Math.max(needed * 2, 4096) : this.buf.length;
      const next = target === this.buf.length ? this.buf : Buffer.alloc(target);
      this.buf.copy(next, 0, this.start, this.end);
      this.buf = next;
      this.scanFrom -= this.start;
      if (this.pending) this.pending.bodyStart -= this.start;
      this.start = 0;
      this.end = live;
    }
    chunk.copy(this.buf, this.end);
    this.end += chunk.length;
  }

  private drain(out: WireVerdict[]): void {
    for (;;) {
      if (!this.pending) {
        if (!this.skipKeepAlives(out)) return;
        if (!this.readHead(out)) return;
      }
      const p = this.pending as Pending | undefined;
      if (!p) return;
      if (this.end - p.bodyStart < p.contentLength) return;
      const body = this.buf.subarray(p.bodyStart, p.bodyStart + p.contentLength);
      out.push(interpretMessage(p.head, body, 'stream'));
      this.start = this.scanFrom = p.bodyStart + p.contentLength;
      this.pending = undefined;
    }
  }

  /** Consumes CRLF keep-alives; returns false when nothing but a possible keep-alive prefix is left. */
  private skipKeepAlives(out: WireVerdict[]): boolean {
    for (;;) {
      const avail = this.end - this.start;
      if (avail === 0) return false;
      const b0 = this.buf[this.start];
      if (b0 === LF) {
        this.start++;
        continue;
      }
      if (b0 !== CR) break;
      if (avail < 2) return false;
      if (this.buf[this.start + 1] !== LF) {
        this.start++; // a stray CR before the start line
        continue;
      }
      if (avail < 4) {
        // "\r\n" or "\r\n\r": maybe the first half of a ping. A lone "\r\n" then a message is fine too.
        if (avail === 2 || this.buf[this.start + 2] === CR) return false;
        this.start += 2;
        continue;
      }
      if (this.buf[this.start + 2] === CR && this.buf[this.start + 3] === LF) {
        out.push({ kind: 'keepalive', pong: true });
        this.start += 4;
      } else {
        this.start += 2;
      }
    }
    if (this.scanFrom < this.start) this.scanFrom = this.start;
    return true;
  }

  /** Finds the end of the head and the message length; false when more bytes are needed or on a fatal error. */
  private readHead(out: WireVerdict[]): boolean {
    const found = this.buf.subarray(0, this.end).indexOf(CRLFCRLF, this.scanFrom);
    if (found < 0) {
      if (this.end - this.start > this.limits.maxHeaderBytes) this.fail('header section too large');
      else this.scanFrom = Math.max(this.start, this.end - 3);
      return false;
    }
    if (found + 4 - this.start > this.limits.maxHeaderBytes) {
      this.fail('header section too large');
      return false;
    }
    const head = this.buf.toString('utf8', this.start, found);
    const lengths = lexHead(head).fields.filter((f) => f.name === 'content-length');
    const refuse = (refusal: FramingRefusal): false => {
      out.push(refuseHead(head, refusal));
      this.fail(refusal.reason);
      return false;
    };
    if (lengths.length === 0) return refuse({ status: 400, reason: 'Bad Request (missing Content-Length)' });
    if (lengths.length > 1)
      return refuse({ status: 400, reason: 'Bad Request (more than one Content-Length header)' });
    const text = (lengths[0] as { value: string }).value;
    if (!/^\d{1,10}$/.test(text))
      return refuse({ status: 400, reason: 'Bad Request (malformed Content-Length)' });
    const contentLength = Number(text);
    if (found + 4 - this.start + contentLength > this.limits.maxMessageBytes) {
      return refuse({ status: 413, reason: 'Request Entity Too Large' });
    }
    this.pending = { head, bodyStart: found + 4, contentLength };
    return true;
  }
}
