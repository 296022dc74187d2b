import { describe, expect, it } from 'vitest';
import {
  acceptAnswer,
  answerDirection,
  negotiateOffer,
  parseSdp,
  SdpError,
  SdpSession,
} from '../../src/sip/sdp.js';

const sdp = (...lines: string[]): string => `${lines.join('\r\n')}\r\n`;

const head = ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 'c=IN IP4 192.0.2.1', 't=0 0'];

const local = { address: '127.0.0.1', port: 30000 };

function sdpError(fn: () => unknown): SdpError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SdpError) return err;
    throw err;
  }
  throw new Error('no SdpError thrown');
}

describe('parseSdp', () => {
  it('reads address, port, codecs, telephone-event, ptime, rtcp and direction', () => {
    const remote = parseSdp(
      sdp(
        ...head,
        'm=audio 4000 RTP/AVP 0 8 9 101',
        'a=rtpmap:101 telephone-event/8000',
        'a=fmtp:101 0-15',
        'a=ptime:30',
        'a=rtcp:4005',
        'a=sendonly',
      ),
    );
    expect(remote).toMatchObject({
      address: '192.0.2.1',
      port: 4000,
      rtcpPort: 4005,
      rtcpMux: false,
      direction: 'sendonly',
      ptime: 30,
      telephoneEvent: { payloadType: 101, rate: 8000 },
    });
    expect(remote.codecs.map((c) => `${c.payloadType} ${c.name}/${c.rate}`)).toEqual([
      '0 PCMU/8000',
      '8 PCMA/8000',
      '9 G722/8000',
    ]);
  });

  it('takes the media-level c= over the session-level one and defaults RTCP to port+1', () => {
    const remote = parseSdp(sdp(...head, 'm=audio 4000 RTP/AVP 0', 'c=IN IP4 198.51.100.7'));
    expect(remote.address).toBe('198.51.100.7');
    expect(remote.rtcpPort).toBe(4001);
    expect(remote.direction).toBe('sendrecv');
  });

  it('reads c=0.0.0.0 as RFC 2543 hold', () => {
    const text = sdp(
      'v=0',
      'o=- 1 1 IN IP4 0.0.0.0',
      's=-',
      'c=IN IP4 0.0.0.0',
      't=0 0',
      'm=audio 4000 RTP/AVP 0',
    );
    expect(parseSdp(text).direction).toBe('sendonly');
  });

  it('names the malformed line with status 400', () => {
    const err = sdpError(() => parseSdp(sdp(...head, 'm=audio notaport RTP/AVP 0')));
    expect(err.status).toBe(400);
    expect(err.line).toBe(6);
    expect(err.message).toMatch(/SDP line 6: m=/);

    const rtpmap = sdpError(() => parseSdp(sdp(...head, 'm=audio 4000 RTP/AVP 96', 'a=rtpmap:96 opus')));
    expect(rtpmap.line).toBe(7);
    expect(sdpError(() => parseSdp(sdp('o=- 1 1 IN IP4 1.1.1.1', 'v=0'))).line).toBe(1);
    expect(sdpError(() => parseSdp('v=0\r\ngarbage\r\n')).line).toBe(2);
    expect(sdpError(() => parseSdp(sdp('v=0', 's=-', 't=0 0'))).message).toMatch(/missing o=/);
    expect(sdpError(() => parseSdp('')).status).toBe(400);
    expect(sdpError(() => parseSdp(sdp(...head, 'm=audio 70000 RTP/AVP 0'))).line).toBe(6);
  });

  it('checks attributes only where it reads them: a video section may be odd', () => {
    const text = sdp(...head, 'm=audio 4000 RTP/AVP 0 12', 'm=video 3227 RTP/AVP 31', 'a=rtpmap:31 LPC');
    expect(parseSdp(text).codecs.map((c) => c.name)).toEqual(['PCMU']);
    expect(sdpError(() => parseSdp(sdp(...head, 'm=audio 4000 RTP/AVP 31', 'a=rtpmap:31 LPC'))).line).toBe(7);
  });

  it('answers 488 when there is no usable audio stream', () => {
    expect(sdpError(() => parseSdp(sdp(...head, 'm=video 5000 RTP/AVP 96'))).status).toBe(488);
    expect(sdpError(() => parseSdp(sdp(...head, 'm=audio 0 RTP/AVP 0'))).status).toBe(488);
    const srtp = sdpError(() => parseSdp(sdp(...head, 'm=audio 4000 RTP/SAVP 0')));
    expect(srtp.status).toBe(488);
    expect(srtp.message).toMatch(/SAVP/);
    const noC = sdp('v=0', 'o=- 1 1 IN IP4 1.1.1.1', 's=-', 't=0 0', 'm=audio 4000 RTP/AVP 0');
    expect(sdpError(() => parseSdp(noC)).message).toMatch(/connection address/);
  });
});

