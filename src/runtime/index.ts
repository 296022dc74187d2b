/** The runtime's public surface: ports, the runtime, its actors and the router. */
export { RealClock, VirtualClock } from './clock.js';
export { ConferenceActor, type ConferenceActorOptions, type ConferenceRegistry } from './conference/actor.js';
export { resolveAudience, resolveAudiences } from './conference/audience.js';
export {
  ActionError,
  CallStateError,
  DialRefusedError,
  RuntimeError,
  type RuntimeErrorCode,
} from './errors.js';
export { celExpressions } from './expressions.js';
export { ENTRY_DONE, FlowActor, type FlowActorOptions } from './flow/actor.js';
export type { ActionContext, FlowEvent, FlowHost, FlowOutcome, HostAction } from './flow/types.js';
export { DEFAULT_LOCKOUT_MS, PinLockout } from './lockout.js';
export type * from './ports.js';
export { type RouteDecision, type RouteRequest, Router } from './router.js';
export { type CallTarget, Runtime } from './runtime.js';
export { FlowSession } from './session/flow-session.js';
export { Session } from './session/session.js';
