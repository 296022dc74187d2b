/** Types shared by the flow actor and the sessions that host it. */
import type { SourceRef } from '../../compiler/diagnostics.js';
import type { ActionParams, ActionRef, ActionType } from '../../compiler/ir.js';
import type { HttpRequest } from '../ports.js';

/**
 * An event delivered to a flow. `vars` are the event's variables, in scope for
 * guards and templates while the transition it triggers runs (and during the
 * entry actions of the state it leads to): `digits`, `dtmf`, `message`, `request`,
 * `dial`, `recording`, `event`, `participant`, ...
 */
export interface FlowEvent {
  type: string;
  vars?: Record<string, unknown>;
  /** The HTTP request an `http` event carries; `respond` answers it. */
  request?: HttpRequest;
  /** Leg id of the participant the event is about (conference flows: the `participant` audience). */
  participant?: string;
}

/** Actions the flow actor carries out itself; every other action goes to the host. */
export type InternalActionType = 'set' | 'log' | 'collect';
export type HostActionType = Exclude<ActionType, InternalActionType>;

/** An action with its templates rendered, ready for the host. */
export type HostAction = {
  [K in HostActionType]: { type: K; params: ActionParams[K]; src: SourceRef };
}[HostActionType];

export interface ActionContext {
  /** The event whose transition (or state entry) runs the action. */
  event: FlowEvent;
  /** Aborted when the state that started the action is left (or the flow stops). */
  signal: AbortSignal;
  /** Aborted only when the flow stops: for effects that outlive their state. */
  flowSignal: AbortSignal;
  src: SourceRef;
  /** Set for the prompt a `collect` plays (it raises no `played`). */
  collectPrompt?: boolean;
}

/** How a flow run ended. */
export type FlowOutcome = 'hangup' | 'end' | 'stopped';

/**
 * What a flow needs from the session that runs it: the session's variables and
 * the effects of actions. Implemented by participant, conference and scenario
 * sessions (src/runtime/session).
 */
export interface FlowHost {
  /** Session variables: `call`, `route`, `conference`, `participant` (as they are now). */
  scope(): Record<string, unknown>;
  /**
   * Carries out an action. Long actions (prompts to self, join, dial) resolve when
   * done; events they cause (`joined`, `answered`, ...) are sent to the flow by the
   * host. Rejections are logged by the actor with the action's source position.
   */
  perform(action: HostAction, ctx: ActionContext): Promise<void>;
  /** The flow reached `$hangup` / `$end` or was stopped; called once. */
  finished(outcome: FlowOutcome): void;
}

/** An action reference as it sits in the machine config. */
export type FlowActionRef = ActionRef;
