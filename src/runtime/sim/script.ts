/**
 * The simulator's script language. Commands are separated by `;` or newlines
 * (not inside quotes or a JSON body); `#` starts a comment line. Any command may
 * be prefixed with `NAME:` to act on that call, conference or scenario (default:
 * the most recent one).
 *
 *   call [NAME] [from URI] [to USER|URI] [source IP] [transport T] [header NAME=VALUE]...
 *   dtmf KEYS                     keys 100 ms apart
 *   wait DURATION                 500ms, 2s, 1.5m
 *   hangup                        the far end hangs up
 *   message "text"                the far end sends a SIP MESSAGE
 *   http METHOD [PATH] [JSON]     an HTTP request to the call's flow / the conference / the scenario
 *   talk | silent                 voice activity of the far end
 *   busy|no-answer|fail|answer REGEX   outcome of later dials whose URI matches (latest rule wins)
 *   start conference NAME
 *   start scenario NAME [key=value]...
 */

export type DialRuleOutcome = 'busy' | 'no-answer' | 'fail' | 'answer';

export type Command = { line: number; text: string; subject?: string } & (
  | {
      op: 'call';
      name?: string;
      from?: string;
      to?: string;
      source?: string;
      transport?: string;
      headers: Record<string, string>;
    }
  | { op: 'dtmf'; keys: string }
  | { op: 'wait'; ms: number }
  | { op: 'hangup' }
  | { op: 'message'; text: string }
  | { op: 'http'; method: string; path: string; body?: unknown }
  | { op: 'talk' }
  | { op: 'silent' }
  | { op: 'rule'; outcome: DialRuleOutcome; pattern: RegExp }
  | { op: 'start-conference'; name: string }
  | { op: 'start-scenario'; name: string; vars: Record<string, string | number | boolean> }
);

export class ScriptError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(`script line ${line}: ${message}`);
    this.name = 'ScriptError';
    this.line = line;
  }
}

/** `500ms`, `10s`, `1.5m`, `1h` → milliseconds; undefined when not a duration. */
export function parseDuration(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(s.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Math.round(n * unit);
}

/** Splits the script into command texts with their 1-based line numbers. */
function splitCommands(script: string): Array<{ text: string; line: number }> {
  const out: Array<{ text: string; line: number }> = [];
  let cur = '';
  let line = 1;
  let startLine = 1;
  let quote = false;
  let depth = 0;
  const push = () => {
    const text = cur.trim();
    if (text && !text.startsWith('#')) out.push({ text, line: startLine });
    cur = '';
  };
  for (let i = 0; i < script.length; i++) {
    const ch = script[i]!;
    if (ch === '\\' && quote) {
      cur += ch + (script[i + 1] ?? '');
      i++;
      continue;
    }
    if (ch === '"') quote = !quote;
    else if (!quote && (ch === '{' || ch === '[')) depth++;
    else if (!quote && (ch === '}' || ch === ']')) depth = Math.max(0, depth - 1);
    if (!quote && depth === 0 && (ch === ';' || ch === '\n')) {
      push();
      if (ch === '\n') line++;
      startLine = line;
      continue;
    }
    if (ch === '\n') line++;
    if (cur.trim() === '') startLine = line;
    cur += ch;
  }
  push();
  return out;
}

/** Whitespace-separated words; `"..."` is one word (JSON string syntax). */
function words(s: string, line: number): string[] {
  const out: string[] = [];
  const re = /"(?:[^"\\]|\\.)*"|\S+/g;
  for (const m of s.matchAll(re)) {
    const w = m[0];
    if (w.startsWith('"')) {
      try {
        out.push(JSON.parse(w) as string);
      } catch {
        throw new ScriptError(line, `bad quoted string ${w}`);
      }
    } else out.push(w);
  }
  return out;
}

function scalar(v: string): string | number | boolean {
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  return v;
}

export function parseScript(script: string): Command[] {
  return splitCommands(script).map(({ text, line }) => parseCommand(text, line));
}

