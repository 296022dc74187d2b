/**
 * What a call needs from the server that owns it: sending requests in client transactions,
 * sending responses, and the settings shared by every call. Implemented by SipServer; an
 * interface so the call code does not depend on the dispatcher.
 */

import type { ServerTransaction } from './lib.js';
import type { Logger } from './logger.js';
import type { HopLookup } from './resolve.js';
import type { CodecPref } from './sdp.js';
import type { Remote } from './transport.js';
import type { SipRequest, SipResponse } from './wire/types.js';

export interface OutgoingRequest {
  /** Resolves with the final response; timeouts and transport errors arrive as 408/503. */
  final: Promise<SipResponse>;
  /** CANCEL for an INVITE still pending; resolves once the CANCEL is answered or times out. */
  cancel(): void;
}

/** `resolver` and `transports` (HopLookup): how next hops are found (RFC 3263). */
export interface SipStack extends HopLookup {
  readonly logger: Logger;
  readonly prefs: readonly CodecPref[];
  readonly userAgent: string;
  /** RFC 3261 T1 in ms for the dialog layer's own timers (2xx retransmission, ACK wait). */
  readonly t1: number;
  /** Smallest session interval we accept (RFC 4028 Min-SE), seconds. */
  readonly minSE: number;
  /** Methods we answer (the Allow header). */
  readonly allow: string;
  /** Sends `request` to `hop` in a new client transaction. */
  send(request: SipRequest, hop: Remote, onProvisional?: (response: SipResponse) => void): OutgoingRequest;
  /** Sends a message outside any transaction (ACK for 2xx). */
  sendStateless(message: SipRequest, hop: Remote): void;
  /** Sends a response through its server transaction. */
  respond(tx: ServerTransaction, response: SipResponse): void;
  /** The dialog index: calls register under their dialog key and leave it when they end. */
  registerDialog(key: string, call: DialogRequestHandler): void;
  unregisterDialog(key: string): void;
}

/** Something that takes the requests of one dialog. */
export interface DialogRequestHandler {
  handleRequest(request: SipRequest, tx: ServerTransaction | undefined, remote: Remote): void;
  /** A 2xx to our INVITE that no transaction claimed (a retransmission): ACK it again. */
  handleStray2xx(response: SipResponse): void;
}
