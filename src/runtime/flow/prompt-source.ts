import type { PromptSource } from '../ports.js';
import type { HostAction } from './types.js';

/** What a resolved `say` or `play` action asks the media layer to play. */
export function promptSource(action: Extract<HostAction, { type: 'say' | 'play' }>): PromptSource {
  if (action.type === 'say') {
    const { text, voice } = action.params;
    return { kind: 'tts', text, ...(voice ? { voice } : {}) };
  }
  return action.params.url !== undefined
    ? { kind: 'url', url: action.params.url }
    : { kind: 'file', path: action.params.file ?? '' };
}
