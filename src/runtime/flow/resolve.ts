/** Renders the templates inside an action's params with the current scope. */
import type { ActionRef } from '../../compiler/ir.js';
import { ActionError, errorMessage } from '../errors.js';
import type { ExpressionEngine } from '../ports.js';
import type { HostAction } from './types.js';

type Scope = Record<string, unknown>;

/** Renders every string leaf of a JSON value as a template. */
export function renderDeep(value: unknown, scope: Scope, ex: ExpressionEngine): unknown {
  if (typeof value === 'string') return ex.render(value, scope);
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, scope, ex));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderDeep(v, scope, ex);
    return out;
  }
  return value;
}

function opt(value: string | undefined, scope: Scope, ex: ExpressionEngine): string | undefined {
  return value === undefined ? undefined : ex.render(value, scope);
}

function renderVars(
  vars: Record<string, string | number | boolean>,
  scope: Scope,
  ex: ExpressionEngine,
): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(vars)) out[k] = typeof v === 'string' ? ex.render(v, scope) : v;
  return out;
}

/** Drops keys whose value is undefined, so resolved params stay plain JSON. */
function clean<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

/**
 * Renders an action for the host. Throws `ActionError` (with the action's source
 * position) when a template fails at run time.
 */
export function resolveAction(
  ref: Exclude<ActionRef, { type: 'set' | 'log' | 'collect' }>,
  scope: Scope,
  ex: ExpressionEngine,
): HostAction {
  try {
    switch (ref.type) {
      case 'say':
        return { ...ref, params: { ...ref.params, text: ex.render(ref.params.text, scope) } };
      case 'play':
        return { ...ref, params: clean({ ...ref.params, url: opt(ref.params.url, scope, ex) }) };
      case 'reject':
        return { ...ref, params: clean({ ...ref.params, reason: opt(ref.params.reason, scope, ex) }) };
      case 'hangup':
        return { ...ref, params: clean({ ...ref.params, reason: opt(ref.params.reason, scope, ex) }) };
      case 'join':
        return {
          ...ref,
          params: clean({ ...ref.params, conference: opt(ref.params.conference, scope, ex) }),
        };
      case 'record':
        return { ...ref, params: clean({ ...ref.params, file: opt(ref.params.file, scope, ex) }) };
      case 'dial':
        return {
          ...ref,
          params: clean({
            ...ref.params,
            to: ex.render(ref.params.to, scope),
            from: opt(ref.params.from, scope, ex),
            conference: opt(ref.params.conference, scope, ex),
            vars: renderVars(ref.params.vars, scope, ex),
          }),
        };
      case 'link':
        return { ...ref, params: { ...ref.params, conference: ex.render(ref.params.conference, scope) } };
      case 'unlink':
        return { ...ref, params: { conference: ex.render(ref.params.conference, scope) } };
      case 'send':
        return { ...ref, params: { ...ref.params, text: ex.render(ref.params.text, scope) } };
      case 'respond':
        return {
          ...ref,
          params: clean({ ...ref.params, body: renderDeep(ref.params.body, scope, ex) }),
        };
      default:
        return ref;
    }
  } catch (err) {
    throw new ActionError(ref.type, `${ref.type}: ${errorMessage(err)}`, { src: ref.src, cause: err });
  }
}
