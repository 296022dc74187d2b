/**
 * A session: what one inbound call or one scenario run brings into being. It owns
 * the local conferences created inside it and the legs it dialled into them; when
 * its root flow ends, its local conferences end.
 */
import type { ConferenceActor } from '../conference/actor.js';

export interface SessionMember {
  readonly id: string;
  readonly ended: boolean;
  close(reason: string): Promise<void>;
}

export class Session {
  readonly id: string;
  /** Local conferences by name. */
  readonly locals = new Map<string, ConferenceActor>();
  private readonly members = new Set<SessionMember>();
  private root: SessionMember | undefined;
  private endedFlag = false;
  private readonly onEnd: (s: Session) => void;

  constructor(id: string, onEnd: (s: Session) => void) {
    this.id = id;
    this.onEnd = onEnd;
  }

  get ended(): boolean {
    return this.endedFlag;
  }

  add(member: SessionMember): void {
    this.root ??= member;
    this.members.add(member);
  }

  /** A member's flow is over; when it was the root, the session ends. */
  removed(member: SessionMember): void {
    this.members.delete(member);
    if (member === this.root) void this.end('root ended');
  }

  async end(reason: string): Promise<void> {
    if (this.endedFlag) return;
    this.endedFlag = true;
    for (const c of [...this.locals.values()]) await c.end(`session ${reason}`);
    this.locals.clear();
    for (const m of [...this.members]) if (!m.ended) await m.close(`session ${reason}`);
    this.onEnd(this);
  }
}
