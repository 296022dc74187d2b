// biome-ignore-all lint/suspicious/noTemplateCurlyInString: YAML snippets carry the language's own `${...}` placeholders
import { describe, expect, it } from 'vitest';
import { ALLOW_ALL, check, codes } from './check-helpers.js';

const conf = (participant: string, extra = '') => `${ALLOW_ALL}---
kind: conference
name: lobby
${extra}participant:
${participant}`;

describe('targets and start', () => {
  it('reports a dangling goto with a suggestion at the goto', () => {
    const d = check(
      conf(`  start: a
  states:
    a: { say: hi, on: { played: { goto: jion } } }
    join: { join: true }
`),
    );
    expect(d).toEqual([
      expect.objectContaining({
        code: 'dangling-goto',
        message: 'unknown state "jion"; did you mean "join"?',
        line: 11,
      }),
      expect.objectContaining({
        code: 'unreachable-state',
        message: 'state "join" is never reached from "a"',
      }),
    ]);
  });

  it('accepts the built-in targets hangup and end', () => {
    expect(
      check(conf('  start: a\n  states:\n    a: { say: hi, then: hangup, on: { hangup: end } }\n')),
    ).toEqual([]);
  });

  it('reports an unknown start and a missing one', () => {
    expect(codes(check(conf('  start: b\n  states:\n    a: { say: hi }\n')))).toEqual(['unknown-start']);
    expect(codes(check(conf('  states:\n    a: { say: hi, then: b }\n    b: { say: ho }\n')))).toEqual([
      'missing-start',
    ]);
    // One state needs no `start`.
    expect(check(conf('  states:\n    a: { say: hi }\n'))).toEqual([]);
  });

  it('reports unreachable states at their key', () => {
    const d = check(conf('  start: a\n  states:\n    a: { say: hi }\n    lost: { say: ho }\n'));
    expect(d).toEqual([expect.objectContaining({ code: 'unreachable-state', line: 12, col: 5 })]);
  });

  it('counts states named by dial.start as reachable', () => {
    const d = check(
      conf(`  start: a
  states:
    a: { dial: { to: "sip:bob@example.com", start: greet }, on: { answered: { say: ok } } }
    greet: { say: "You were called." }
`),
    );
    expect(d).toEqual([]);
  });

  it('reports an unknown dial.start', () => {
    const d = check(
      conf(
        '  start: a\n  states:\n    a: { dial: { to: "sip:bob@x", start: gret } }\n    greet: { say: x }\n',
      ),
    );
    expect(codes(d)).toEqual(['unknown-dial-start', 'unreachable-state']);
  });
});

describe('retry loops', () => {
  const pin = (collected: string) =>
    conf(`  start: pin
  states:
    pin:
      collect: { digits: 4, tries: 3 }
      on:
        collected: ${collected}
        exhausted: hangup
    join: { join: true }
`);

  it('rejects an unguarded retry', () => {
    const d = check(pin('[ { if: "digits == \'1234\'", goto: join }, { goto: pin } ]'));
    expect(d).toEqual([
      expect.objectContaining({
        code: 'unbounded-retry',
        message: expect.stringContaining('retry loop with no bound: pin -collected-> pin'),
      }),
    ]);
  });

  it('accepts a retry bounded by visits', () => {
    expect(
      check(pin('[ { if: "digits == \'1234\'", goto: join }, { if: "visits < 3", goto: pin }, hangup ]')),
    ).toEqual([]);
  });

  it('accepts a bound placed on an earlier branch', () => {
    expect(check(pin('[ { if: "visits >= 3", goto: join }, { goto: pin } ]'))).toEqual([]);
  });

  it('accepts a retry bounded by a variable set in the loop', () => {
    const d = check(
      conf(`  start: a
  vars: { n: 0 }
  states:
    a:
      do: [ { set: { n: "vars.n + 1" } }, { say: again } ]
      on:
        played: [ { if: "vars.n < 5", goto: b }, hangup ]
    b: { say: more, then: a }
`),
    );
    expect(d).toEqual([]);
  });

  it('rejects a two-state loop through then and played', () => {
    const d = check(
      conf('  start: a\n  states:\n    a: { say: one, then: b }\n    b: { say: two, on: { played: a } }\n'),
    );
    expect(d.map((x) => x.message)).toEqual([
      expect.stringMatching(/a -then-> b -played-> a|b -played-> a -then-> b/),
    ]);
  });

  it('allows periodic loops on timers and caller input', () => {
    const d = check(
      conf(
        '  start: a\n  states:\n    a: { say: hi, on: { after 30s: a, dtmf: b } }\n    b: { say: x, on: { dtmf: a } }\n',
      ),
    );
    expect(d).toEqual([]);
  });
});

