/**
 * Step keys <-> graph nodes. Graph nodes are module ids (unique in a flow); steps are keyed by their
 * path through containers: `a`, `loop/3/b` (iteration 3), `br/1/c` (branch 1), `br/default/c`,
 * nested `outer/2/inner/0/x`; the failure module is `failure`.
 * A loop shows one iteration at a time: `selection[loopId]` picks it (default: the latest one).
 */
import type { FlowModule, OpenFlow } from '../lib/openflow';
import type { Step, StepStatus } from './types';

export type Segment =
  | { kind: 'loop'; id: string }
  | { kind: 'branch'; id: string; branch: number | 'default' };

export interface ModuleInfo {
  module: FlowModule;
  /** enclosing containers, outermost first */
  path: Segment[];
  isLoop: boolean;
  isFailure: boolean;
}

export type IterationSelection = Record<string, number>;

function isLoop(m: FlowModule): boolean {
  return m.value?.type === 'forloopflow' || m.value?.type === 'whileloopflow';
}

/** Every module of the flow with the containers around it. */
export function indexFlow(flow: OpenFlow | null | undefined): Map<string, ModuleInfo> {
  const out = new Map<string, ModuleInfo>();
  if (!flow?.value) return out;
  const visit = (mods: FlowModule[] | undefined, path: Segment[]) => {
    for (const m of mods ?? []) {
      if (!m || typeof m.id !== 'string') continue;
      out.set(m.id, { module: m, path, isLoop: isLoop(m), isFailure: false });
      const v = m.value as unknown as Record<string, unknown>;
      switch (m.value?.type) {
        case 'forloopflow':
        case 'whileloopflow':
          visit(v.modules as FlowModule[], [...path, { kind: 'loop', id: m.id }]);
          break;
        case 'branchone':
          visit(v.default as FlowModule[], [...path, { kind: 'branch', id: m.id, branch: 'default' }]);
          ((v.branches as Array<{ modules: FlowModule[] }>) ?? []).forEach((b, i) =>
            visit(b?.modules, [...path, { kind: 'branch', id: m.id, branch: i }]),
          );
          break;
        case 'branchall':
          ((v.branches as Array<{ modules: FlowModule[] }>) ?? []).forEach((b, i) =>
            visit(b?.modules, [...path, { kind: 'branch', id: m.id, branch: i }]),
          );
          break;
      }
    }
  };
  visit(flow.value.modules, []);
  const fm = flow.value.failure_module;
  if (fm?.id) out.set(fm.id, { module: fm, path: [], isLoop: false, isFailure: true });
  return out;
}

/**
 * Key of a module's step for the selected iterations; null if an enclosing loop has no iteration
 * selected (nothing ran yet).
 */
export function keyFor(info: ModuleInfo, selection: IterationSelection, index?: Map<string, ModuleInfo>): string | null {
  if (info.isFailure) return 'failure';
  const parts: string[] = [];
  for (const seg of info.path) {
    // the loop's own key is itself relative to its enclosing containers: walk from the outside in
    parts.push(seg.id);
    if (seg.kind === 'loop') {
      const i = selection[seg.id];
      if (i === undefined || i === null || i < 0) return null;
      parts.push(String(i));
    } else {
      parts.push(String(seg.branch));
    }
  }
  void index;
  parts.push(info.module.id);
  return parts.join('/');
}

/** Split a step key into [container id, iteration/branch] pairs and the final module id. */
export function parseKey(key: string): { segments: Array<[string, string]>; moduleId: string } {
  const parts = key.split('/');
  const moduleId = parts.pop() ?? key;
  const segments: Array<[string, string]> = [];
  for (let i = 0; i + 1 < parts.length; i += 2) segments.push([parts[i], parts[i + 1]]);
  return { segments, moduleId };
}

/** Iteration indexes present among the steps for the loop whose own key is `loopKey`. */
export function iterationsPresent(steps: Iterable<Step>, loopKey: string): number[] {
  const prefix = loopKey + '/';
  const seen = new Set<number>();
  for (const s of steps) {
    if (!s.key.startsWith(prefix)) continue;
    const rest = s.key.slice(prefix.length);
    const n = Number(rest.split('/')[0]);
    if (Number.isInteger(n) && n >= 0) seen.add(n);
  }
  return [...seen].sort((a, b) => a - b);
}

