/** Edit operations: pure, immutable updates of an OpenFlow value (structural sharing). */
import {
  type BranchAll,
  type BranchOne,
  type FlowModule,
  type ForLoop,
  type InsertPoint,
  type ListRef,
  type OpenFlow,
  allModuleIds,
  childLists,
  findModule,
  walkModules,
} from './openflow';
import { nextId } from './ids';

export const ID_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function setSlot(m: FlowModule, list: ListRef, mods: FlowModule[]): FlowModule {
  if (list.parent === null) return m;
  const v = m.value;
  if ((v.type === 'forloopflow' || v.type === 'whileloopflow') && list.slot === 'body') {
    return { ...m, value: { ...(v as ForLoop), modules: mods } };
  }
  if (v.type === 'branchone' && list.slot === 'default') return { ...m, value: { ...(v as BranchOne), default: mods } };
  if ((v.type === 'branchone' || v.type === 'branchall') && typeof list.slot === 'number') {
    const b = v as BranchAll;
    const branches = b.branches.slice();
    branches[list.slot] = { ...branches[list.slot], modules: mods };
    return { ...m, value: { ...b, branches } } as FlowModule;
  }
  return m;
}

/** Replace module `id` by fn(module); returns a new array or null when `id` is not in this subtree. */
function mapTree(mods: FlowModule[], id: string, fn: (m: FlowModule) => FlowModule): FlowModule[] | null {
  for (let i = 0; i < mods.length; i++) {
    const m = mods[i];
    let next: FlowModule | null = null;
    if (m.id === id) next = fn(m);
    else {
      for (const [l, ms] of childLists(m)) {
        const r = mapTree(ms, id, fn);
        if (r) {
          next = setSlot(m, l, r);
          break;
        }
      }
    }
    if (next) {
      const out = mods.slice();
      out[i] = next;
      return out;
    }
  }
  return null;
}

/** Apply fn to the module with this id (anywhere, including the failure module). */
export function updateModule(flow: OpenFlow, id: string, fn: (m: FlowModule) => FlowModule): OpenFlow {
  const fm = flow.value.failure_module;
  if (fm && fm.id === id) return { ...flow, value: { ...flow.value, failure_module: fn(fm) } };
  const r = mapTree(flow.value.modules ?? [], id, fn);
  return r ? { ...flow, value: { ...flow.value, modules: r } } : flow;
}

/** Apply fn to a module list. */
export function updateList(flow: OpenFlow, list: ListRef, fn: (mods: FlowModule[]) => FlowModule[]): OpenFlow {
  if (list.parent === null) return { ...flow, value: { ...flow.value, modules: fn(flow.value.modules ?? []) } };
  return updateModule(flow, list.parent, (m) => {
    const found = childLists(m).find(([l]) => l.parent !== null && l.slot === (list as { slot: unknown }).slot);
    return found ? setSlot(m, list, fn(found[1])) : m;
  });
}

export function insertModule(flow: OpenFlow, point: InsertPoint, module: FlowModule): OpenFlow {
  return updateList(flow, point.list, (mods) => {
    const i = Math.max(0, Math.min(point.index, mods.length));
    return [...mods.slice(0, i), module, ...mods.slice(i)];
  });
}

export function removeModule(flow: OpenFlow, id: string): OpenFlow {
  if (flow.value.failure_module?.id === id) {
    const { failure_module: _drop, ...rest } = flow.value;
    void _drop;
    return { ...flow, value: rest };
  }
  const loc = findModule(flow, id);
  if (!loc) return flow;
  return updateList(flow, loc.list, (mods) => mods.filter((m) => m.id !== id));
}

/** Is `list` inside the module `id` (so moving `id` there would create a cycle)? */
export function isListInside(flow: OpenFlow, list: ListRef, id: string): boolean {
  if (list.parent === null) return false;
  if (list.parent === id) return true;
  const loc = findModule(flow, list.parent);
  return !!loc && loc.ancestors.includes(id);
}

/** Would moving `id` to `point` change nothing? */
export function isNoopMove(flow: OpenFlow, id: string, point: InsertPoint): boolean {
  const loc = findModule(flow, id);
  if (!loc) return true;
  const same = sameList(loc.list, point.list);
  return same && (point.index === loc.index || point.index === loc.index + 1);
}

export function sameList(a: ListRef, b: ListRef): boolean {
  if (a.parent === null || b.parent === null) return a.parent === b.parent;
  return a.parent === b.parent && a.slot === b.slot;
}