describe('events', () => {
  it('rejects participant events in a conference flow, and bad dtmf keys', () => {
    const d = check(
      conf(
        '  on: { dtmf "*X": { say: x } }\n',
        'conference:\n  on: { collected: { say: x }, joined: { say: y } }\n',
      ),
    );
    expect(d).toEqual([
      expect.objectContaining({
        code: 'invalid-event',
        message: '"collected" is not an event of conference flows',
      }),
      expect.objectContaining({ code: 'bad-dtmf' }),
    ]);
  });

  it('rejects malformed after, misspelt events, and warns on custom events nobody raises', () => {
    const d = check(
      conf(
        '  on: { after soon: { say: x }, colected: { say: y }, Weird_Name: { say: z }, ping: { say: p } }\n',
      ),
    );
    expect(d.map((x) => [x.code, x.severity])).toEqual([
      ['bad-after', 'error'],
      ['invalid-event', 'error'],
      ['invalid-event', 'error'],
      ['unraised-event', 'warning'],
    ]);
  });

  it('accepts custom events raised by notify', () => {
    const d = check(
      conf(
        '  on: { ping: { say: p }, dtmf: { notify: { event: ping } } }\n',
        'conference:\n  on: { ping: { log: pinged } }\n',
      ),
    );
    expect(d).toEqual([]);
  });

  it('warns when nothing handles a notify', () => {
    const d = check(conf('  on: { dtmf: { notify: { event: nobody-listens } } }\n'));
    expect(d).toEqual([expect.objectContaining({ code: 'unhandled-notify', severity: 'warning' })]);
  });
});

describe('actions in place', () => {
  it('rejects call actions in a conference flow and respond outside http', () => {
    const d = check(
      conf(
        '  on: { dtmf: { respond: { status: 200 } }, http: { respond: { body: { ok: "${request.path}" } } } }\n',
        'conference:\n  on: { started: { collect: { digits: 1 } } }\n',
      ),
    );
    expect(codes(d)).toEqual(['action-not-allowed', 'respond-outside-http']);
  });
});

describe('expressions and variables', () => {
  it('reports a syntax error at the offending column of a plain scalar', () => {
    const text = conf('  on: { dtmf: { if: "visits <", say: x } }\n');
    const d = check(text);
    expect(d).toEqual([expect.objectContaining({ code: 'bad-expression', line: 9 })]);
    const line = text.split('\n')[8] as string;
    // The column is that of the end of the expression, inside the quotes.
    expect(d[0]?.col).toBe(line.indexOf('"visits <"') + 1 + 1 + 'visits <'.length);
  });

  it('reports unknown variables with a suggestion', () => {
    const d = check(conf('  on: { dtmf: { say: "hello ${cal.from}" } }\n'));
    expect(d).toEqual([
      expect.objectContaining({
        code: 'unknown-variable',
        message: 'unknown variable "cal"; did you mean "call"?',
      }),
    ]);
  });

  it('scopes event variables to the handlers of their events', () => {
    const ok = check(conf('  on: { message: { say: "${message.text}" }, dtmf: { log: "${dtmf.digit}" } }\n'));
    expect(ok).toEqual([]);
    const d = check(conf('  do: [ { say: "${digits}" } ]\n  on: { dtmf: { log: "${request.path}" } }\n'));
    expect(d.map((x) => x.message)).toEqual([
      '"digits" is only available in handlers of collected, exhausted, not in the entry actions of state "main"',
      '"request" is only available in handlers of http, not in a handler of "dtmf"',
    ]);
  });

  it('keeps env to trunks', () => {
    const d = check(`kind: routes
dialout:
  allow: ["^sip:"]
  trunks: { t: { proxy: "sip:trunk.example.com", password: "\${env.PASS}", username: "\${call.from}" } }
routes: []
`);
    expect(d).toEqual([
      expect.objectContaining({ message: 'trunk settings can only read "env", not "call"' }),
    ]);
  });
});

