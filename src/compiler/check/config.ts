/**
 * Checks across documents: unique names, routes (regexes, captures, shadowing,
 * what they name), test targets, dial-out (policy, trunks, start states), audio
 * files, and custom events nobody handles.
 */
import path from 'node:path';
import type { ConferenceDocument, Route, RouteMatch } from '../ast.js';
import { type NodePath, subPath } from '../diagnostics.js';
import { isTemplate } from '../expr.js';
import { type FlowAction, type FlowModel, flowsOf, isUrl, type Unit } from '../model.js';
import { suggest } from '../suggest.js';
import { type CheckContext, where } from './context.js';
import { checkSource } from './exprs.js';
import {
  compileRegex,
  globAcceptsPrefix,
  globPattern,
  isCatchAll,
  literalPrefix,
  meanSuffix,
  namedGroups,
} from './util.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ───────────────────────────── names ─────────────────────────────

export function checkDuplicateNames(ctx: CheckContext): void {
  const groups: Array<[string, Unit[]]> = [
    ['conference', ctx.conferences],
    ['scenario', ctx.scenarios],
    ['test', ctx.tests],
    ['routes document', ctx.routes],
  ];
  for (const [what, units] of groups) {
    const first = new Map<string, Unit>();
    for (const unit of units) {
      const name = (unit.data as { name?: unknown }).name;
      if (typeof name !== 'string') continue;
      const earlier = first.get(name);
      if (!earlier) {
        first.set(name, unit);
        continue;
      }
      const at = earlier.doc.at(['name']);
      ctx.report(
        unit,
        ['name'],
        'duplicate-name',
        `${what} "${name}" is already defined at ${at.file}:${at.line}`,
      );
    }
  }
}

/** Conference documents that serve `name`: exactly for a literal name, by prefix for a template. */
function conferencesServing(ctx: CheckContext, name: string): Unit<ConferenceDocument>[] {
  if (isTemplate(name)) {
    const prefix = literalPrefix(name);
    return ctx.conferences.filter((c) => globAcceptsPrefix(c.data.name, prefix));
  }
  return conferenceIndex(ctx).serving(name);
}

/**
 * The conference documents by name, for literal lookups: routes, tests and flows name
 * conferences one reference at a time, and a configuration can hold thousands of both.
 * Plain names are looked up in a map; only the names with `*` are matched one by one,
 * each by a regex compiled once.
 */
class ConferenceIndex {
  private readonly exact = new Map<string, Array<{ unit: Unit<ConferenceDocument>; order: number }>>();
  private readonly globs: Array<{ unit: Unit<ConferenceDocument>; order: number; re: RegExp }> = [];

  constructor(conferences: readonly Unit<ConferenceDocument>[]) {
    conferences.forEach((unit, order) => {
      const name = unit.data.name;
      if (name.includes('*')) {
        this.globs.push({ unit, order, re: new RegExp(globPattern(name)) });
        return;
      }
      let same = this.exact.get(name);
      if (!same) {
        same = [];
        this.exact.set(name, same);
      }
      same.push({ unit, order });
    });
  }

  /** The documents whose name or glob serves `name`, in the order of the configuration. */
  serving(name: string): Unit<ConferenceDocument>[] {
    const found = [...(this.exact.get(name) ?? [])];
    for (const g of this.globs) if (g.re.test(name)) found.push(g);
    if (found.length > 1) found.sort((a, b) => a.order - b.order);
    return found.map((f) => f.unit);
  }
}

const indexes = new WeakMap<CheckContext, ConferenceIndex>();

function conferenceIndex(ctx: CheckContext): ConferenceIndex {
  let index = indexes.get(ctx);
  if (!index) {
    index = new ConferenceIndex(ctx.conferences);
    indexes.set(ctx, index);
  }
  return index;
}

