/** What an expression can see at a given step: the prop picker tree and the completion tree. */
import { type FlowModule, type OpenFlow, findModule, getList, walkModules } from './openflow';

export interface RunStepLike {
  key: string;
  module_id: string;
  status: string;
  result?: unknown;
  args?: unknown;
}

export interface RunLike {
  id: string | number;
  status: string;
  args?: Record<string, unknown>;
  result?: unknown;
  steps?: RunStepLike[];
}

/** Steps whose results are visible from `id`: earlier siblings at each nesting level, outermost first. */
export function stepsBefore(flow: OpenFlow, id: string | null): FlowModule[] {
  if (!id) return [];
  const loc = findModule(flow, id);
  if (!loc) {
    // failure module / unknown: everything at the top level
    return flow.value.failure_module?.id === id ? [...(flow.value.modules ?? [])] : [];
  }
  const out: FlowModule[] = [];
  for (const e of [...loc.ancestors, id]) {
    const l = findModule(flow, e);
    if (!l) continue;
    const list = getList(flow, l.list) ?? [];
    out.push(...list.slice(0, l.index));
  }
  return out;
}

export function isInsideLoop(flow: OpenFlow, id: string): boolean {
  const loc = findModule(flow, id);
  if (!loc) return false;
  return loc.ancestors.some((a) => {
    const t = findModule(flow, a)?.module.value.type;
    return t === 'forloopflow' || t === 'whileloopflow';
  });
}

/** Last known result of each module in a run (top-level key, or the latest nested key). */
export function resultsByModule(run: RunLike | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of run?.steps ?? []) {
    if (s.status === 'success' || s.status === 'failure' || s.result !== undefined) out[s.module_id] = s.result;
  }
  return out;
}

/** Aggregate status per module id: nested keys (loop/3/b) fold into b; running beats failure beats success. */
export function statusByModule(run: RunLike | null | undefined): Record<string, string> {
  const rank: Record<string, number> = { running: 6, suspended: 5, failure: 4, canceled: 3, success: 2, skipped: 1, waiting: 0, queued: 0 };
  const out: Record<string, string> = {};
  for (const s of run?.steps ?? []) {
    const cur = out[s.module_id];
    if (cur === undefined || (rank[s.status] ?? 0) > (rank[cur] ?? 0)) out[s.module_id] = s.status;
  }
  return out;
}

/** Example value of a JSON-schema property (default, first enum, or a typed placeholder). */
export function exampleOf(p: { type?: unknown; default?: unknown; enum?: unknown[]; properties?: Record<string, { type?: unknown }> } | undefined): unknown {
  if (!p) return null;
  if (p.default !== undefined && p.default !== null) return p.default;
  if (p.enum?.length) return p.enum[0];
  const t = Array.isArray(p.type) ? p.type[0] : p.type;
  switch (t) {
    case 'string': return '';
    case 'number': case 'integer': return 0;
    case 'boolean': return false;
    case 'array': return [];
    case 'object': return Object.fromEntries(Object.entries(p.properties ?? {}).map(([k, v]) => [k, exampleOf(v)]));
    default: return null;
  }
}

export interface ExprScope {
  flow_input: Record<string, unknown>;
  results: Record<string, unknown>;
  previous_result?: unknown;
  iter?: { index: number; value: unknown };
  resume?: unknown;
  [k: string]: unknown;
}

/** The scope an expression of step `id` sees, using the last test run's values where known. */
export function scopeFor(flow: OpenFlow, id: string | null, run: RunLike | null | undefined, testArgs?: Record<string, unknown>): ExprScope {
  const props = flow.schema?.properties ?? {};
  const flow_input: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(props)) flow_input[k] = exampleOf(p);
  Object.assign(flow_input, run?.args ?? {}, testArgs ?? {});
  const known = resultsByModule(run);
  const before = stepsBefore(flow, id);
  const results: Record<string, unknown> = {};
  for (const m of before) results[m.id] = m.id in known ? known[m.id] : null;
  const prev = before.length ? before[before.length - 1] : null;
  const scope: ExprScope = { flow_input, results, previous_result: prev ? results[prev.id] : flow_input };
  if (id && isInsideLoop(flow, id)) scope.iter = { index: 0, value: null };
  if (prev?.suspend) scope.resume = {};
  return scope;
}

/** Evaluate a JavaScript input transform in the browser against a scope (for "Test this step"). */
export function evalExpr(expr: string, scope: ExprScope): unknown {
  const names = Object.keys(scope);
  const isBody = /^\s*(let|const|var|if|for|while|return|function)\b/.test(expr) || /;\s*\S/.test(expr);
  const body = isBody ? expr : `return (${expr});`;
  // eslint-disable-next-line no-new-func
  const fn = new Function(...names, body);
  const v = fn(...names.map((n) => scope[n]));
  return v === undefined ? null : v;
}

/** Truncate a big value for display: long strings and arrays are shortened. */
export function truncateValue(v: unknown, maxArray = 50, maxString = 2000, depth = 0): unknown {
  if (depth > 8) return '…';
  if (typeof v === 'string') return v.length > maxString ? v.slice(0, maxString) + `… (${v.length} chars)` : v;
  if (Array.isArray(v)) {
    const out = v.slice(0, maxArray).map((x) => truncateValue(x, maxArray, maxString, depth + 1));
    if (v.length > maxArray) out.push(`… ${v.length - maxArray} more items`);
    return out;
  }
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    const out: Record<string, unknown> = {};
    for (const [k, x] of entries.slice(0, 200)) out[k] = truncateValue(x, maxArray, maxString, depth + 1);
    if (entries.length > 200) out['…'] = `${entries.length - 200} more keys`;
    return out;
  }
  return v;
}

export function moduleIds(flow: OpenFlow): string[] {
  const out: string[] = [];
  walkModules(flow, (m) => out.push(m.id));
  return out;
}
