/** OpenFlow types (the subset of Windmill's format the editor edits) and tree helpers. */

export type InputTransform =
  | { type: 'static'; value?: unknown }
  | { type: 'javascript'; expr: string }
  | { type: 'ai' };

export interface JSONSchemaProp {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  format?: string;
  items?: JSONSchemaProp;
  properties?: Record<string, JSONSchemaProp>;
  required?: string[];
  title?: string;
  [k: string]: unknown;
}

export interface JSONSchema extends JSONSchemaProp {
  $schema?: string;
  type?: string;
  properties?: Record<string, JSONSchemaProp>;
  required?: string[];
  order?: string[];
}

export interface RawScript {
  type: 'rawscript';
  content: string;
  language: string;
  input_transforms: Record<string, InputTransform>;
  [k: string]: unknown;
}
export interface PathScript {
  type: 'script';
  path: string;
  hash?: string;
  input_transforms: Record<string, InputTransform>;
  [k: string]: unknown;
}
export interface PathFlow {
  type: 'flow';
  path: string;
  input_transforms: Record<string, InputTransform>;
  [k: string]: unknown;
}
export interface ForLoop {
  type: 'forloopflow';
  iterator: InputTransform;
  modules: FlowModule[];
  skip_failures: boolean;
  parallel?: boolean;
  parallelism?: InputTransform | number;
  [k: string]: unknown;
}
export interface WhileLoop {
  type: 'whileloopflow';
  modules: FlowModule[];
  skip_failures: boolean;
  [k: string]: unknown;
}
export interface BranchOneBranch {
  summary?: string;
  expr: string;
  modules: FlowModule[];
  [k: string]: unknown;
}
export interface BranchOne {
  type: 'branchone';
  branches: BranchOneBranch[];
  default: FlowModule[];
  [k: string]: unknown;
}
export interface BranchAllBranch {
  summary?: string;
  skip_failure?: boolean;
  modules: FlowModule[];
  [k: string]: unknown;
}
export interface BranchAll {
  type: 'branchall';
  branches: BranchAllBranch[];
  parallel?: boolean;
  [k: string]: unknown;
}
export interface Identity {
  type: 'identity';
  [k: string]: unknown;
}
export interface OtherValue {
  type: string;
  [k: string]: unknown;
}

export type FlowModuleValue = RawScript | PathScript | PathFlow | ForLoop | WhileLoop | BranchOne | BranchAll | Identity;

export interface StopAfterIf {
  expr: string;
  skip_if_stopped?: boolean;
  error_message?: string;
  [k: string]: unknown;
}

export interface Suspend {
  required_events?: number;
  timeout?: number;
  resume_form?: { schema?: JSONSchema; [k: string]: unknown };
  user_auth_required?: boolean;
  user_groups_required?: InputTransform;
  self_approval_disabled?: boolean;
  hide_cancel?: boolean;
  continue_on_disapprove_timeout?: boolean;
  [k: string]: unknown;
}

export interface Retry {
  constant?: { attempts?: number; seconds?: number };
  exponential?: { attempts?: number; multiplier?: number; seconds?: number; random_factor?: number };
  retry_if?: { expr: string };
  [k: string]: unknown;
}

export interface FlowModule {
  id: string;
  summary?: string;
  value: FlowModuleValue;
  stop_after_if?: StopAfterIf;
  stop_after_all_iters_if?: StopAfterIf;
  skip_if?: { expr: string };
  sleep?: InputTransform;
  suspend?: Suspend;
  retry?: Retry;
  continue_on_error?: boolean;
  timeout?: InputTransform | number;
  cache_ttl?: number;
  mock?: { enabled?: boolean; return_value?: unknown };
  [k: string]: unknown;
}

export interface FlowValue {
  modules: FlowModule[];
  failure_module?: FlowModule;
  preprocessor_module?: FlowModule;
  same_worker?: boolean;
  skip_expr?: string;
  early_return?: string;
  [k: string]: unknown;
}

export interface OpenFlow {
  summary: string;
  description?: string;
  value: FlowValue;
  schema?: JSONSchema;
  path?: string;
  [k: string]: unknown;
}

/** Where a module list lives: the root sequence, or a slot of a container (identified by its unique id). */
export type ListRef =
  | { parent: null }
  | { parent: string; slot: 'body' }
  | { parent: string; slot: 'default' }
  | { parent: string; slot: number };

