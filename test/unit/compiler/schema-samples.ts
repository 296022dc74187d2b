// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Parley templates use ${...} in plain strings.
/**
 * Valid documents of every kind, written the way operators write them; the schema
 * must accept each with no diagnostic. The fuzz test mutates them.
 */

export const ROUTES = `# yaml-language-server: $schema=../schema/parley.draft-07.schema.json
kind: routes
name: main
description: Front door of the office PBX
dialout:
  allow: ['^sip:\\+4930', '@example\\.com$']
  trunks:
    main:
      proxy: sip:trunk.example.com:5060
      username: \${env.TRUNK_USER}
      password: \${env.TRUNK_PASSWORD}
      from: sip:+493012345@trunk.example.com
routes:
  - description: Numbered rooms
    match: { to: "^conf-(?<room>\\\\d{4})$", transport: [udp, tcp, webrtc] }
    conference: "room-\${room}"
    vars: { room: "\${room}", vip: false, slots: 3 }
  - match:
      from: "^anonymous@"
    reject: 403
  - match:
      headers: { X-Tenant: "^acme$" }
      source: [10.0.0.0/8, "::1", 192.168.1.7]
    reject: { code: 503, reason: Maintenance }
  - match: { to: "^callback$" }
    scenario: callback
`;

export const CONFERENCE = `kind: conference
name: room-*
description: PIN-protected team room with a moderator
type: standalone
audio: { rate: 48000, vad: true, denoise: true, codecs: [opus, g722, pcmu], loudest: 3 }
limits: { participants: 50, idle: 60s, duration: 2h, pinFailures: 5, lockout: 15m }
record: { mix: true, participants: { direction: both }, file: "\${conference.name}.wav" }
vars: { pin: "123456", moderatorPin: "999999" }
participant:
  description: Greets, asks for the PIN, joins; moderators get controls
  start: greet
  vars: { muted: false }
  states:
    greet:
      play: audio/welcome.wav
      then: pin
    pin:
      collect:
        prompt: { say: "Enter the access code, then pound." }
        digits: 6
        end: "#"
        timeout: 10s
        tries: 3
        into: entered
      on:
        collected:
          - { if: "digits == conference.vars.moderatorPin", goto: moderator }
          - { if: "digits == conference.vars.pin", goto: join }
          - { if: "visits < 3", say: "That code is not valid.", goto: pin }
          - bye
        exhausted: bye
    join:
      join: { muted: false, role: participant, music: audio/hold.wav }
      on:
        full: { say: "The conference is full.", goto: bye }
        dtmf "*6": { toggle: mute }
        dtmf "*0":
          do:
            - say: { text: "You asked for help.", voice: en-us }
            - notify: { event: help-requested, to: conference }
        message: { send: { text: "Received: \${message.text}", to: self } }
        after 30m: { say: "This conference has lasted half an hour." }
    moderator:
      do:
        - join: { role: moderator, speak: true, hear: { from: [all] } }
        - say: { text: "The moderator has joined.", to: others }
        - record: { what: self, direction: both, file: "moderator-\${call.id}.wav" }
      on:
        dtmf "*1": { mute: others }
        dtmf "*2": { unmute: all }
        dtmf "*3":
          dial: { to: "sip:\${vars.number}@trunk.example.com", trunk: main, timeout: 30s, vars: { invitedBy: "\${call.from}" } }
        answered: { say: "Your guest has joined." }
        busy: { say: "The line is busy." }
        no-answer: { log: "no answer from \${dial.to}" }
        dtmf "*9": { end: conference }
        hangup: end
    bye:
      say: "Goodbye."
      then: hangup
conference:
  on:
    started: { log: "conference \${conference.name} started" }
    joined: { say: { text: "New participant has joined the conference.", to: all } }
    left: { say: { text: "Participant has left the conference.", to: all } }
    help-requested: { send: { text: "A participant needs help.", to: "role:moderator" } }
    http:
      - if: "request.method == 'GET'"
        respond: { status: 200, body: { participants: "\${conference.participants}", ok: true } }
      - respond: { status: 405 }
    empty: end
`;

export const LOCAL = `kind: conference
name: interview
type: local
audio: { rate: 16000 }
participant:
  start: listen
  states:
    listen:
      join: { speak: false, hear: true }
      on:
        dtmf "#": coach
    coach:
      join: { speak: { to: ["role:agent"] }, hear: { from: [all] }, deaf: false, muted: false }
      on:
        recorded: { log: "saved \${recording.file}" }
        left: { stop: all, goto: end }
`;

export const SCENARIO = `kind: scenario
name: callback
description: Calls a number back and connects it to the caller in a local conference
vars:
  number: { required: true, description: Who to call }
  lang: { default: en }
flow:
  start: answer
  vars: { attempts: 0 }
  states:
    answer:
      do:
        - answer: { early: false }
        - say: "Please hold while we connect you."
        - set: { attempts: "vars.attempts + 1" }
        - join: { conference: interview, role: agent }
        - dial: { to: "sip:\${vars.number}@pbx.example.com", conference: interview, start: listen }
      on:
        answered: { link: { conference: "overflow", direction: both } }
        failed:
          - { if: "vars.attempts < 3", goto: answer }
          - { hangup: { reason: "Callee unreachable" } }
        hangup: { unlink: overflow, goto: end }
`;

export const SHORT_FLOW = `kind: conference
name: lobby
participant:
  do:
    - answer: true
    - play: { url: "https://example.com/prompts/\${vars.lang}/lobby.wav", loop: true, to: self }
  on:
    dtmf "1": { do: [{ stop: play }, { join: true }] }
    talking: { deaf: participant }
    silent: { undeaf: true }
`;

export const TEST = `kind: test
name: PIN accepted
description: A caller with the right PIN joins
target: { route: true }
call: { from: alice@example.com, to: conf-1234, source: 192.0.2.10 }
script: |
  call
  dtmf 123456#
  wait 5s
  hangup
expect:
  - { say: "/access code/" }
  - { event: joined }
absent:
  - { say: "/not valid/" }
---
kind: test
name: Callback scenario
target: { scenario: callback, vars: { number: "+4930123456" } }
script: "start; answer callee; hangup"
`;

export const VALID_SAMPLES: Record<string, string> = {
  routes: ROUTES,
  conference: CONFERENCE,
  local: LOCAL,
  scenario: SCENARIO,
  short: SHORT_FLOW,
  test: TEST,
};
