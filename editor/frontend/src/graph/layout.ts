/**
 * Flow JSON → graph model (nodes, edges, insertion spots) with a block-structured layout:
 * sequences stack vertically, branches sit side by side, loop/branch bodies are nested in a frame.
 * Pure, deterministic, O(n): one measuring pass (bottom-up) and one placing pass (top-down).
 * Coordinates are absolute; `parent` names the enclosing container node (for React Flow sub-flows).
 */
import type { BranchAll, BranchOne, FlowModule, ForLoop, InsertPoint, ListRef, OpenFlow } from '../lib/openflow';
import { listKey, pointKey } from '../lib/openflow';
import { type VisualKind, moduleTitle, visualKind } from '../lib/kinds';

export const NODE_W = 260;
export const NODE_H = 58;
export const IO_H = 46;
export const GAP = 56;
export const PAD_X = 24;
export const PAD_BOTTOM = 64;
/** distance from a container's bottom edge to the point its columns join */
export const JOIN_INSET = 16;
export const HEADER_H = NODE_H;
export const LABEL_W = 170;
export const LABEL_H = 26;
export const COL_GAP = 36;
export const EMPTY_W = 190;
export const EMPTY_H = 40;
export const SIDE_GAP = 90;

export const INPUT_ID = '__input';
export const RESULT_ID = '__result';
export const ADD_FAILURE_ID = '__add_failure';

export type GNodeType = 'input' | 'result' | 'step' | 'container' | 'branchLabel' | 'empty' | 'addFailure';

export interface GNodeData {
  kind: VisualKind;
  title: string;
  moduleId?: string;
  /** label nodes: branch index (or 'default'); container: number of branches */
  slot?: number | 'default';
  /** empty placeholder: where a drop inserts */
  point?: InsertPoint;
  /** extra line under the title (loop iterator, sub-flow path, …) */
  subtitle?: string;
  isFailure?: boolean;
  /** container has loop/branch columns */
  depth: number;
  hasSuspend?: boolean;
  flags?: string[];
  [k: string]: unknown;
}

export interface GNode {
  id: string;
  type: GNodeType;
  x: number;
  y: number;
  w: number;
  h: number;
  parent?: string;
  data: GNodeData;
}

export type EdgeShape = 'straight' | 'diverge' | 'converge';

export interface GEdge {
  id: string;
  source: string;
  target: string;
  sourceHandle: string;
  targetHandle: string;
  shape: EdgeShape;
  insert?: InsertPoint;
  insertKey?: string;
}

export interface InsertSpot {
  key: string;
  point: InsertPoint;
  x: number;
  y: number;
  /** module id whose subtree contains this spot's list (for excluding self-drops); '' for root */
  container: string;
}

export interface GraphModel {
  nodes: GNode[];
  edges: GEdge[];
  spots: InsertSpot[];
  width: number;
  height: number;
  /** width of the main column (without the error handler) */
  mainWidth: number;
}

interface Size {
  w: number;
  h: number;
}

type Anchor = { node: string; handle: string; x: number; y: number };

function subtitleOf(m: FlowModule): string | undefined {
  const v = m.value as { type: string; iterator?: { type: string; expr?: string; value?: unknown }; path?: string; language?: string };
  if (v.type === 'forloopflow' && v.iterator) {
    return v.iterator.type === 'javascript' ? `for each in ${v.iterator.expr ?? ''}` : 'for each in (static list)';
  }
  if ((v.type === 'script' || v.type === 'flow') && m.summary && v.path) return v.path;
  return undefined;
}

function flagsOf(m: FlowModule): string[] {
  const f: string[] = [];
  if (m.retry && (m.retry.constant?.attempts || m.retry.exponential?.attempts)) f.push('retry');
  if (m.sleep) f.push('sleep');
  if (m.suspend && m.value.type !== 'identity') f.push('suspend');
  if (m.stop_after_if) f.push('stop');
  if (m.skip_if) f.push('skip');
  if (m.mock?.enabled) f.push('mock');
  if (m.continue_on_error) f.push('continue');
  if ((m.value as ForLoop).parallel && m.value.type !== 'branchall') f.push('parallel');
  return f;
}

function branchLabel(m: FlowModule, slot: number | 'default'): string {
  if (m.value.type === 'branchone') {
    if (slot === 'default') return 'Default';
    const b = (m.value as BranchOne).branches[slot];
    return b?.summary?.trim() || (b?.expr ? b.expr : `Branch ${slot + 1}`);
  }
  const b = (m.value as BranchAll).branches[slot as number];
  return b?.summary?.trim() || `Branch ${(slot as number) + 1}`;
}

