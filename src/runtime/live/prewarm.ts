/**
 * The speech a configuration says word for word (no `${...}` in it), found in its
 * compiled flows: `say` actions and `collect` prompts. The server synthesizes these at
 * start so that the first caller does not wait for the speech engine to load.
 */
import type { CompiledSet } from '../../compiler/ir.js';

export interface StaticSpeech {
  text: string;
  voice?: string;
}

/** Distinct static texts in set order; at most `limit`, so a huge configuration does not keep the engine busy for minutes. */
export function staticSpeech(set: CompiledSet, limit = 200): StaticSpeech[] {
  const seen = new Set<string>();
  const out: StaticSpeech[] = [];
  const add = (say: unknown) => {
    if (!say || typeof say !== 'object') return;
    const { text, voice } = say as { text?: unknown; voice?: unknown };
    if (typeof text !== 'string' || text.includes('${') || text.trim() === '') return;
    const v = typeof voice === 'string' ? voice : undefined;
    const key = `${v ?? ''}\u0000${text}`;
    if (seen.has(key) || out.length >= limit) return;
    seen.add(key);
    out.push(v === undefined ? { text } : { text, voice: v });
  };
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const obj = node as Record<string, unknown>;
    if (obj.type === 'say') add(obj.params);
    if ('say' in obj) add(obj.say);
    for (const value of Object.values(obj)) walk(value);
  };
  walk(set.conferences);
  walk(set.scenarios);
  return out;
}