/**
 * Complete a selection: every loop whose iteration is not chosen by the user gets the latest
 * iteration that has steps (a running one if any). Outer loops are resolved first, so an inner
 * loop is looked up inside the selected outer iteration.
 */
export function resolveSelection(
  index: Map<string, ModuleInfo>,
  steps: Step[],
  user: IterationSelection,
): IterationSelection {
  const sel: IterationSelection = {};
  const loops = [...index.values()].filter((i) => i.isLoop).sort((a, b) => a.path.length - b.path.length);
  for (const info of loops) {
    const loopKey = keyFor(info, sel);
    if (loopKey === null) continue;
    const present = iterationsPresent(steps, loopKey);
    const chosen = user[info.module.id];
    if (chosen !== undefined && (present.includes(chosen) || present.length === 0)) {
      sel[info.module.id] = chosen;
      continue;
    }
    if (!present.length) continue;
    const active = iterationsPresent(steps.filter((s) => s.status === 'running' || s.status === 'suspended'), loopKey);
    sel[info.module.id] = active.length ? active[active.length - 1] : present[present.length - 1];
  }
  return sel;
}

export interface NodeRun {
  moduleId: string;
  key: string | null;
  step: Step | null;
  status: StepStatus;
  /** not executed in this run (branch not taken, or never reached in a finished run) */
  notRun: boolean;
}

/**
 * The branch a branchone took: the engine reports {type: "default"} or {type: "branch", branch: i};
 * a bare index or "default" is accepted too.
 */
export function chosenBranch(v: unknown): number | 'default' | null {
  if (v === undefined || v === null) return null;
  if (v === 'default' || v === -1) return 'default';
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  if (typeof v === 'object') {
    const o = v as { type?: string; branch?: unknown };
    if (o.type === 'default') return 'default';
    if (typeof o.branch === 'number') return o.branch;
  }
  return null;
}

function branchTaken(chosen: unknown, branch: number | 'default'): boolean | null {
  const c = chosenBranch(chosen);
  return c === null ? null : c === branch;
}

/** The status of every graph node for the selected iterations. */
export function nodeRuns(
  index: Map<string, ModuleInfo>,
  steps: Step[],
  selection: IterationSelection,
  runFinal: boolean,
): Map<string, NodeRun> {
  const byKey = new Map<string, Step>();
  for (const s of steps) byKey.set(s.key, s);
  const out = new Map<string, NodeRun>();
  for (const [id, info] of index) {
    const key = keyFor(info, selection);
    let step = key ? byKey.get(key) ?? null : null;
    if (!step && info.isFailure) step = byKey.get(id) ?? null;
    let status: StepStatus = step?.status ?? 'waiting';
    let notRun = false;
    if (step && step.status === 'waiting' && runFinal) {
      notRun = true;
      status = 'skipped';
    } else if (!step) {
      // a branch that was not taken, inside a branchone that has decided
      for (const seg of info.path) {
        if (seg.kind !== 'branch') continue;
        const parent = index.get(seg.id);
        if (!parent || parent.module.value?.type !== 'branchone') continue;
        const pk = keyFor(parent, selection);
        const ps = pk ? byKey.get(pk) : undefined;
        if (branchTaken(ps?.branch_chosen, seg.branch) === false) notRun = true;
      }
      if (runFinal) notRun = true;
      if (notRun) status = 'skipped';
    }
    out.set(id, { moduleId: id, key, step, status, notRun });
  }
  return out;
}

/** The module a suspended step belongs to (`suspended.step` may be a key or a module id). */
export function suspendedModuleId(s: { step: string; module_id?: string } | null | undefined): string | null {
  if (!s) return null;
  return s.module_id || parseKey(s.step).moduleId;
}

/** Selection that makes `key` visible (used when clicking a step in the timeline). */
export function selectionForKey(key: string): IterationSelection {
  const { segments } = parseKey(key);
  const sel: IterationSelection = {};
  for (const [id, part] of segments) {
    const n = Number(part);
    if (part !== 'default' && Number.isInteger(n)) sel[id] = n;
  }
  return sel;
}
