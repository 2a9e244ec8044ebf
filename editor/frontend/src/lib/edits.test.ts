import { describe, expect, it } from 'vitest';
import { addBranch, cloneWithFreshIds, duplicateModule, EditError, insertModule, moveModule, removeBranch, removeModule, renameModule, renameRefsInExpr, updateModule } from './edits';
import { allModuleIds, findModule, getList, type BranchOne, type ForLoop, type RawScript } from './openflow';
import { py, sampleFlow } from '../test/fixtures';

const ids = (mods: { id: string }[]) => mods.map((m) => m.id);

describe('insertModule', () => {
  it('inserts at the root without mutating the input', () => {
    const f = sampleFlow();
    const before = JSON.stringify(f);
    const g = insertModule(f, { list: { parent: null }, index: 1 }, py('z'));
    expect(ids(g.value.modules)).toEqual(['a', 'z', 'loop', 'br', 'f']);
    expect(JSON.stringify(f)).toBe(before);
    expect(g.value.modules[0]).toBe(f.value.modules[0]); // structural sharing
  });
  it('inserts into a loop body, a branch and a default branch', () => {
    let f = sampleFlow();
    f = insertModule(f, { list: { parent: 'loop', slot: 'body' }, index: 2 }, py('z'));
    f = insertModule(f, { list: { parent: 'br', slot: 1 }, index: 0 }, py('y'));
    f = insertModule(f, { list: { parent: 'br', slot: 'default' }, index: 0 }, py('x'));
    expect(ids(getList(f, { parent: 'loop', slot: 'body' })!)).toEqual(['b', 'c', 'z']);
    expect(ids(getList(f, { parent: 'br', slot: 1 })!)).toEqual(['y']);
    expect(ids((f.value.modules[2].value as BranchOne).default)).toEqual(['x', 'e']);
  });
  it('clamps out-of-range indexes', () => {
    const g = insertModule(sampleFlow(), { list: { parent: null }, index: 99 }, py('z'));
    expect(ids(g.value.modules).at(-1)).toBe('z');
  });
});

describe('removeModule', () => {
  it('removes nested modules and the failure module', () => {
    let f = removeModule(sampleFlow(), 'c');
    expect(ids((f.value.modules[1].value as ForLoop).modules)).toEqual(['b']);
    f = removeModule(f, 'failure');
    expect(f.value.failure_module).toBeUndefined();
    expect('failure_module' in f.value).toBe(false);
  });
  it('removing a container removes its body', () => {
    const f = removeModule(sampleFlow(), 'loop');
    expect(allModuleIds(f).has('b')).toBe(false);
  });
});

describe('moveModule', () => {
  it('moves down within the same list (index adjusts)', () => {
    const f = moveModule(sampleFlow(), 'a', { list: { parent: null }, index: 3 });
    expect(ids(f.value.modules)).toEqual(['loop', 'br', 'a', 'f']);
  });
  it('moves up within the same list', () => {
    const f = moveModule(sampleFlow(), 'f', { list: { parent: null }, index: 0 });
    expect(ids(f.value.modules)).toEqual(['f', 'a', 'loop', 'br']);
  });
  it('moves a step into a branch and a container into another container', () => {
    let f = moveModule(sampleFlow(), 'f', { list: { parent: 'br', slot: 0 }, index: 1 });
    expect(ids(getList(f, { parent: 'br', slot: 0 })!)).toEqual(['d', 'f']);
    f = moveModule(f, 'loop', { list: { parent: 'br', slot: 1 }, index: 0 });
    expect(ids(f.value.modules)).toEqual(['a', 'br']);
    expect(findModule(f, 'c')!.ancestors).toEqual(['br', 'loop']);
  });
  it('refuses to move a container into itself and ignores no-op moves', () => {
    const f = sampleFlow();
    expect(moveModule(f, 'loop', { list: { parent: 'loop', slot: 'body' }, index: 0 })).toBe(f);
    expect(moveModule(f, 'a', { list: { parent: null }, index: 1 })).toBe(f);
  });
});

describe('renameModule', () => {
  it('updates every reference form', () => {
    const f = renameModule(sampleFlow(), 'a', 'fetch');
    const loop = f.value.modules[1].value as ForLoop;
    expect(loop.iterator).toEqual({ type: 'javascript', expr: 'results.fetch' });
    const br = f.value.modules[2].value as BranchOne;
    expect(br.branches[0].expr).toBe('results.fetch > 1');
    expect((br.branches[0].modules[0].value as RawScript).input_transforms.x).toEqual({ type: 'javascript', expr: 'results["fetch"]' });
    expect((f.value.modules[3].value as RawScript).input_transforms.x).toEqual({ type: 'javascript', expr: '`Hello ${results.fetch.name}`' });
  });
  it('handles optional chaining and leaves look-alikes alone', () => {
    expect(renameRefsInExpr('results?.a.b + results.ab + myresults.a + results.a_', 'a', 'z')).toBe('results?.z.b + results.ab + myresults.a + results.a_');
    expect(renameRefsInExpr("results['a'] + results?.['a']", 'a', 'q')).toBe("results['q'] + results?.['q']");
  });
  it('does not touch static values', () => {
    let f = updateModule(sampleFlow(), 'f', (m) => ({ ...m, value: { ...(m.value as RawScript), input_transforms: { s: { type: 'static', value: { expr: 'results.a' } } } } }));
    f = renameModule(f, 'a', 'q');
    expect((findModule(f, 'f')!.module.value as RawScript).input_transforms.s).toEqual({ type: 'static', value: { expr: 'results.a' } });
  });
  it('rejects taken and invalid ids', () => {
    expect(() => renameModule(sampleFlow(), 'a', 'b')).toThrow(EditError);
    expect(() => renameModule(sampleFlow(), 'a', '1x')).toThrow(EditError);
  });
});

describe('duplicate / clone', () => {
  it('duplicates a container with fresh ids and rewires internal references', () => {
    const { flow, id } = duplicateModule(sampleFlow(), 'loop');
    expect(id).not.toBe('loop');
    expect(ids(flow.value.modules)[2]).toBe(id);
    const copy = flow.value.modules[2].value as ForLoop;
    const [b2, c2] = copy.modules;
    expect(b2.id).not.toBe('b');
    expect((c2.value as RawScript).input_transforms.x).toEqual({ type: 'javascript', expr: `results.${b2.id}` });
    expect(allModuleIds(flow).size).toBe(allModuleIds(sampleFlow()).size + 3);
  });
  it('keeps ids that do not clash', () => {
    expect(cloneWithFreshIds(py('zz'), new Set(['a'])).id).toBe('zz');
  });
});

describe('branches', () => {
  it('adds and removes branches', () => {
    let f = addBranch(sampleFlow(), 'br');
    expect((f.value.modules[2].value as BranchOne).branches).toHaveLength(3);
    f = removeBranch(f, 'br', 0);
    const b = (f.value.modules[2].value as BranchOne).branches;
    expect(b).toHaveLength(2);
    expect(b[0].expr).toBe('true');
  });
});
