import { readdirSync, readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { actionNames, buildSchema, DRAFT_07_ID, KINDS, SCHEMA_ID, toDraft07 } from '../../../schema/build.js';
import { DURATION_PATTERN } from '../../../src/compiler/duration.js';
import { loadFile, loadText } from '../../../src/compiler/load.js';
import { VALID_SAMPLES } from './schema-samples.js';

type Node = { [k: string]: unknown };

const schemaFile = new URL('../../../schema/parley.schema.json', import.meta.url);
const committed = JSON.parse(readFileSync(schemaFile, 'utf8')) as Node;
const defs = committed.$defs as Record<string, Node>;
const astText = readFileSync(new URL('../../../src/compiler/ast.ts', import.meta.url), 'utf8');

/** Property names of an interface in ast.ts, with whether each is optional. */
function interfaceProps(name: string): Map<string, boolean> {
  const start = astText.indexOf(`export interface ${name} `);
  expect(start, `interface ${name} in ast.ts`).toBeGreaterThanOrEqual(0);
  const end = astText.indexOf('\n}\n', start);
  const props = new Map<string, boolean>();
  for (const line of astText.slice(start, end).split('\n')) {
    const m = /^ {2}(\w+)(\?)?:/.exec(line);
    if (m) props.set(m[1]!, m[2] === '?');
  }
  return props;
}

/**
 * Every subschema that describes data, with its JSON pointer: not the `if` tests of the
 * kind dispatch, nor the `dependentSchemas` that only forbid keys.
 */
function* walk(node: unknown, pointer = ''): Generator<[string, Node]> {
  if (typeof node !== 'object' || node === null) return;
  if (/\/(if|dependentSchemas|inline-[a-z]+)$/.test(pointer)) return;
  if (Array.isArray(node)) {
    for (const [i, v] of node.entries()) yield* walk(v, `${pointer}/${i}`);
    return;
  }
  yield [pointer, node as Node];
  for (const [k, v] of Object.entries(node)) {
    if (k === 'examples' || k === 'default' || k === 'const' || k === 'enum') continue;
    yield* walk(v, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`);
  }
}

describe('schema/parley.schema.json', () => {
  it('is what schema/build.ts generates (run `npm run schema:build` after editing it)', () => {
    expect(committed).toEqual(buildSchema());
  });

  it('is a valid JSON Schema 2020-12 document with an $id', () => {
    expect(committed.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(committed.$id).toBe(SCHEMA_ID);
    const ajv = new Ajv2020({ strict: false });
    expect(ajv.validateSchema(committed), JSON.stringify(ajv.errors)).toBe(true);
  });

  it('dispatches on every kind', () => {
    expect((committed.properties as Node).kind).toMatchObject({ enum: [...KINDS] });
    const branches = (committed.allOf as Node[]).map((b) => ((b.if as Node).properties as Node).kind);
    expect(branches).toEqual(KINDS.map((k) => ({ const: k })));
  });

  it('describes every property with a description and examples', () => {
    const missing: string[] = [];
    for (const [pointer, node] of walk(committed)) {
      if (typeof node.properties !== 'object' || node.properties === null) continue;
      for (const [key, prop] of Object.entries(node.properties as Record<string, Node | boolean>)) {
        if (typeof prop === 'boolean') continue;
        // Properties that only point at an action definition inherit its words.
        const target =
          typeof prop.$ref === 'string' && !prop.description ? defs[prop.$ref.split('/').pop()!] : prop;
        if (!target?.description || !Array.isArray(target.examples) || target.examples.length === 0) {
          missing.push(`${pointer}/properties/${key}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('closes every object to unknown keys', () => {
    const open: string[] = [];
    for (const [pointer, node] of walk(committed)) {
      // The root only dispatches on `kind`; each kind's definition is closed.
      if (node.properties && node.additionalProperties !== false && pointer !== '') open.push(pointer);
      if (node.type === 'object' && !node.properties && node.additionalProperties === undefined) {
        // Free-form by design: scenario variables passed by tests, and `respond.body`.
        if (!/TestTarget\/properties\/vars$/.test(pointer)) open.push(pointer);
      }
    }
    expect(open).toEqual([]);
  });

  it('has examples that satisfy their own schema', () => {
    const ajv = new Ajv2020({ strict: false, allowUnionTypes: true });
    ajv.addFormat('regex', (s: string) => {
      try {
        new RegExp(s);
        return true;
      } catch {
        return false;
      }
    });
    ajv.addSchema(committed);
    const bad: string[] = [];
    for (const [pointer, node] of walk(committed)) {
      if (!Array.isArray(node.examples) || pointer === '') continue;
      const validate = ajv.compile({ $ref: `${SCHEMA_ID}#${pointer}` });
      for (const ex of node.examples) {
        if (!validate(ex))
          bad.push(`${pointer}: ${JSON.stringify(ex)} ${JSON.stringify(validate.errors?.[0])}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('uses the same duration pattern as the compiler', () => {
    expect(defs.Duration!.pattern).toBe(DURATION_PATTERN);
  });
});

describe('the schema mirrors src/compiler/ast.ts', () => {
  const inline = interfaceProps('InlineAction');

  it('has exactly the actions of InlineAction, in every place actions go', () => {
    expect(actionNames()).toEqual([...inline.keys()]);
    for (const where of ['Action', 'State', 'Branch', 'Handler']) {
      const props = Object.keys(defs[where]!.properties as Node);
      for (const a of inline.keys()) expect(props, `${where} has ${a}`).toContain(a);
    }
  });

  it('lets each action exclude every other one inline', () => {
    for (const where of ['State', 'Branch', 'Handler']) {
      const dep = defs[where]!.dependentSchemas as Record<string, { $ref: string }>;
      for (const a of inline.keys()) {
        const others = [...inline.keys()].filter((o) => o !== a);
        const rule = defs[dep[a]!.$ref.split('/').pop()!] as { properties: Node };
        expect(Object.keys(rule.properties).sort()).toEqual(others.sort());
      }
    }
  });

  it.each([
    ['RoutesDocument'],
    ['DialoutPolicy'],
    ['Trunk'],
    ['Route'],
    ['RouteMatch'],
    ['ConferenceDocument'],
    ['AudioSettings'],
    ['Limits'],
    ['RecordSettings'],
    ['ScenarioDocument'],
    ['ScenarioVar'],
    ['Flow'],
    ['SayOptions'],
    ['PlayOptions'],
    ['CollectOptions'],
    ['JoinOptions'],
    ['RecordOptions'],
    ['DialOptions'],
    ['LinkOptions'],
    ['SendOptions'],
    ['RespondOptions'],
    ['NotifyOptions'],
    ['TestDocument'],
  ])('%s has the same properties and required ones', (name) => {
    const ast = interfaceProps(name);
    const def = defs[name]!;
    expect(Object.keys(def.properties as Node).sort()).toEqual([...ast.keys()].sort());
    const required = [...ast].filter(([, optional]) => !optional).map(([k]) => k);
    expect(((def.required as string[] | undefined) ?? []).slice().sort()).toEqual(required.sort());
  });

  it('State and Branch hold their own keys plus every action', () => {
    const state = [...interfaceProps('State').keys(), ...inline.keys()].sort();
    expect(Object.keys(defs.State!.properties as Node).sort()).toEqual(state);
    const branch = [...interfaceProps('Branch').keys(), ...inline.keys()].sort();
    expect(Object.keys(defs.Branch!.properties as Node).sort()).toEqual(branch);
  });
});

describe('schema/parley.draft-07.schema.json (for editors that stop at draft-07)', () => {
  const draft07 = JSON.parse(
    readFileSync(new URL('../../../schema/parley.draft-07.schema.json', import.meta.url), 'utf8'),
  ) as Node;
  const isRegex = (s: string): boolean => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  };

  it('is the generated draft-07 form of the schema', () => {
    expect(draft07).toEqual(toDraft07(buildSchema()));
    expect(draft07.$id).toBe(DRAFT_07_ID);
    expect(JSON.stringify(draft07)).not.toMatch(/\$defs|dependentSchemas|dependentRequired/);
  });

  it('is a valid draft-07 schema', () => {
    const ajv = new Ajv({ strict: false });
    expect(ajv.validateSchema(draft07), JSON.stringify(ajv.errors)).toBe(true);
  });

  it('accepts and refuses the same documents as the 2020-12 schema', () => {
    const v07 = new Ajv({ strict: false, allowUnionTypes: true })
      .addFormat('regex', isRegex)
      .compile(draft07);
    const v2020 = new Ajv2020({ strict: false, allowUnionTypes: true })
      .addFormat('regex', isRegex)
      .compile(committed);
    const docs = [
      ...Object.values(VALID_SAMPLES).flatMap((t) => loadText('s.yaml', t).documents),
      ...readdirSync('test/fixtures/invalid')
        .filter((f) => f.endsWith('.yaml'))
        .flatMap((f) => loadFile(`test/fixtures/invalid/${f}`).documents),
    ];
    expect(docs.length).toBeGreaterThan(50);
    let refused = 0;
    for (const doc of docs) {
      const ok = v2020(doc.data);
      if (!ok) refused++;
      expect(v07(doc.data), `${doc.file} #${doc.index}`).toBe(ok);
    }
    expect(refused).toBeGreaterThan(20);
  });
});
