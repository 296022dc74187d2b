import { describe, expect, it } from 'vitest';
import { compileSources, formatDiagnostic } from '../../../src/compiler/index.js';
import { simulate } from '../../../src/runtime/sim/index.js';

const flow = (then: string) => `kind: conference
name: board
participant:
  start: welcome
  states:
    welcome:
      say: "Welcome."
      then:
${then}
    chair:
      join: { role: moderator }
    member:
      join: { role: member }
`;

const GUARDED = flow(`        - { if: "call.from.startsWith('alice@')", goto: chair }
        - member`);

function compile(text: string) {
  return compileSources([{ file: 'board.yaml', text }], { fileExists: () => true });
}

describe('then with branches', () => {
  it('compiles to guarded transitions on the end of the entry actions', () => {
    const r = compile(GUARDED);
    expect(r.diagnostics).toEqual([]);
    const welcome = r.set?.conferences[0]?.participant.machine.states.welcome;
    const done = welcome?.on['parley.entry.done'];
    expect(done?.map((t) => [t.target, t.guard?.params.expr])).toEqual([
      ['chair', "call.from.startsWith('alice@')"],
      ['member', undefined],
    ]);
  });

  it('takes the first branch whose guard holds', async () => {
    const set = compile(GUARDED).set;
    if (!set) throw new Error('did not compile');
    const states = async (from: string) =>
      (
        await simulate(set, { target: { conference: 'board' }, call: { from }, script: 'call; wait 5s' })
      ).transcript
        .filter((e) => e.type === 'state')
        .map((e) => e.state);
    expect(await states('alice@example.com')).toEqual(['welcome', 'chair']);
    expect(await states('bob@example.com')).toEqual(['welcome', 'member']);
  });

  it('checks targets, expressions and variables in its branches', () => {
    const r = compile(
      flow(`        - { if: "caller.startsWith('alice@')", goto: chiar }
        - member`),
    );
    const lines = r.diagnostics.map(formatDiagnostic);
    expect(lines).toContainEqual(expect.stringMatching(/unknown state "chiar"; did you mean "chair"\?/));
    expect(lines).toContainEqual(expect.stringMatching(/unknown variable "caller"; did you mean "call"\?/));
    expect(r.set).toBeUndefined();
  });

  it('finds an unbounded retry loop through then', () => {
    const r = compile(`kind: conference
name: loop
participant:
  start: ask
  states:
    ask:
      say: "Again."
      then:
        - { if: "call.from == 'x'", goto: done }
        - ask
    done:
      join: true
`);
    expect(r.diagnostics.map((d) => d.code)).toContain('unbounded-retry');
  });
});
