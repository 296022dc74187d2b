import { describe, expect, it } from 'vitest';
import type { CompiledFlow, StateConfig } from '../../../src/compiler/ir.js';
import { renderDot, renderMermaid } from '../../../src/compiler/render.js';

const src = { file: 'f.yaml', line: 1, col: 1 };
const state = (s: Partial<StateConfig>): StateConfig => ({
  entry: [],
  on: {},
  meta: { src, dtmf: [] },
  ...s,
});

const flow: CompiledFlow = {
  id: 'room-*/participant',
  version: 'v',
  machine: {
    id: 'room-*/participant',
    initial: 'pin',
    context: { vars: {} },
    states: {
      pin: state({
        entry: [{ type: 'say', params: { text: 'PIN?', to: 'self' }, src }],
        on: {
          collected: [
            {
              target: 'join',
              guard: { type: 'expr', params: { expr: 'digits == "1#2"; x < 3' } },
              actions: [],
              meta: { src },
            },
            { target: '$hangup', actions: [], meta: { src } },
          ],
        },
      }),
      join: state({
        on: {
          'dtmf:*6': [{ actions: [{ type: 'toggle', params: { what: 'mute' }, src }], meta: { src } }],
          'parley.entry.done': [{ target: 'pin', actions: [], meta: { src } }],
        },
        after: { '5000': [{ target: 'pin', actions: [], meta: { src } }] },
      }),
      $hangup: state({ type: 'final', entry: [{ type: 'hangup', params: {}, src }] }),
    },
  },
};

describe('renderMermaid', () => {
  const text = renderMermaid(flow);

  it('draws every state, the initial and final states', () => {
    expect(text.startsWith('stateDiagram-v2\n')).toBe(true);
    expect(text).toContain('state "pin" as s0');
    expect(text).toContain('state "join" as s1');
    expect(text).toContain('state "$hangup" as s2');
    expect(text).toContain('[*] --> s0');
    expect(text).toContain('s2 --> [*]');
    expect(text).toContain('s0 : entry / say');
  });

  it('labels transitions with events, guards and actions, escaping syntax characters', () => {
    expect(text).toContain('s0 --> s1 : collected [digits == #quot;1#35;2#quot;#59; x #60; 3]');
    expect(text).toContain('s0 --> s2 : collected\n');
    expect(text).toContain('s1 --> s1 : dtmf#58;*6 / toggle (stay)');
    expect(text).toContain('s1 --> s0 : then');
    expect(text).toContain('s1 --> s0 : after 5000ms');
    // One line per state declaration, entry, initial, transition and final marker.
    expect(text.trim().split('\n')).toHaveLength(1 + 3 + 2 + 1 + 5 + 1);
  });
});

describe('renderDot', () => {
  const text = renderDot(flow);

  it('draws a digraph with quoted, escaped labels', () => {
    expect(text.startsWith('digraph "room-*/participant" {\n')).toBe(true);
    expect(text).toContain('"$$initial" -> "pin";');
    expect(text).toContain('"pin" -> "join" [label="collected [digits == \\"1#2\\"; x < 3]"];');
    expect(text).toContain('"$hangup" [label="$hangup\\nentry / hangup", shape=doublecircle, style=solid];');
    expect(text).toContain('"join" -> "join" [label="dtmf:*6 / toggle (stay)"];');
    expect(text).toContain('"join" -> "pin" [label="after 5000ms"];');
    expect(text.trim().endsWith('}')).toBe(true);
  });
});
