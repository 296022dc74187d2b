/**
 * The simulator's transcript: what happened, when, to whom.
 *
 * One entry per observable step, in the order it happened:
 *
 *   { t: 1200, who: 'caller', type: 'say', text: 'Goodbye.', to: 'self' }
 *
 * - `t`     virtual milliseconds since the simulation started.
 * - `who`   `caller` (the script's first unnamed call), the call's name
 *           (`alice: call ...` / `call alice ...`), a dialled leg (the user part of
 *           the dialled URI, e.g. `bob` for `sip:bob@example.com`),
 *           `conference:<name>` or `scenario:<name>`.
 * - `type`  one of:
 *   - flow:        `state` {state}, `log` {text, level?}, `collect` {digits, try},
 *                  `collected` {digits, tries}, `exhausted` {tries}
 *   - prompts:     `say` {text, to}, `play` {file | url, to, loop?}, `stop` {what},
 *                  `music` {participant, file}, `music-stop` {participant}
 *   - call:        `dtmf` {digit} (a key the far end pressed),
 *                  `answer` {early?}, `reject` {code, reason?}, `hangup` {by: flow|remote, reason?},
 *                  `message` {text, from} (received), `send` {text, to},
 *                  `talking`, `silent`, `http` {method, path}, `respond` {status, body? (JSON)}
 *   - conference:  `join` {conference, role} (asked), `joined` {conference, role} (by the call) and
 *                  `joined` {participant, role, muted, deaf, speak, hear, participants} (by the conference),
 *                  `rejoined` (same fields; a member joined again with new options),
 *                  `full` {conference} (by the call) / {participant, limit} (by the conference),
 *                  `leave` {conference}, `left` {participant, role, reason, participants},
 *                  `started`, `empty`, `end` {reason}, `lockout` {source, until} (PIN failures),
 *                  `mute` / `unmute` / `deaf` / `undeaf` {participant},
 *                  `record` {file, what, direction, participant?}, `recorded` {file, duration (s)},
 *                  `link` / `unlink` {conference, direction?}, `notify` {event, to},
 *                  `hear` {conference, hears} — whom that participant now hears
 *                  (comma-separated names, `none` for nobody), after every routing change
 *                  (only while the conference has at most 16 members)
 *   - dial-out:    `dial` {to}, `answered` / `busy` / `no-answer` / `failed` {to, reason?}
 *
 * Every field is a flat scalar; participant ids are replaced by call names.
 */

export type TranscriptValue = string | number | boolean;

export interface TranscriptEntry {
  t: number;
  who: string;
  type: string;
  [field: string]: TranscriptValue;
}

const MAIN_FIELD: Record<string, string> = {
  say: 'text',
  send: 'text',
  message: 'text',
  log: 'text',
  state: 'state',
  collected: 'digits',
  dtmf: 'digit',
};

function show(v: TranscriptValue): string {
  if (typeof v !== 'string') return String(v);
  return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
}

/** One readable line per entry: `t=1.200s caller say "Goodbye." to=self`. */
export function formatEntry(e: TranscriptEntry): string {
  const main = MAIN_FIELD[e.type];
  const parts = [`t=${(e.t / 1000).toFixed(3)}s`, e.who, e.type];
  if (main !== undefined && e[main] !== undefined) {
    const v = e[main]!;
    parts.push(e.type === 'state' ? show(v) : JSON.stringify(String(v)));
  }
  for (const [k, v] of Object.entries(e)) {
    if (k === 't' || k === 'who' || k === 'type' || k === main) continue;
    parts.push(`${k}=${show(v)}`);
  }
  return parts.join(' ');
}

export function formatTranscript(entries: readonly TranscriptEntry[]): string {
  return entries.map((e) => `${formatEntry(e)}\n`).join('');
}

export type TranscriptMatcher = Record<string, string | number | boolean>;

/** `/re/` or `/re/flags` → RegExp; anything else → undefined. */
function asRegex(s: string): RegExp | undefined {
  const m = /^\/(.*)\/([a-z]*)$/s.exec(s);
  if (!m) return undefined;
  try {
    return new RegExp(m[1]!, m[2]);
  } catch {
    return undefined;
  }
}

/** Every field of the matcher equals the entry's (strings: or matches `/re/`). */
export function matches(entry: TranscriptEntry, matcher: TranscriptMatcher): boolean {
  for (const [k, want] of Object.entries(matcher)) {
    const got = entry[k];
    if (got === undefined) return false;
    if (typeof want === 'string') {
      const re = asRegex(want);
      if (re ? !re.test(String(got)) : String(got) !== want) return false;
    } else if (got !== want) {
      return false;
    }
  }
  return true;
}

export function formatMatcher(m: TranscriptMatcher): string {
  return `{ ${Object.entries(m)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`)
    .join(', ')} }`;
}

/**
 * Checks `expect` as an ordered subsequence and `absent` as never matching.
 * Returns one message per failure.
 */
export function checkTranscript(
  entries: readonly TranscriptEntry[],
  expect: readonly TranscriptMatcher[],
  absent: readonly TranscriptMatcher[],
): string[] {
  const failures: string[] = [];
  let at = 0;
  for (const [i, m] of expect.entries()) {
    const found = entries.findIndex((e, idx) => idx >= at && matches(e, m));
    if (found < 0) {
      const after = at > 0 ? ` after ${formatEntry(entries[at - 1]!)}` : '';
      const anywhere = entries.some((e) => matches(e, m)) ? ' (it occurs earlier: order differs)' : '';
      failures.push(`expect[${i}] ${formatMatcher(m)} not found${after}${anywhere}`);
      continue;
    }
    at = found + 1;
  }
  for (const [i, m] of absent.entries()) {
    const hit = entries.find((e) => matches(e, m));
    if (hit) failures.push(`absent[${i}] ${formatMatcher(m)} occurred: ${formatEntry(hit)}`);
  }
  return failures;
}