function scenarioExists(ctx: CheckContext, name: string): boolean {
  if (isTemplate(name)) {
    const prefix = literalPrefix(name);
    return ctx.scenarios.some((s) => s.data.name.startsWith(prefix));
  }
  return ctx.scenarios.some((s) => s.data.name === name);
}

function conferenceNames(ctx: CheckContext): string[] {
  return ctx.conferences.map((c) => c.data.name);
}

// ───────────────────────────── routes ─────────────────────────────

const REGEX_FIELDS = ['to', 'from'] as const;

/** Every regex of a route's match, with its path. */
function matchRegexes(
  match: RouteMatch | undefined,
  base: NodePath,
): Array<{ source: string; path: NodePath }> {
  const out: Array<{ source: string; path: NodePath }> = [];
  if (!match) return out;
  for (const f of REGEX_FIELDS) {
    const v = match[f];
    if (typeof v === 'string') out.push({ source: v, path: subPath(base, f) });
  }
  if (isObject(match.headers)) {
    for (const [h, v] of Object.entries(match.headers)) {
      if (typeof v === 'string') out.push({ source: v, path: subPath(base, 'headers', h) });
    }
  }
  return out;
}

/** A route and where it is: routes are tried in file order, across routes documents. */
interface PlacedRoute {
  unit: Unit;
  index: number;
  route: Route;
}

export function checkRoutes(ctx: CheckContext): void {
  const earlier: PlacedRoute[] = [];
  const trunks = new Map<string, Unit>();
  for (const unit of ctx.routes) {
    const routes = Array.isArray(unit.data.routes) ? unit.data.routes : [];
    routes.forEach((route, i) => {
      const base: NodePath = ['routes', i];
      const captures: string[] = [];
      for (const { source, path: p } of matchRegexes(route.match, subPath(base, 'match'))) {
        const re = compileRegex(source);
        if (typeof re === 'string') ctx.report(unit, p, 'bad-regex', `invalid regular expression: ${re}`);
        else captures.push(...namedGroups(source));
      }
      const scope = {
        allowed: captures,
        place: 'a route template',
        explain: (id: string) =>
          `template uses "${id}", but the route's regexes define no capture named "${id}"${meanSuffix(
            suggest(id, captures),
          )}${captures.length === 0 ? ' (add a named group such as (?<room>\\d+))' : ''}`,
      };
      const templates: Array<[unknown, NodePath]> = [
        [route.conference, subPath(base, 'conference')],
        [route.scenario, subPath(base, 'scenario')],
      ];
      if (isObject(route.vars))
        for (const [k, v] of Object.entries(route.vars)) templates.push([v, subPath(base, 'vars', k)]);
      for (const [value, p] of templates) {
        if (typeof value === 'string') checkSource(ctx, unit, { kind: 'template', value, path: p }, scope);
      }
      checkRouteTarget(ctx, unit, route, base);
      checkShadowed(ctx, { unit, index: i, route }, earlier);
      earlier.push({ unit, index: i, route });
    });
    checkDialoutPolicy(ctx, unit);
    for (const name of Object.keys(unit.data.dialout?.trunks ?? {})) {
      const first = trunks.get(name);
      if (!first) trunks.set(name, unit);
      else {
        ctx.report(
          unit,
          ['dialout', 'trunks', name],
          'duplicate-name',
          `trunk "${name}" is already defined at ${where(first, ['dialout', 'trunks', name])}`,
          { key: true },
        );
      }
    }
  }
}