describe('routes', () => {
  const routes = (body: string) =>
    `kind: routes\nroutes:\n${body}---\nkind: conference\nname: room-*\nparticipant: { do: [ { join: true } ] }\n`;

  it('checks template captures against named groups', () => {
    const d = check(routes('  - match: { to: "^conf-(?<room>\\\\d+)$" }\n    conference: "room-${rom}"\n'));
    expect(d).toEqual([
      expect.objectContaining({
        code: 'variable-out-of-scope',
        message: `template uses "rom", but the route's regexes define no capture named "rom"; did you mean "room"?`,
      }),
    ]);
  });

  it('reports routes to unknown conferences and scenarios', () => {
    const d = check(
      routes('  - match: { to: a }\n    conference: "hall-${x}"\n  - match: { to: b }\n    scenario: nope\n'),
    );
    expect(codes(d)).toEqual(['unknown-conference', 'variable-out-of-scope', 'unknown-scenario']);
  });

  it('reports shadowed routes', () => {
    const d = check(
      routes(`  - match: { to: "^conf-(?<room>\\\\d+)$" }
    conference: "room-\${room}"
  - match: { to: "^conf-(?<room>\\\\d+)$", from: "^alice" }
    conference: "room-\${room}"
  - reject: 404
  - match: { to: x }
    reject: 403
`),
    );
    expect(d.map((x) => [x.code, x.line])).toEqual([
      ['shadowed-route', 5],
      ['shadowed-route', 8],
    ]);
  });

  it('treats .* conditions as catch-all', () => {
    const d = check(
      routes('  - match: { to: "^.*$" }\n    reject: 403\n  - match: { to: "^9" }\n    reject: 404\n'),
    );
    expect(codes(d)).toEqual(['shadowed-route']);
  });

  it('reports invalid regexes', () => {
    expect(codes(check(routes('  - match: { to: "(" }\n    reject: 403\n')))).toContain('bad-regex');
  });

  it('finds the conference a literal target names, by exact name or by glob', () => {
    const hall = 'kind: conference\nname: hall.1\nparticipant: { do: [ { join: true } ] }\n';
    const target = (name: string) =>
      `${routes(`  - match: { to: "^x$" }\n    conference: ${name}\n`)}---\n${hall}`;
    expect(check(target('room-7'))).toEqual([]); // served by room-*
    expect(check(target('hall.1'))).toEqual([]); // by its exact name
    // Names are not regexes: the dot matches only a dot.
    expect(codes(check(target('hallx1')))).toEqual(['unknown-conference']);
    expect(codes(check(target('hall.2')))).toEqual(['unknown-conference']);
  });

  it('sees every conference serving a name: a route may not go to one only local ones serve', () => {
    const local = (name: string) =>
      `kind: conference\nname: ${name}\ntype: local\nparticipant: { do: [ { join: true } ] }\n`;
    const cfg = (names: string[]) =>
      `kind: routes\nroutes:\n  - match: { to: "^x$" }\n    conference: team-1\n${names.map((n) => `---\n${local(n)}`).join('')}`;
    expect(codes(check(cfg(['team-1', 'team-*'])))).toEqual(['local-conference-route']);
    const standalone = 'kind: conference\nname: team-*\nparticipant: { do: [ { join: true } ] }\n';
    expect(check(`${cfg(['team-1'])}---\n${standalone}`)).toEqual([]);
  });

  it('starts a dialled leg in the first conference, in file order, that serves the literal name', () => {
    const cfg = (first: string, second: string) => `kind: routes
dialout: { allow: ["^sip:"] }
routes:
  - conference: caller
---
kind: conference
name: caller
participant:
  start: a
  states:
    a: { dial: { to: "sip:bob@example.com", conference: room-1, start: greet } }
---
${first}---
${second}`;
    const glob =
      'kind: conference\nname: room-*\nparticipant: { start: greet, states: { greet: { say: hi } } }\n';
    const exact =
      'kind: conference\nname: room-1\nparticipant: { start: other, states: { other: { say: ho } } }\n';
    expect(check(cfg(glob, exact))).toEqual([]);
    expect(codes(check(cfg(exact, glob)))).toEqual(['unknown-dial-start']);
  });
});

describe('dial-out', () => {
  it('refuses any dial without a dialout policy', () => {
    const d = check(
      'kind: conference\nname: c\nparticipant: { vars: { who: x }, do: [ { dial: { to: "sip:${vars.who}" } } ] }\n',
    );
    expect(d).toEqual([
      expect.objectContaining({
        code: 'dial-not-allowed',
        message: expect.stringContaining('no routes document'),
      }),
    ]);
  });

  it('refuses literal destinations outside the allowlist and unknown trunks', () => {
    const d = check(`kind: routes
dialout: { allow: ["^sip:\\\\+44"] }
routes: []
---
kind: conference
name: c
participant: { vars: { n: 1 }, do: [ { dial: { to: "sip:+1555@x", trunk: mian } }, { dial: { to: "sip:\${vars.n}" } } ] }
`);
    expect(codes(d)).toEqual(['dial-not-allowed', 'unknown-trunk']);
  });
});

