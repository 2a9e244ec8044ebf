import { describe, expect, it } from 'vitest';
import { idFromNumber, nextId } from './ids';
import { buildPath, insertIntoExpr, resultPath } from './exprPath';
import { createHistory, push, redo, undo } from './history';
import { parseBash, parsePython, parseTypeScript } from './signature';
import { errorsByModule, locateError, pointerOf } from './errorPaths';
import { makeModule, KINDS, visualKind } from './kinds';
import { sampleFlow } from '../test/fixtures';
import { countLabel } from './text';

describe('ids', () => {
  it('follows a..z, aa..', () => {
    expect([0, 1, 25, 26, 27, 51, 52, 701, 702].map(idFromNumber)).toEqual(['a', 'b', 'z', 'aa', 'ab', 'az', 'ba', 'zz', 'aaa']);
  });
  it('skips taken ids', () => {
    expect(nextId(new Set(['a', 'b', 'd']))).toBe('c');
    expect(nextId([])).toBe('a');
  });
});

describe('expression paths', () => {
  it('uses dots, indexes and quoted keys', () => {
    expect(resultPath('c', ['items', 0, 'email'])).toBe('results.c.items[0].email');
    expect(buildPath('flow_input', ['odd key'])).toBe('flow_input["odd key"]');
    expect(buildPath('flow_input', ['default', 'a-b', '$ok'])).toBe('flow_input["default"]["a-b"].$ok');
    expect(resultPath('my-step')).toBe('results["my-step"]');
  });
  it('inserts into expressions and template strings', () => {
    expect(insertIntoExpr('', 0, 0, 'flow_input.x')).toEqual({ expr: 'flow_input.x', cursor: 12 });
    expect(insertIntoExpr('`Hello `', 7, 7, 'flow_input.name').expr).toBe('`Hello ${flow_input.name}`');
    expect(insertIntoExpr('a + b', 4, 5, 'results.a').expr).toBe('a + results.a');
  });
});

describe('history', () => {
  it('undoes and redoes', () => {
    let h = createHistory(1);
    h = push(h, 2);
    h = push(h, 3);
    h = undo(h);
    expect(h.present).toBe(2);
    h = undo(undo(h));
    expect(h.present).toBe(1);
    h = redo(h);
    expect(h.present).toBe(2);
    h = push(h, 9);
    expect(h.future).toEqual([]);
    expect(redo(h)).toBe(h);
  });
  it('coalesces rapid edits with the same key', () => {
    let h = createHistory('');
    h = push(h, 'a', { key: 'summary', now: 0 });
    h = push(h, 'ab', { key: 'summary', now: 300 });
    h = push(h, 'abc', { key: 'summary', now: 600 });
    expect(h.past).toEqual(['']);
    h = push(h, 'abcd', { key: 'summary', now: 5000 });
    expect(h.past).toEqual(['', 'abc']);
  });
});

describe('signature parsing', () => {
  it('parses python', () => {
    const s = parsePython('import x\n\ndef main(a: str, b: int = 3, c: Optional[dict] = None, d = [1, "x,y"], *args, e: List[str] = ["q"]):\n  pass')!;
    expect(s.map((x) => [x.name, x.type, x.required])).toEqual([
      ['a', 'string', true], ['b', 'integer', false], ['c', 'object', false], ['d', 'array', false], ['e', 'array', false],
    ]);
    expect(s[3].default).toEqual([1, 'x,y']);
    expect(parsePython('def other(): pass')).toBeNull();
  });
  it('parses typescript', () => {
    const s = parseTypeScript('export async function main(name: string, n = 2, tags: string[] = [], opts?: { a: number }, f: boolean = true) {}')!;
    expect(s.map((x) => [x.name, x.type, x.required, x.default])).toEqual([
      ['name', 'string', true, undefined], ['n', 'integer', false, 2], ['tags', 'array', false, []], ['opts', 'object', false, undefined], ['f', 'boolean', false, true],
    ]);
  });
  it('parses bash positional args', () => {
    const s = parseBash('#!/bin/bash\nmsg="$1"\ncount="${2:-5}"\necho $msg');
    expect(s.map((x) => [x.name, x.default, x.required])).toEqual([['msg', undefined, true], ['count', '5', false]]);
  });
});

describe('error paths', () => {
  it('maps pointers to modules and fields', () => {
    const f = sampleFlow();
    expect(locateError(f, { path: '/value/modules/1/value/iterator', message: 'bad' })).toMatchObject({ moduleId: 'loop', field: 'value/iterator' });
    expect(locateError(f, { path: '/value/modules/1/value/modules/1/value/input_transforms/x', message: 'm' })).toMatchObject({ moduleId: 'c', field: 'value/input_transforms/x' });
    expect(locateError(f, { path: '/value/modules/2/value/default/0/id', message: 'm' }).moduleId).toBe('e');
    const { byModule, flowLevel } = errorsByModule(f, [{ path: '/summary', message: 'x' }, { path: '/value/failure_module/value', message: 'y' }]);
    expect(flowLevel[0].field).toBe('summary');
    expect(Object.keys(byModule)).toEqual(['failure']);
  });
  it('computes a module pointer', () => {
    expect(pointerOf(sampleFlow(), 'd')).toBe('/value/modules/2/value/branches/0/modules/0');
    expect(pointerOf(sampleFlow(), 'c')).toBe('/value/modules/1/value/modules/1');
  });
});

describe('kinds', () => {
  it('every palette kind makes a module that classifies back', () => {
    for (const k of KINDS) expect(visualKind(makeModule(k.id, 'a'))).toBe(k.id);
  });
  it('scripts get inputs from their signature', () => {
    const m = makeModule('python', 'a');
    expect(m.value).toMatchObject({ input_transforms: { name: { type: 'static', value: 'world' } } });
  });
});

import { compact, diffLines } from './diff';
describe('diff', () => {
  it('finds inserted and removed lines', () => {
    const d = diffLines('a\nb\nc\nd', 'a\nc\nd\ne');
    expect(d.map((l) => l.op + l.text)).toEqual([' a', '-b', ' c', ' d', '+e']);
    expect(compact(diffLines('1\n2\n3\n4\n5\n6\n7\n8\n9', '1\n2\n3\n4\n5\n6\n7\n8\nX'), 1)[0]).toBeNull();
  });
});

describe('countLabel', () => {
  it('uses the singular for exactly one', () => {
    expect([0, 1, 2].map((n) => countLabel(n, 'step'))).toEqual(['0 steps', '1 step', '2 steps']);
  });
});