function parseCommand(full: string, line: number): Command {
  let text = full;
  let subject: string | undefined;
  const prefix = /^([A-Za-z_][\w.-]*):\s*(\S.*)$/s.exec(text);
  if (prefix) {
    subject = prefix[1]!;
    text = prefix[2]!;
  }
  const base = { line, text: full, ...(subject !== undefined ? { subject } : {}) };
  const [op = '', ...rest] = text.split(/\s+/);
  const arg = text.slice(op.length).trim();
  switch (op) {
    case 'call': {
      const w = words(arg, line);
      const cmd: Extract<Command, { op: 'call' }> = { ...base, op: 'call', headers: {} };
      let i = 0;
      if (w[0] !== undefined && !['from', 'to', 'source', 'transport', 'header'].includes(w[0]))
        cmd.name = w[i++];
      while (i < w.length) {
        const key = w[i++];
        const value = w[i++];
        if (value === undefined) throw new ScriptError(line, `call: "${key}" needs a value`);
        if (key === 'from') cmd.from = value.replace(/^sips?:/, '');
        else if (key === 'to') cmd.to = value;
        else if (key === 'source') cmd.source = value;
        else if (key === 'transport') cmd.transport = value;
        else if (key === 'header') {
          const eq = value.indexOf('=');
          if (eq < 1) throw new ScriptError(line, `call: header must be NAME=VALUE`);
          cmd.headers[value.slice(0, eq).toLowerCase()] = value.slice(eq + 1);
        } else throw new ScriptError(line, `call: unknown word "${key}"`);
      }
      return cmd;
    }
    case 'dtmf': {
      const keys = rest.join('');
      if (!/^[0-9*#A-Da-d]+$/.test(keys)) throw new ScriptError(line, `dtmf: bad keys "${keys}"`);
      return { ...base, op: 'dtmf', keys: keys.toUpperCase() };
    }
    case 'wait': {
      const ms = parseDuration(arg);
      if (ms === undefined) throw new ScriptError(line, `wait: bad duration "${arg}"`);
      return { ...base, op: 'wait', ms };
    }
    case 'hangup':
    case 'talk':
    case 'silent':
      if (arg) throw new ScriptError(line, `${op} takes no arguments`);
      return { ...base, op };
    case 'message': {
      const w = words(arg, line);
      if (w.length !== 1) throw new ScriptError(line, 'message: write the text in double quotes');
      return { ...base, op: 'message', text: w[0]! };
    }
    case 'http': {
      const m = /^(\S+)(?:\s+([^\s{[]\S*))?(?:\s+(.*))?$/s.exec(arg);
      if (!m) throw new ScriptError(line, 'http: METHOD [PATH] [JSON body]');
      let body: unknown;
      if (m[3]?.trim()) {
        try {
          body = JSON.parse(m[3]);
        } catch (err) {
          throw new ScriptError(line, `http: body is not JSON (${(err as Error).message})`);
        }
      }
      return {
        ...base,
        op: 'http',
        method: m[1]!.toUpperCase(),
        path: m[2] ?? '/',
        ...(body !== undefined ? { body } : {}),
      };
    }
    case 'busy':
    case 'no-answer':
    case 'fail':
    case 'answer': {
      if (!arg) throw new ScriptError(line, `${op}: needs a destination regex`);
      try {
        return { ...base, op: 'rule', outcome: op, pattern: new RegExp(arg) };
      } catch (err) {
        throw new ScriptError(line, `${op}: bad regex (${(err as Error).message})`);
      }
    }
    case 'start': {
      const w = words(arg, line);
      if (w[0] === 'conference' && w.length === 2) return { ...base, op: 'start-conference', name: w[1]! };
      if (w[0] === 'scenario' && w[1] !== undefined) {
        const vars: Record<string, string | number | boolean> = {};
        for (const kv of w.slice(2)) {
          const eq = kv.indexOf('=');
          if (eq < 1) throw new ScriptError(line, `start scenario: "${kv}" is not key=value`);
          vars[kv.slice(0, eq)] = scalar(kv.slice(eq + 1));
        }
        return { ...base, op: 'start-scenario', name: w[1], vars };
      }
      throw new ScriptError(line, 'start conference NAME | start scenario NAME [key=value]...');
    }
    default:
      throw new ScriptError(line, `unknown command "${op}"`);
  }
}
