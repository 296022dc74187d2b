/**
 * Pictures of a compiled flow: Mermaid (stateDiagram-v2) and Graphviz DOT. Every
 * state and every transition is drawn; labels carry the event, the guard in
 * brackets and the actions after a slash. A transition that stays in its state is
 * drawn as a loop marked "(stay)".
 */
import type { CompiledFlow, TransitionConfig } from './ir.js';

const ENTRY_DONE = 'parley.entry.done';

interface Edge {
  from: string;
  /** Undefined: stays in `from`. */
  to?: string;
  label: string;
}

function eventLabel(event: string): string {
  if (event === ENTRY_DONE) return 'then';
  return event;
}

function transitionLabel(event: string, t: TransitionConfig): string {
  let label = event;
  if (t.guard) label += ` [${t.guard.params.expr}]`;
  if (t.actions.length > 0) label += ` / ${t.actions.map((a) => a.type).join(', ')}`;
  if (t.target === undefined) label += ' (stay)';
  return label;
}

function edgesOf(flow: CompiledFlow): Edge[] {
  const edges: Edge[] = [];
  for (const [name, s] of Object.entries(flow.machine.states)) {
    for (const [event, ts] of Object.entries(s.on)) {
      for (const t of ts)
        edges.push({ from: name, to: t.target, label: transitionLabel(eventLabel(event), t) });
    }
    for (const [delay, ts] of Object.entries(s.after ?? {})) {
      for (const t of ts)
        edges.push({ from: name, to: t.target, label: transitionLabel(`after ${delay}ms`, t) });
    }
  }
  return edges;
}

function entryLabel(flow: CompiledFlow, name: string): string {
  const entry = flow.machine.states[name]?.entry ?? [];
  return entry.length === 0 ? '' : `entry / ${entry.map((a) => a.type).join(', ')}`;
}

// ───────────────────────────── Mermaid ─────────────────────────────

/** Mermaid text: entity codes for everything its grammar could read as syntax. */
function mermaidText(s: string): string {
  return s
    .replace(/\r?\n/g, ' ')
    .replace(/[#;:"<>{}`\\]/g, (c) => (c === '"' ? '#quot;' : `#${c.charCodeAt(0)};`));
}

export function renderMermaid(flow: CompiledFlow): string {
  const names = Object.keys(flow.machine.states);
  const ids = new Map(names.map((n, i) => [n, `s${i}`]));
  const id = (n: string) => ids.get(n) ?? `s${ids.size}`;
  const lines = ['stateDiagram-v2'];
  for (const name of names) {
    lines.push(`  state "${mermaidText(name)}" as ${id(name)}`);
    const entry = entryLabel(flow, name);
    if (entry) lines.push(`  ${id(name)} : ${mermaidText(entry)}`);
  }
  lines.push(`  [*] --> ${id(flow.machine.initial)}`);
  for (const e of edgesOf(flow)) {
    lines.push(`  ${id(e.from)} --> ${id(e.to ?? e.from)} : ${mermaidText(e.label)}`);
  }
  for (const [name, s] of Object.entries(flow.machine.states)) {
    if (s.type === 'final') lines.push(`  ${id(name)} --> [*]`);
  }
  return `${lines.join('\n')}\n`;
}

// ───────────────────────────── DOT ─────────────────────────────

function dotString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;
}

export function renderDot(flow: CompiledFlow): string {
  const lines = [
    `digraph ${dotString(flow.id)} {`,
    '  rankdir=LR;',
    '  node [shape=box, style=rounded, fontname="Helvetica"];',
    '  edge [fontname="Helvetica", fontsize=10];',
    '  "$$initial" [shape=point, width=0.15, label=""];',
  ];
  for (const [name, s] of Object.entries(flow.machine.states)) {
    const entry = entryLabel(flow, name);
    const label = entry ? `${name}\n${entry}` : name;
    const shape = s.type === 'final' ? ', shape=doublecircle, style=solid' : '';
    lines.push(`  ${dotString(name)} [label=${dotString(label)}${shape}];`);
  }
  lines.push(`  "$$initial" -> ${dotString(flow.machine.initial)};`);
  for (const e of edgesOf(flow)) {
    lines.push(`  ${dotString(e.from)} -> ${dotString(e.to ?? e.from)} [label=${dotString(e.label)}];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