function columnsOf(m: FlowModule): Array<{ list: ListRef; mods: FlowModule[]; slot: number | 'default' | 'body' }> {
  const v = m.value;
  if (v.type === 'forloopflow' || v.type === 'whileloopflow') return [{ list: { parent: m.id, slot: 'body' }, mods: (v as ForLoop).modules ?? [], slot: 'body' }];
  if (v.type === 'branchone') {
    const b = v as BranchOne;
    return [
      { list: { parent: m.id, slot: 'default' as const }, mods: b.default ?? [], slot: 'default' as const },
      ...(b.branches ?? []).map((br, i) => ({ list: { parent: m.id, slot: i } as ListRef, mods: br.modules ?? [], slot: i })),
    ];
  }
  if (v.type === 'branchall') return ((v as BranchAll).branches ?? []).map((br, i) => ({ list: { parent: m.id, slot: i } as ListRef, mods: br.modules ?? [], slot: i }));
  return [];
}

function isContainerModule(m: FlowModule): boolean {
  const t = m.value.type;
  return t === 'forloopflow' || t === 'whileloopflow' || t === 'branchone' || t === 'branchall';
}

export interface BuildOptions {
  /** editor mode: "+" spots, empty-body placeholders are drop targets, "add error handler" ghost */
  editable?: boolean;
}