describe('negotiation', () => {
  const offer = parseSdp(
    sdp(
      ...head,
      'm=audio 4000 RTP/AVP 0 8 9 96 101 102',
      'a=rtpmap:96 opus/48000/2',
      'a=rtpmap:101 telephone-event/8000',
      'a=rtpmap:102 telephone-event/48000',
      'a=rtcp-mux',
    ),
  );

  it('picks our highest preference, whatever the offer order', () => {
    expect(negotiateOffer(offer, local).codec).toMatchObject({ id: 'opus', payloadType: 96 });
    expect(negotiateOffer(offer, { ...local, codecs: ['pcma', 'pcmu'] }).codec.id).toBe('pcma');
    expect(negotiateOffer(offer, local, ['g722', 'pcmu']).codec).toMatchObject({
      id: 'g722',
      payloadType: 9,
    });
  });

  it('pairs telephone-event with the codec clock rate', () => {
    expect(negotiateOffer(offer, local).telephoneEvent).toEqual({ payloadType: 102, rate: 48000 });
    expect(negotiateOffer(offer, { ...local, codecs: ['pcmu'] }).telephoneEvent).toEqual({
      payloadType: 101,
      rate: 8000,
    });
  });

  it('refuses with 488 when no codec fits, and L16 only when configured', () => {
    const l16 = parseSdp(sdp(...head, 'm=audio 4000 RTP/AVP 97 18', 'a=rtpmap:97 L16/16000'));
    const err = sdpError(() => negotiateOffer(l16, local));
    expect(err.status).toBe(488);
    expect(err.message).toMatch(/L16\/16000, G729\/8000/);
    expect(negotiateOffer(l16, local, ['l16', 'pcmu']).codec).toMatchObject({ id: 'l16', rate: 16000 });
  });

  it('maps directions', () => {
    expect(answerDirection('sendrecv')).toBe('sendrecv');
    expect(answerDirection('sendonly')).toBe('recvonly');
    expect(answerDirection('recvonly')).toBe('sendonly');
    expect(answerDirection('inactive')).toBe('inactive');
    expect(answerDirection('sendrecv', 'sendonly')).toBe('sendonly');
    expect(answerDirection('sendonly', 'sendonly')).toBe('inactive');
    expect(answerDirection('recvonly', 'recvonly')).toBe('inactive');
  });

  it('keeps rtcp-mux only when offered and wanted', () => {
    expect(negotiateOffer(offer, local).rtcpMux).toBe(true);
    expect(negotiateOffer(offer, { ...local, rtcpMux: false }).rtcpMux).toBe(false);
    expect(negotiateOffer(parseSdp(sdp(...head, 'm=audio 4000 RTP/AVP 0')), local).rtcpMux).toBe(false);
  });
});

describe('SdpSession', () => {
  it('answers with one codec, telephone-event, ptime, direction and rtcp-mux, in our address', () => {
    const session = new SdpSession();
    const text = sdp(
      ...head,
      'm=audio 4000 RTP/AVP 8 0 101',
      'a=rtpmap:101 telephone-event/8000',
      'a=ptime:20',
      'a=sendonly',
      'a=rtcp-mux',
    );
    const { sdp: answer, media } = session.answer(text, { ...local, ptime: 40 }, ['pcmu', 'pcma']);
    expect(media.codec.id).toBe('pcmu');
    expect(media.direction).toBe('recvonly');
    const parsed = parseSdp(answer);
    expect(parsed).toMatchObject({
      address: '127.0.0.1',
      port: 30000,
      direction: 'recvonly',
      ptime: 40,
      rtcpMux: true,
      telephoneEvent: { payloadType: 101, rate: 8000 },
    });
    expect(parsed.codecs.map((c) => c.payloadType)).toEqual([0]);
    expect(answer).toMatch(/^o=parley \d+ 1 IN IP4 127\.0\.0\.1\r$/m);
  });

  it('keeps every m-line of the offer, refusing the others with port 0', () => {
    const text = sdp(...head, 'm=video 5000 RTP/AVP 96', 'a=rtpmap:96 VP8/90000', 'm=audio 4000 RTP/AVP 0');
    const { sdp: answer } = new SdpSession().answer(text, local);
    const mlines = answer.split('\r\n').filter((l) => l.startsWith('m='));
    expect(mlines).toEqual(['m=video 0 RTP/AVP 96', 'm=audio 30000 RTP/AVP 0']);
  });

  it('keeps the origin version for an unchanged description and bumps it on a change', () => {
    const session = new SdpSession();
    const offer = sdp(...head, 'm=audio 4000 RTP/AVP 0');
    const first = session.answer(offer, local).sdp;
    expect(session.answer(offer, local).sdp).toBe(first);
    expect(session.answer(offer, { ...local, port: 30002 }).sdp).toMatch(/^o=parley \d+ 2 /m);
  });

  it('builds offers in preference order and bumps the origin version on each change', () => {
    const session = new SdpSession();
    const first = session.offer(local, ['opus', 'pcmu']);
    const second = session.offer({ ...local, direction: 'sendonly' }, ['opus', 'pcmu']);
    const parsed = parseSdp(first.sdp);
    expect(parsed.codecs.map((c) => c.name)).toEqual(['opus', 'PCMU']);
    expect(parsed.telephoneEvents.map((t) => t.rate)).toEqual([48000, 8000]);
    expect(parsed.rtcpMux).toBe(true);
    expect(first.sdp).toMatch(/^o=parley (\d+) 1 /m);
    expect(second.sdp).toMatch(/^o=parley (\d+) 2 /m);
    expect(parseSdp(second.sdp).direction).toBe('sendonly');
    expect(/^c=IN IP6 ::1\r$/m.test(new SdpSession().offer({ ...local, address: '::1' }).sdp)).toBe(true);
  });

  it('reads the answer to our offer', () => {
    const { offered } = new SdpSession().offer(local, ['opus', 'pcmu']);
    const answer = parseSdp(
      sdp(...head, 'm=audio 4000 RTP/AVP 0 101', 'a=rtpmap:101 telephone-event/8000', 'a=recvonly'),
    );
    const media = acceptAnswer(offered, answer);
    expect(media.codec.id).toBe('pcmu');
    expect(media.telephoneEvent).toEqual({ payloadType: 101, rate: 8000 });
    expect(media.direction).toBe('sendonly');
    expect(media.rtcpMux).toBe(false);
    const bad = parseSdp(sdp(...head, 'm=audio 4000 RTP/AVP 18'));
    expect(sdpError(() => acceptAnswer(offered, bad)).status).toBe(488);
  });
});