describe('names, tests and files', () => {
  it('reports duplicate conference names', () => {
    const d = check('kind: conference\nname: a\n---\nkind: conference\nname: a\n');
    expect(d).toEqual([
      expect.objectContaining({
        code: 'duplicate-name',
        line: 5,
        message: expect.stringContaining('/cfg/main.yaml:2'),
      }),
    ]);
  });

  it('reports tests with unknown targets', () => {
    const d = check('kind: test\nname: t\ntarget: { conference: nope }\nscript: "call"\n');
    expect(codes(d)).toEqual(['unknown-test-target']);
  });

  it('checks audio files relative to the YAML file', () => {
    const text = conf(
      '  do: [ { play: prompts/hi.wav }, { play: "https://x/a.wav" }, { join: { music: moh.wav } } ]\n',
    );
    expect(codes(check(text, { files: ['/cfg/prompts/hi.wav'] }))).toEqual(['missing-audio']);
    expect(check(text, { files: ['/cfg/prompts/hi.wav', '/cfg/moh.wav'] })).toEqual([]);
  });
});

describe('references across documents', () => {
  it('finds shadowed routes across routes documents and duplicate trunks', () => {
    const d = check(`kind: routes
dialout: { allow: ["^sip:"], trunks: { main: { proxy: "sip:a.example.com" } } }
routes:
  - conference: lobby
---
kind: routes
dialout: { allow: ["^sip:"], trunks: { main: { proxy: "sip:b.example.com" } } }
routes:
  - match: { to: x }
    conference: lobby
---
kind: conference
name: lobby
participant: { do: [ { join: true } ] }
`);
    expect(d.map((x) => [x.code, x.line, x.message])).toEqual([
      ['duplicate-name', 7, 'trunk "main" is already defined at /cfg/main.yaml:2'],
      [
        'shadowed-route',
        9,
        'route can never be taken: the route at line 4 matches every call it would (it has no match)',
      ],
    ]);
  });

  it('checks literal conference names in join, dial, link and unlink', () => {
    const d = check(
      conf(`  vars: { n: 1 }
  do:
    - join: { conference: lobby }
    - link: { conference: lobyy }
    - unlink: "room-\${vars.n}"
    - dial: { to: "sip:a@b", conference: nowhere }
`),
    );
    expect(d.map((x) => x.message)).toEqual([
      'no conference document serves "lobyy"; did you mean "lobby"?',
      'no conference document serves "nowhere"',
    ]);
  });
});

describe('flow variables', () => {
  it('warns about vars nothing declares or sets, with a suggestion', () => {
    const d = check(
      conf(`  vars: { count: 0 }
  do: [ { set: { total: "vars.count + 1" } }, { say: "\${vars.totl} and \${vars.tenant}" } ]
`),
    );
    expect(d.map((x) => [x.code, x.severity, x.message])).toEqual([
      [
        'unknown-var',
        'warning',
        '"vars.totl" is never set: no flow, route, scenario or dial declares it; did you mean "total"?',
      ],
      ['unknown-var', 'warning', '"vars.tenant" is never set: no flow, route, scenario or dial declares it'],
    ]);
  });

  it('knows variables from routes, scenarios, collect.into and dial', () => {
    const d = check(`kind: routes
dialout: { allow: ["^sip:"] }
routes:
  - { match: { to: a }, conference: lobby, vars: { tenant: acme } }
---
kind: scenario
name: s
vars: { number: { required: true } }
flow: { do: [ { dial: { to: "sip:\${vars.number}", conference: lobby, vars: { leg: x } } } ] }
---
kind: conference
name: lobby
participant:
  do: [ { collect: { digits: 4, into: code } }, { log: "\${vars.tenant} \${vars.leg} \${vars.code}" } ]
`);
    expect(d).toEqual([]);
  });
});

describe('digits and numbers', () => {
  it('warns when digits is compared with a numeric conference variable', () => {
    const d = check(
      conf(
        '  do: [ { collect: { digits: 4 } } ]\n  on: { collected: [ { if: "digits == conference.vars.pin", goto: hangup } ] }\n',
        'vars: { pin: 1234, code: "42" }\n',
      ),
    );
    expect(d).toEqual([
      expect.objectContaining({
        code: 'number-compared-to-digits',
        severity: 'warning',
        message:
          '"digits" is a string but conference.vars.pin is the number 1234, so they are never equal; quote it in vars (pin: "1234")',
      }),
    ]);
    const quoted = check(
      conf(
        '  do: [ { collect: { digits: 4 } } ]\n  on: { collected: [ { if: "digits == conference.vars.code", goto: hangup } ] }\n',
        'vars: { pin: 1234, code: "42" }\n',
      ),
    );
    expect(quoted).toEqual([]);
  });
});

describe('participant in conference flows', () => {
  it('is not available in handlers of started, empty and ended', () => {
    const d = check(
      conf(
        '  do: [ { join: true } ]\n',
        'conference:\n  on: { empty: { log: "${participant.id}" }, joined: { log: "${participant.id}" } }\n',
      ),
    );
    expect(d.map((x) => [x.code, x.message])).toEqual([
      ['variable-out-of-scope', '"empty" is not about a participant: "participant" is not available here'],
    ]);
  });
});