export function buildGraph(flow: OpenFlow, opts: BuildOptions = {}): GraphModel {
  const editable = opts.editable ?? true;
  const sizes = new Map<string, Size>();
  const nodes: GNode[] = [];
  const edges: GEdge[] = [];
  const spots: InsertSpot[] = [];
  let edgeN = 0;

  // ---- pass 1: measure (bottom-up)
  const measureSeq = (mods: FlowModule[]): Size => {
    if (!mods.length) return { w: EMPTY_W, h: EMPTY_H };
    let w = 0;
    let h = 0;
    for (const m of mods) {
      const s = measure(m);
      w = Math.max(w, s.w);
      h += s.h;
    }
    return { w, h: h + GAP * (mods.length - 1) };
  };
  const measure = (m: FlowModule): Size => {
    let s: Size;
    if (!isContainerModule(m)) s = { w: NODE_W, h: NODE_H };
    else {
      const cols = columnsOf(m);
      const isBranch = m.value.type === 'branchone' || m.value.type === 'branchall';
      let w = 0;
      let h = 0;
      cols.forEach((c, i) => {
        const cs = measureSeq(c.mods);
        const cw = isBranch ? Math.max(cs.w, LABEL_W) : cs.w;
        w += cw + (i ? COL_GAP : 0);
        h = Math.max(h, cs.h + (isBranch ? LABEL_H + GAP : 0));
      });
      if (!cols.length) h = 0;
      s = { w: Math.max(NODE_W, w) + 2 * PAD_X, h: HEADER_H + GAP + h + PAD_BOTTOM };
    }
    sizes.set(m.id, s);
    return s;
  };

  const edge = (from: Anchor, to: Anchor, shape: EdgeShape, insert?: InsertPoint, container = '') => {
    const e: GEdge = {
      id: `e${edgeN++}:${from.node}>${to.node}`,
      source: from.node,
      target: to.node,
      sourceHandle: from.handle,
      targetHandle: to.handle,
      shape,
    };
    if (insert && editable) {
      e.insert = insert;
      e.insertKey = pointKey(insert);
      const dy = Math.min(GAP / 2, Math.max(0, (to.y - from.y) / 2));
      spots.push({ key: e.insertKey, point: insert, x: from.x, y: from.y + dy, container });
    }
    edges.push(e);
  };

  // ---- pass 2: place (top-down). Returns the anchor the sequence ends at.
  const placeSeq = (mods: FlowModule[], list: ListRef, cx: number, top: number, from: Anchor, parent: string | undefined, depth: number, toEnd: Anchor | null, firstShape: EdgeShape): Anchor => {
    const container = list.parent ?? '';
    if (!mods.length) {
      const id = `__empty:${listKey(list)}`;
      const point = { list, index: 0 };
      nodes.push({ id, type: 'empty', x: cx - EMPTY_W / 2, y: top, w: EMPTY_W, h: EMPTY_H, parent, data: { kind: 'unknown', title: 'Empty', point, depth } });
      if (editable) spots.push({ key: pointKey(point), point, x: cx, y: top + EMPTY_H / 2, container });
      const a = { node: id, handle: 'in', x: cx, y: top };
      edge(from, a, firstShape);
      return { node: id, handle: 'out', x: cx, y: top + EMPTY_H };
    }
    let y = top;
    let prev = from;
    mods.forEach((m, i) => {
      const s = sizes.get(m.id)!;
      const a = { node: m.id, handle: 'in', x: cx, y };
      edge(prev, a, i === 0 ? firstShape : 'straight', { list, index: i }, container);
      placeModule(m, cx, y, parent, depth);
      prev = { node: m.id, handle: 'out', x: cx, y: y + s.h };
      y += s.h + GAP;
    });
    void toEnd;
    return prev;
  };

  const placeModule = (m: FlowModule, cx: number, top: number, parent: string | undefined, depth: number) => {
    const s = sizes.get(m.id)!;
    const kind = visualKind(m);
    const base: GNodeData = { kind, title: moduleTitle(m), moduleId: m.id, subtitle: subtitleOf(m), depth, hasSuspend: !!m.suspend, flags: flagsOf(m) };
    if (!isContainerModule(m)) {
      nodes.push({ id: m.id, type: 'step', x: cx - s.w / 2, y: top, w: s.w, h: s.h, parent, data: base });
      return;
    }
    const cols = columnsOf(m);
    const isBranch = m.value.type === 'branchone' || m.value.type === 'branchall';
    nodes.push({ id: m.id, type: 'container', x: cx - s.w / 2, y: top, w: s.w, h: s.h, parent, data: { ...base, slot: cols.length } });
    const bodyFrom: Anchor = { node: m.id, handle: 'body', x: cx, y: top + HEADER_H };
    const join: Anchor = { node: m.id, handle: 'join', x: cx, y: top + s.h - JOIN_INSET };
    const colTop = top + HEADER_H + GAP;
    if (!isBranch) {
      const c = cols[0];
      const end = placeSeq(c.mods, c.list, cx, colTop, bodyFrom, m.id, depth + 1, join, 'straight');
      edge(end, join, 'converge', c.mods.length ? { list: c.list, index: c.mods.length } : undefined, m.id);
      return;
    }
    const widths = cols.map((c) => Math.max(measureSeq(c.mods).w, LABEL_W));
    const total = widths.reduce((a, b) => a + b, 0) + COL_GAP * (cols.length - 1);
    let x = cx - total / 2;
    cols.forEach((c, i) => {
      const ccx = x + widths[i] / 2;
      const lid = `__label:${m.id}:${c.slot}`;
      const slot = c.slot as number | 'default';
      nodes.push({ id: lid, type: 'branchLabel', x: ccx - LABEL_W / 2, y: colTop, w: LABEL_W, h: LABEL_H, parent: m.id, data: { kind, title: branchLabel(m, slot), moduleId: m.id, slot, depth: depth + 1 } });
      edge(bodyFrom, { node: lid, handle: 'in', x: ccx, y: colTop }, 'diverge');
      const from: Anchor = { node: lid, handle: 'out', x: ccx, y: colTop + LABEL_H };
      const end = placeSeq(c.mods, c.list, ccx, colTop + LABEL_H + GAP, from, m.id, depth + 1, join, 'straight');
      edge(end, join, 'converge', c.mods.length ? { list: c.list, index: c.mods.length } : undefined, m.id);
      x += widths[i] + COL_GAP;
    });
  };

  const mods = flow.value?.modules ?? [];
  const main = measureSeq(mods);
  const width = Math.max(main.w, NODE_W);
  const cx = width / 2;
  nodes.push({ id: INPUT_ID, type: 'input', x: cx - NODE_W / 2, y: 0, w: NODE_W, h: IO_H, data: { kind: 'input', title: 'Flow input', depth: 0 } });
  const start: Anchor = { node: INPUT_ID, handle: 'out', x: cx, y: IO_H };
  let end: Anchor;
  let resultTop: number;
  if (mods.length) {
    end = placeSeq(mods, { parent: null }, cx, IO_H + GAP, start, undefined, 0, null, 'straight');
    resultTop = end.y + GAP;
  } else {
    end = start;
    resultTop = IO_H + GAP * 1.6;
  }
  nodes.push({ id: RESULT_ID, type: 'result', x: cx - NODE_W / 2, y: resultTop, w: NODE_W, h: IO_H, data: { kind: 'result', title: 'Result', depth: 0 } });
  edge(end, { node: RESULT_ID, handle: 'in', x: cx, y: resultTop }, 'straight', { list: { parent: null }, index: mods.length });

  // error handler, apart on the right
  const fm = flow.value?.failure_module;
  const fx = cx + width / 2 + SIDE_GAP;
  if (fm) {
    nodes.push({
      id: fm.id, type: 'step', x: fx, y: 0, w: NODE_W, h: NODE_H,
      data: { kind: visualKind(fm), title: fm.summary?.trim() || 'Error handler', moduleId: fm.id, isFailure: true, depth: 0, flags: flagsOf(fm) },
    });
  } else if (editable) {
    nodes.push({ id: ADD_FAILURE_ID, type: 'addFailure', x: fx, y: 0, w: NODE_W * 0.75, h: IO_H, data: { kind: 'failure', title: 'Add error handler', depth: 0 } });
  }
  return { nodes, edges, spots, width: fx + NODE_W, height: resultTop + IO_H, mainWidth: width };
}

/** Nearest insertion spot to (x, y) within `radius`, skipping spots for which `exclude` is true. */
export function nearestSpot(spots: InsertSpot[], x: number, y: number, radius: number, exclude?: (s: InsertSpot) => boolean): InsertSpot | null {
  let best: InsertSpot | null = null;
  let bestD = radius * radius;
  for (const s of spots) {
    const dx = s.x - x;
    const dy = s.y - y;
    const d = dx * dx + dy * dy;
    if (d <= bestD && !(exclude && exclude(s))) {
      best = s;
      bestD = d;
    }
  }
  return best;
}
