/**
 * What a test peer of the RFC 4475 runs hears back: responses as they arrive (parsed, or read
 * by pattern when a 400 echoes broken headers), and a TCP connection that feeds them.
 */
import net from 'node:net';
import { parseDatagram, type WireVerdict } from '../../../src/sip/wire/index.js';

/** Responses as they arrive, with a way to wait for one that matches. */
export class ResponseInbox {
  readonly responses: Array<{ status: number; callId: string | undefined }> = [];
  private waiters: Array<() => void> = [];

  add(v: WireVerdict): void {
    if (v.kind === 'message' && 'status' in v.message)
      this.push(v.message.status, v.message.headers['call-id']);
  }

  /**
   * A 400 echoes the request's own broken From/To/CSeq, so it may not pass a strict parse: the
   * status line and Call-ID are read directly then.
   */
  addDatagram(data: Buffer): void {
    const v = parseDatagram(data);
    if (v.kind === 'message') this.add(v);
    else this.addLenient(data.toString('latin1'));
  }

  /** Status line and Call-ID of each response in `text`, read by pattern. */
  addLenient(text: string): void {
    for (const piece of text.split(/(?=^SIP\/2\.0 \d{3} )/m)) {
      const status = /^SIP\/2\.0 (\d{3}) /.exec(piece)?.[1];
      if (status) this.push(Number(status), /^Call-ID: (.*)$/im.exec(piece)?.[1]?.trim());
    }
  }

  private push(status: number, callId: string | undefined): void {
    this.responses.push({ status, callId });
    for (const w of this.waiters.splice(0)) w();
  }

  /** The first final response for `callId` (undefined: a response without Call-ID), or undefined after `ms`. */
  async final(callId: string | undefined, ms: number): Promise<{ status: number } | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.responses.find((r) => r.status >= 200 && r.callId === callId);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}

/** A TCP connection to 127.0.0.1:`port` whose answers go to an inbox; `closed` resolves with the time it closed. */
export async function connectTcp(
  port: number,
): Promise<{ socket: net.Socket; inbox: ResponseInbox; closed: Promise<number> }> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const inbox = new ResponseInbox();
  // Answers arrive whole on loopback; a pattern read also copes with a 400 that echoes broken headers.
  socket.on('data', (chunk) => inbox.addLenient(chunk.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
  return { socket, inbox, closed };
}