function checkRouteTarget(ctx: CheckContext, unit: Unit, route: Route, base: NodePath): void {
  if (ctx.options.partial) return;
  if (typeof route.conference === 'string') {
    const served = conferencesServing(ctx, route.conference);
    if (served.length === 0) {
      const hint = suggest(route.conference, conferenceNames(ctx));
      ctx.report(
        unit,
        subPath(base, 'conference'),
        'unknown-conference',
        `no conference document serves "${route.conference}"${meanSuffix(hint)}`,
      );
    } else if (served.every((c) => c.data.type === 'local')) {
      ctx.report(
        unit,
        subPath(base, 'conference'),
        'local-conference-route',
        `conference "${route.conference}" is local (reachable only by dial-out from its session), so a route cannot send calls to it`,
      );
    }
  }
  if (typeof route.scenario === 'string' && !scenarioExists(ctx, route.scenario)) {
    const hint = suggest(
      route.scenario,
      ctx.scenarios.map((s) => s.data.name),
    );
    ctx.report(
      unit,
      subPath(base, 'scenario'),
      'unknown-scenario',
      `no scenario named "${route.scenario}"${meanSuffix(hint)}`,
    );
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(normalizeList(a)) === JSON.stringify(normalizeList(b));
}

function normalizeList(v: unknown): unknown {
  return Array.isArray(v) ? [...v].map(String).sort() : typeof v === 'string' ? [v] : v;
}

/** Whether every condition of `earlier` also holds for every call `later` matches. */
function covers(earlier: RouteMatch | undefined, later: RouteMatch | undefined): boolean {
  if (!earlier) return true;
  const l: RouteMatch = later ?? {};
  for (const f of REGEX_FIELDS) {
    const e = earlier[f];
    if (e === undefined || isCatchAll(e)) continue;
    if (l[f] !== e) return false;
  }
  for (const [h, e] of Object.entries(earlier.headers ?? {})) {
    const lh = Object.entries(l.headers ?? {}).find(([k]) => k.toLowerCase() === h.toLowerCase())?.[1];
    if (lh === undefined) return false;
    if (!isCatchAll(e) && lh !== e) return false;
  }
  for (const f of ['source', 'transport'] as const) {
    if (earlier[f] === undefined) continue;
    if (l[f] === undefined || !sameValue(earlier[f], l[f])) return false;
  }
  return true;
}

function checkShadowed(ctx: CheckContext, later: PlacedRoute, earlier: PlacedRoute[]): void {
  for (const e of earlier) {
    if (!covers(e.route.match, later.route.match)) continue;
    const at = e.unit.doc.at(['routes', e.index]);
    const place = at.file === later.unit.doc.file ? `line ${at.line}` : `${at.file}:${at.line}`;
    const why =
      e.route.match === undefined || Object.keys(e.route.match).length === 0 ? ' (it has no match)' : '';
    ctx.report(
      later.unit,
      ['routes', later.index],
      'shadowed-route',
      `route can never be taken: the route at ${place} matches every call it would${why}`,
    );
    return;
  }
}

/** Allow regexes of every routes document (the policy is one per configuration). */
function allowPatterns(ctx: CheckContext): RegExp[] {
  const out: RegExp[] = [];
  for (const unit of ctx.routes) {
    for (const source of unit.data.dialout?.allow ?? []) {
      const re = compileRegex(source);
      if (typeof re !== 'string') out.push(re);
    }
  }
  return out;
}

function checkDialoutPolicy(ctx: CheckContext, unit: Unit): void {
  const d = unit.data.kind === 'routes' ? unit.data.dialout : undefined;
  if (!d) return;
  (d.allow ?? []).forEach((source, i) => {
    const re = compileRegex(source);
    if (typeof re === 'string')
      ctx.report(unit, ['dialout', 'allow', i], 'bad-regex', `invalid regular expression: ${re}`);
  });
  for (const [name, trunk] of Object.entries(d.trunks ?? {})) {
    for (const k of ['username', 'password', 'from'] as const) {
      const value = trunk[k];
      if (typeof value !== 'string') continue;
      checkSource(
        ctx,
        unit,
        { kind: 'template', value, path: ['dialout', 'trunks', name, k] },
        {
          allowed: ['env'],
          place: 'a trunk setting',
          explain: (id) => `trunk settings can only read "env", not "${id}"`,
        },
      );
    }
  }
}

// ───────────────────────────── tests ─────────────────────────────

export function checkTests(ctx: CheckContext): void {
  if (ctx.options.partial) return;
  for (const unit of ctx.tests) {
    const t = unit.data.target;
    if (!isObject(t)) {
      if (ctx.routes.length === 0) {
        ctx.report(
          unit,
          ['name'],
          'unknown-test-target',
          'test goes through the routes, but there is no routes document',
        );
      }
      continue;
    }
    if ('conference' in t && typeof t.conference === 'string') {
      if (conferencesServing(ctx, t.conference).length === 0) {
        const hint = suggest(t.conference, conferenceNames(ctx));
        ctx.report(
          unit,
          ['target', 'conference'],
          'unknown-test-target',
          `no conference document serves "${t.conference}"${meanSuffix(hint)}`,
        );
      }
    } else if ('scenario' in t && typeof t.scenario === 'string') {
      if (!ctx.scenarios.some((s) => s.data.name === t.scenario)) {
        const hint = suggest(
          t.scenario,
          ctx.scenarios.map((s) => s.data.name),
        );
        ctx.report(
          unit,
          ['target', 'scenario'],
          'unknown-test-target',
          `no scenario named "${t.scenario}"${meanSuffix(hint)}`,
        );
      }
    } else if ('route' in t && ctx.routes.length === 0) {
      ctx.report(
        unit,
        ['target'],
        'unknown-test-target',
        'test goes through the routes, but there is no routes document',
      );
    }
  }
}

// ───────────────────────────── flows across documents ─────────────────────────────

/**
 * Checks dials (policy, trunk, start state) and returns the states dialled legs
 * start in, per participant flow, for the reachability check.
 */
export function checkDials(ctx: CheckContext): Map<FlowModel, Set<string>> {
  const starts = new Map<FlowModel, Set<string>>();
  const allow = allowPatterns(ctx);
  const trunks = new Set<string>();
  for (const unit of ctx.routes)
    for (const name of Object.keys(unit.data.dialout?.trunks ?? {})) trunks.add(name);
  for (const { unit, flow } of ctx.flows) {
    for (const s of flow.states) {
      for (const a of s.allActions) {
        if (a.type !== 'dial' || !isObject(a.value)) continue;
        const dial = a.value;
        const to = dial.to;
        if (allow.length === 0) {
          if (!ctx.options.partial)
            ctx.report(
              unit,
              a.path,
              'dial-not-allowed',
              'dial-out is not allowed: no routes document has a "dialout.allow" list',
              { key: true },
            );
        } else if (typeof to === 'string' && !isTemplate(to) && !allow.some((re) => re.test(to))) {
          ctx.report(
            unit,
            subPath(a.path, 'to'),
            'dial-not-allowed',
            `"${to}" matches no "dialout.allow" pattern`,
          );
        }
        if (typeof dial.trunk === 'string' && !trunks.has(dial.trunk)) {
          const hint = suggest(dial.trunk, [...trunks]);
          ctx.report(
            unit,
            subPath(a.path, 'trunk'),
            'unknown-trunk',
            `no dial-out trunk named "${dial.trunk}"${meanSuffix(hint)}`,
          );
        }
        if (typeof dial.start === 'string') checkDialStart(ctx, unit, a, dial.start, dial.conference, starts);
      }
    }
  }
  return starts;
}

function checkDialStart(
  ctx: CheckContext,
  unit: Unit,
  a: FlowAction,
  start: string,
  conference: unknown,
  starts: Map<FlowModel, Set<string>>,
): void {
  let target: Unit | undefined;
  if (typeof conference === 'string') {
    if (isTemplate(conference)) return; // decided at run time
    target = conferencesServing(ctx, conference)[0];
    if (!target) return; // reported by checkConferenceReferences
  } else if (unit.data.kind === 'conference') target = unit;
  if (!target) return;
  const flow = flowsOf(target).find((f) => f.kind === 'participant');
  if (!flow) return;
  const names = flow.states.map((s) => s.name);
  if (!names.includes(start)) {
    ctx.report(
      unit,
      subPath(a.path, 'start'),
      'unknown-dial-start',
      `the participant flow of "${(target.data as ConferenceDocument).name}" has no state "${start}"${meanSuffix(
        suggest(start, names),
      )}`,
    );
    return;
  }
  let set = starts.get(flow);
  if (!set) {
    set = new Set();
    starts.set(flow, set);
  }
  set.add(start);
}

/** Literal conference names in join, dial, link and unlink must be served by a conference document. */
export function checkConferenceReferences(ctx: CheckContext): void {
  if (ctx.options.partial) return;
  for (const { unit, flow } of ctx.flows) {
    for (const s of flow.states) {
      for (const a of s.allActions) {
        let name: unknown;
        let at: NodePath = a.path;
        if (a.type === 'unlink') name = a.value;
        else if ((a.type === 'join' || a.type === 'dial' || a.type === 'link') && isObject(a.value)) {
          name = a.value.conference;
          at = subPath(a.path, 'conference');
        }
        if (typeof name !== 'string' || isTemplate(name) || conferencesServing(ctx, name).length > 0)
          continue;
        const hint = suggest(name, conferenceNames(ctx));
        ctx.report(
          unit,
          at,
          'unknown-conference',
          `no conference document serves "${name}"${meanSuffix(hint)}`,
        );
      }
    }
  }
}

/** Audio files named by play, collect prompts and join music must exist, relative to their YAML file. */
export function checkAudioFiles(ctx: CheckContext): void {
  for (const { unit, flow } of ctx.flows) {
    for (const s of flow.states) {
      for (const a of s.allActions) {
        for (const [file, p] of audioFiles(a)) {
          const full = path.resolve(path.dirname(unit.doc.file), file);
          if (!ctx.options.fileExists(full)) {
            ctx.report(
              unit,
              p,
              'missing-audio',
              `audio file "${file}" does not exist (paths are relative to the YAML file)`,
            );
          }
        }
      }
    }
  }
}

/** File paths (not URLs, not templates) an action plays. */
export function audioFiles(a: FlowAction): Array<[string, NodePath]> {
  const out: Array<[string, NodePath]> = [];
  const add = (v: unknown, p: NodePath) => {
    if (typeof v === 'string' && v !== '' && !isUrl(v)) out.push([v, p]);
  };
  const v = a.value;
  if (a.type === 'play') {
    if (typeof v === 'string') add(v, a.path);
    else if (isObject(v)) add(v.file, subPath(a.path, 'file'));
  } else if (a.type === 'collect' && isObject(v) && isObject(v.prompt)) {
    const play = v.prompt.play;
    if (typeof play === 'string') add(play, subPath(a.path, 'prompt', 'play'));
    else if (isObject(play)) add(play.file, subPath(a.path, 'prompt', 'play', 'file'));
  } else if (a.type === 'join' && isObject(v)) {
    add(v.music, subPath(a.path, 'music'));
  }
  return out;
}

/** A `notify` whose event no flow of its conference (or scenario) handles is probably a mistake. */
export function checkNotify(ctx: CheckContext): void {
  if (ctx.options.partial) return;
  const handledBy = new Map<Unit, Set<string>>();
  for (const { unit, flow } of ctx.flows) {
    let set = handledBy.get(unit);
    if (!set) {
      set = new Set();
      handledBy.set(unit, set);
    }
    for (const s of flow.states) for (const h of s.handlers) set.add(h.event);
  }
  for (const { unit, flow } of ctx.flows) {
    for (const s of flow.states) {
      for (const a of s.allActions) {
        if (a.type !== 'notify' || !isObject(a.value) || typeof a.value.event !== 'string') continue;
        const event = a.value.event;
        if (handledBy.get(unit)?.has(event)) continue;
        ctx.report(
          unit,
          subPath(a.path, 'event'),
          'unhandled-notify',
          `no flow of this document handles the event "${event}"`,
          {
            severity: 'warning',
          },
        );
      }
    }
  }
}