export function moveModule(flow: OpenFlow, id: string, point: InsertPoint): OpenFlow {
  const loc = findModule(flow, id);
  if (!loc || loc.list.parent === '__failure__') return flow;
  if (isListInside(flow, point.list, id) || isNoopMove(flow, id, point)) return flow;
  let index = point.index;
  if (sameList(loc.list, point.list) && index > loc.index) index -= 1;
  const without = removeModule(flow, id);
  return insertModule(without, { list: point.list, index }, loc.module);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Rewrite results.<old> / results?.<old> / results["old"] references in one JS expression. */
export function renameRefsInExpr(expr: string, oldId: string, newId: string): string {
  const o = escapeRe(oldId);
  const dot = new RegExp(`(?<![\\w$.])(results\\s*(?:\\?\\.|\\.)\\s*)${o}(?![\\w$])`, 'g');
  const br = new RegExp(`(?<![\\w$.])(results\\s*(?:\\?\\.)?\\[\\s*)(['"\`])${o}\\2(\\s*\\])`, 'g');
  return expr.replace(dot, `$1${newId}`).replace(br, `$1$2${newId}$2$3`);
}

/** Deep-map every JavaScript expression string ("expr" fields) in a JSON value; static values are left alone. */
export function mapExprs<T>(value: T, fn: (expr: string) => string): T {
  const rec = (v: unknown): unknown => {
    if (Array.isArray(v)) {
      let changed = false;
      const out = v.map((x) => {
        const y = rec(x);
        if (y !== x) changed = true;
        return y;
      });
      return changed ? out : v;
    }
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.type === 'static') return v;
      let out: Record<string, unknown> | null = null;
      for (const [k, x] of Object.entries(o)) {
        if (k === 'content' || k === 'return_value' || k === 'schema' || k === 'resume_form') continue;
        const y = k === 'expr' && typeof x === 'string' ? fn(x) : rec(x);
        if (y !== x) {
          out = out ?? { ...o };
          out[k] = y;
        }
      }
      return out ?? v;
    }
    return v;
  };
  return rec(value) as T;
}

export class EditError extends Error {}

/** Rename a module and update every reference to it. Throws EditError on an invalid or taken id. */
export function renameModule(flow: OpenFlow, oldId: string, newId: string): OpenFlow {
  if (oldId === newId) return flow;
  if (!ID_RE.test(newId)) throw new EditError('Ids must start with a letter or _ and contain only letters, digits and _');
  if (allModuleIds(flow).has(newId)) throw new EditError(`Id "${newId}" is already used`);
  if (!findModule(flow, oldId)) throw new EditError(`No step "${oldId}"`);
  let next = updateModule(flow, oldId, (m) => ({ ...m, id: newId }));
  next = { ...next, value: mapExprs(next.value, (e) => renameRefsInExpr(e, oldId, newId)) };
  if (next.value.early_return === oldId) next = { ...next, value: { ...next.value, early_return: newId } };
  return next;
}

/** Deep copy of a module with fresh ids for it and every nested module; internal references follow. */
export function cloneWithFreshIds(module: FlowModule, taken: Set<string>): FlowModule {
  const used = new Set(taken);
  const mapping: Array<[string, string]> = [];
  const rec = (m: FlowModule): FlowModule => {
    const id = used.has(m.id) ? nextId(used) : m.id;
    used.add(id);
    if (id !== m.id) mapping.push([m.id, id]);
    let copy: FlowModule = { ...structuredClone(m), id };
    for (const [l, ms] of childLists(m)) copy = setSlot(copy, l, ms.map(rec));
    return copy;
  };
  let out = rec(module);
  for (const [o, n] of mapping) out = mapExprs(out, (e) => renameRefsInExpr(e, o, n));
  return out;
}

export function duplicateModule(flow: OpenFlow, id: string): { flow: OpenFlow; id: string | null } {
  const loc = findModule(flow, id);
  if (!loc || loc.list.parent === '__failure__') return { flow, id: null };
  const copy = cloneWithFreshIds(loc.module, allModuleIds(flow));
  return { flow: insertModule(flow, { list: loc.list, index: loc.index + 1 }, copy), id: copy.id };
}

/** Paste a (copied) module at a point, renaming ids that clash. */
export function pasteModule(flow: OpenFlow, point: InsertPoint, module: FlowModule): { flow: OpenFlow; id: string } {
  const copy = cloneWithFreshIds(module, allModuleIds(flow));
  return { flow: insertModule(flow, point, copy), id: copy.id };
}

export function addBranch(flow: OpenFlow, id: string): OpenFlow {
  return updateModule(flow, id, (m) => {
    if (m.value.type === 'branchone') {
      const v = m.value as BranchOne;
      return { ...m, value: { ...v, branches: [...v.branches, { summary: '', expr: 'false', modules: [] }] } };
    }
    if (m.value.type === 'branchall') {
      const v = m.value as BranchAll;
      return { ...m, value: { ...v, branches: [...v.branches, { summary: '', skip_failure: false, modules: [] }] } };
    }
    return m;
  });
}

export function removeBranch(flow: OpenFlow, id: string, index: number): OpenFlow {
  return updateModule(flow, id, (m) => {
    if (m.value.type !== 'branchone' && m.value.type !== 'branchall') return m;
    const v = m.value as BranchAll;
    return { ...m, value: { ...v, branches: v.branches.filter((_, i) => i !== index) } } as FlowModule;
  });
}

export function setFailureModule(flow: OpenFlow, module: FlowModule | undefined): OpenFlow {
  if (!module) return removeModule(flow, flow.value.failure_module?.id ?? '');
  return { ...flow, value: { ...flow.value, failure_module: module } };
}

/** Count modules (for stats / perf tests). */
export function countModules(flow: OpenFlow): number {
  let n = 0;
  walkModules(flow, () => n++);
  return n;
}
