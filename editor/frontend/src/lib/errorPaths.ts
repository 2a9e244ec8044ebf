/** Map server validation errors (JSON pointers into the OpenFlow object) onto modules and fields. */
import type { ApiErrorItem } from '../api';
import { type FlowModule, type OpenFlow, childLists } from './openflow';

export interface LocatedError {
  moduleId: string | null;
  /** pointer remainder after the module, e.g. "value/iterator" or "value/input_transforms/x"; or the flow-level path */
  field: string;
  message: string;
  path: string;
}

export function parsePointer(p: string): string[] {
  if (!p || p === '/') return [];
  return p.replace(/^#?\//, '').split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Walk a pointer through the flow, remembering the deepest module it passed through. */
export function locateError(flow: OpenFlow, e: ApiErrorItem): LocatedError {
  const segs = parsePointer(e.path);
  let cur: unknown = flow;
  let moduleId: string | null = null;
  let fieldStart = 0;
  for (let i = 0; i < segs.length; i++) {
    if (cur === null || typeof cur !== 'object') break;
    cur = (cur as Record<string, unknown>)[segs[i]];
    if (cur && typeof cur === 'object' && !Array.isArray(cur) && typeof (cur as FlowModule).id === 'string' && (cur as FlowModule).value && typeof (cur as FlowModule).value === 'object') {
      moduleId = (cur as FlowModule).id;
      fieldStart = i + 1;
    }
  }
  return { moduleId, field: moduleId ? segs.slice(fieldStart).join('/') : segs.join('/'), message: e.message, path: e.path };
}

export function errorsByModule(flow: OpenFlow, errs: ApiErrorItem[]): { byModule: Record<string, LocatedError[]>; flowLevel: LocatedError[] } {
  const byModule: Record<string, LocatedError[]> = {};
  const flowLevel: LocatedError[] = [];
  for (const e of errs) {
    const l = locateError(flow, e);
    if (l.moduleId) (byModule[l.moduleId] ??= []).push(l);
    else flowLevel.push(l);
  }
  return { byModule, flowLevel };
}

/** JSON pointer of a module inside the flow (inverse of locateError), or null. */
export function pointerOf(flow: OpenFlow, id: string): string | null {
  const rec = (mods: FlowModule[], base: string): string | null => {
    for (let i = 0; i < mods.length; i++) {
      const m = mods[i];
      const here = `${base}/${i}`;
      if (m.id === id) return here;
      const v = m.value as { type: string };
      for (const [l, ms] of childLists(m)) {
        let sub: string;
        if (l.parent === null) continue;
        if (l.slot === 'body') sub = `${here}/value/modules`;
        else if (l.slot === 'default') sub = `${here}/value/default`;
        else sub = `${here}/value/branches/${l.slot}/modules`;
        void v;
        const r = rec(ms, sub);
        if (r) return r;
      }
    }
    return null;
  };
  if (flow.value.failure_module?.id === id) return '/value/failure_module';
  return rec(flow.value.modules ?? [], '/value/modules');
}
