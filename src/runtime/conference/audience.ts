/** Audience resolution: `self`, `all`, `others`, `participant`, `role:<name>` → member ids. */
import type { Audience } from '../../compiler/ast.js';
import type { AudienceContext } from '../ports.js';

export interface AudienceMember {
  id: string;
  role: string;
}

export type { AudienceContext } from '../ports.js';

/** Member ids in `members` order; unknown audiences and absent subjects resolve to nobody. */
export function resolveAudience(
  audience: Audience,
  members: readonly AudienceMember[],
  ctx: AudienceContext,
): string[] {
  switch (audience) {
    case 'all':
      return members.map((m) => m.id);
    case 'self':
      return ctx.self !== undefined && members.some((m) => m.id === ctx.self) ? [ctx.self] : [];
    case 'others':
      return members.filter((m) => m.id !== ctx.self).map((m) => m.id);
    case 'participant':
      return ctx.participant !== undefined && members.some((m) => m.id === ctx.participant)
        ? [ctx.participant]
        : [];
    default:
      if (audience.startsWith('role:')) {
        const role = audience.slice('role:'.length);
        return members.filter((m) => m.role === role).map((m) => m.id);
      }
      return [];
  }
}

/** Union of several audiences, without duplicates, in member order. */
export function resolveAudiences(
  audiences: readonly Audience[],
  members: readonly AudienceMember[],
  ctx: AudienceContext,
): string[] {
  const set = new Set(audiences.flatMap((a) => resolveAudience(a, members, ctx)));
  return members.map((m) => m.id).filter((id) => set.has(id));
}