/** An insertion point: before index `index` of the list `list`. */
export interface InsertPoint {
  list: ListRef;
  index: number;
}

export const ROOT: ListRef = { parent: null };

export function listKey(l: ListRef): string {
  return l.parent === null ? 'root' : `${l.parent}:${l.slot}`;
}

export function pointKey(p: InsertPoint): string {
  return `${listKey(p.list)}@${p.index}`;
}

export function isContainer(v: FlowModuleValue | OtherValue): v is ForLoop | WhileLoop | BranchOne | BranchAll {
  return v.type === 'forloopflow' || v.type === 'whileloopflow' || v.type === 'branchone' || v.type === 'branchall';
}

/** The child lists of a container as [slot, modules] pairs, in display order. */
export function childLists(m: FlowModule): Array<[ListRef, FlowModule[]]> {
  const v = m.value;
  switch (v.type) {
    case 'forloopflow':
    case 'whileloopflow':
      return [[{ parent: m.id, slot: 'body' }, (v as ForLoop).modules ?? []]];
    case 'branchone': {
      const b = v as BranchOne;
      const out: Array<[ListRef, FlowModule[]]> = (b.branches ?? []).map((br, i) => [{ parent: m.id, slot: i }, br.modules ?? []]);
      out.unshift([{ parent: m.id, slot: 'default' }, b.default ?? []]);
      return out;
    }
    case 'branchall':
      return ((v as BranchAll).branches ?? []).map((br, i) => [{ parent: m.id, slot: i }, br.modules ?? []]);
    default:
      return [];
  }
}

/** Visit every module (depth first, pre-order), including the failure module. */
export function walkModules(flow: OpenFlow, fn: (m: FlowModule, list: ListRef, index: number, depth: number) => void): void {
  const visit = (mods: FlowModule[], list: ListRef, depth: number) => {
    mods.forEach((m, i) => {
      fn(m, list, i, depth);
      for (const [l, ms] of childLists(m)) visit(ms, l, depth + 1);
    });
  };
  visit(flow.value?.modules ?? [], ROOT, 0);
  const fm = flow.value?.failure_module;
  if (fm) fn(fm, { parent: '__failure__', slot: 'body' }, 0, 0);
  const pm = flow.value?.preprocessor_module;
  if (pm) fn(pm, { parent: '__preprocessor__', slot: 'body' }, 0, 0);
}

export function allModuleIds(flow: OpenFlow): Set<string> {
  const ids = new Set<string>();
  walkModules(flow, (m) => ids.add(m.id));
  return ids;
}

export interface ModuleLocation {
  module: FlowModule;
  list: ListRef;
  index: number;
  /** ids of enclosing containers, outermost first */
  ancestors: string[];
}

export function findModule(flow: OpenFlow, id: string): ModuleLocation | null {
  let found: ModuleLocation | null = null;
  const visit = (mods: FlowModule[], list: ListRef, anc: string[]): boolean => {
    for (let i = 0; i < mods.length; i++) {
      const m = mods[i];
      if (m.id === id) {
        found = { module: m, list, index: i, ancestors: anc };
        return true;
      }
      for (const [l, ms] of childLists(m)) if (visit(ms, l, [...anc, m.id])) return true;
    }
    return false;
  };
  visit(flow.value?.modules ?? [], ROOT, []);
  if (!found && flow.value?.failure_module?.id === id) {
    found = { module: flow.value.failure_module, list: { parent: '__failure__', slot: 'body' }, index: 0, ancestors: [] };
  }
  return found;
}

/** The module list a ListRef points to (or null if it no longer exists). */
export function getList(flow: OpenFlow, list: ListRef): FlowModule[] | null {
  if (list.parent === null) return flow.value?.modules ?? [];
  const loc = findModule(flow, list.parent);
  if (!loc) return null;
  const v = loc.module.value;
  if ((v.type === 'forloopflow' || v.type === 'whileloopflow') && list.slot === 'body') return (v as ForLoop).modules ?? [];
  if (v.type === 'branchone' && list.slot === 'default') return (v as BranchOne).default ?? [];
  if ((v.type === 'branchone' || v.type === 'branchall') && typeof list.slot === 'number') {
    return (v as BranchAll).branches?.[list.slot]?.modules ?? null;
  }
  return null;
}

export function emptyFlow(summary = ''): OpenFlow {
  return {
    summary,
    description: '',
    value: { modules: [] },
    schema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: {}, required: [] },
  };
}
