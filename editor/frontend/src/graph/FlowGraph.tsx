/**
 * <FlowGraph>: the flow drawn as a graph (React Flow). Used by the editor (editable) and the run view (readOnly).
 * Layout depends only on `flow`; status, selection, errors and drag highlights go through a small store,
 * so they never re-create nodes or re-run the layout. See README.md for the props.
 */
import { afterResize, revealRect, type Rect } from './viewport';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import {
  Background,
  BackgroundVariant,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  applyNodeChanges,
  useReactFlow,
  type Edge,
  type Node,
  type NodeChange,
  type OnNodeDrag,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import './graph.css';
import type { InsertPoint, OpenFlow } from '../lib/openflow';
import type { KindId } from '../lib/kinds';
import { findModule, walkModules, childLists } from '../lib/openflow';
import { ADD_FAILURE_ID, buildGraph, nearestSpot, type GNodeData, type GraphModel, type InsertSpot } from './layout';
import { nodeTypes } from './nodes';
import { edgeTypes, type FlowEdgeData } from './edges';
import { GraphStore, GraphStoreContext, normaliseStatus, type NodeStatusInfo, type StepStatus } from './store';
import { InsertMenu } from './InsertMenu';
import { effectiveTheme } from '../theme';

export const KIND_MIME = 'application/x-openflow-kind';

export interface FlowGraphProps {
  flow: OpenFlow;
  /** status per module id (also '__input' / '__result'); a bare status string or {status, duration_ms, badge, title} */
  statusByKey?: Record<string, StepStatus | NodeStatusInfo>;
  selectedId?: string | null;
  /** click on a node (module id, '__input', '__result') or on the background (null); branch labels pass their slot */
  onSelect?: (id: string | null, info?: { slot?: number | 'default' }) => void;
  /** no "+", no drag/drop, no ghost nodes */
  readOnly?: boolean;
  /** validation messages per module id: red ring + tooltip */
  errorsByModule?: Record<string, string[]>;
  /** editor: insert a new module of `kind` at `point` ("+" menu or palette drop) */
  onInsert?: (point: InsertPoint, kind: KindId) => void;
  /** editor: move module `id` to `point` (node dragged onto an edge / empty body) */
  onMove?: (id: string, point: InsertPoint) => void;
  /** editor: "Paste step" item in the "+" menu */
  onPaste?: (point: InsertPoint) => void;
  onAddFailure?: () => void;
  onNodeAction?: (id: string, action: 'delete' | 'duplicate') => void;
  showMinimap?: boolean;
  className?: string;
}

function toRF(model: GraphModel): { nodes: Node<GNodeData>[]; edges: Edge<FlowEdgeData>[] } {
  const abs = new Map<string, { x: number; y: number }>();
  const nodes: Node<GNodeData>[] = model.nodes.map((n) => {
    abs.set(n.id, { x: n.x, y: n.y });
    const p = n.parent ? abs.get(n.parent)! : { x: 0, y: 0 };
    const movable = n.type === 'step' || n.type === 'container';
    return {
      id: n.id,
      type: n.type === 'input' ? 'ioInput' : n.type === 'result' ? 'ioResult' : n.type,
      position: { x: n.x - p.x, y: n.y - p.y },
      width: n.w,
      height: n.h,
      data: n.data,
      parentId: n.parent,
      draggable: movable && !n.data.isFailure,
      selectable: false,
      connectable: false,
      zIndex: n.type === 'container' ? n.data.depth : 1000 + n.data.depth,
    };
  });
  const edges: Edge<FlowEdgeData>[] = model.edges.map((e) => ({
    id: e.id,
    source: e.source,
    target: e.target,
    sourceHandle: e.sourceHandle,
    targetHandle: e.targetHandle,
    type: 'flow',
    selectable: false,
    focusable: false,
    zIndex: 999,
    data: { shape: e.shape, insert: e.insert, insertKey: e.insertKey },
  }));
  return { nodes, edges };
}

/** Module ids inside (and including) `id`. */
function subtreeIds(flow: OpenFlow, id: string): Set<string> {
  const out = new Set<string>([id]);
  const loc = findModule(flow, id);
  if (!loc) return out;
  const rec = (m: typeof loc.module) => {
    for (const [, ms] of childLists(m)) for (const c of ms) {
      out.add(c.id);
      rec(c);
    }
  };
  rec(loc.module);
  return out;
}

function Inner(props: FlowGraphProps) {
  const { flow, readOnly = false, showMinimap = true } = props;
  const storeRef = useRef<GraphStore>(null as unknown as GraphStore);
  if (!storeRef.current) storeRef.current = new GraphStore();
  const store = storeRef.current;
  const rf = useReactFlow();
  const wrapRef = useRef<HTMLDivElement>(null);
  const [menu, setMenu] = useState<{ point: InsertPoint; x: number; y: number } | null>(null);
  const [colorMode, setColorMode] = useState<'light' | 'dark'>(effectiveTheme());

  useEffect(() => {
    const h = (e: Event) => setColorMode((e as CustomEvent).detail);
    window.addEventListener('ofs-theme', h);
    const mq = matchMedia('(prefers-color-scheme: dark)');
    const m = () => setColorMode(effectiveTheme());
    mq.addEventListener('change', m);
    return () => {
      window.removeEventListener('ofs-theme', h);
      mq.removeEventListener('change', m);
    };
  }, []);

  const model = useMemo(() => buildGraph(flow, { editable: !readOnly }), [flow, readOnly]);
  useEffect(() => {
    performance.mark('ofs-graph-rendered');
  }, [model]);
  const rfModel = useMemo(() => toRF(model), [model]);
  const [nodes, setNodes] = useState(rfModel.nodes);
  useEffect(() => setNodes(rfModel.nodes), [rfModel]);

  // keep the store in sync with props (cheap; nodes subscribe to their own slice)
  const status = useMemo(() => {
    const out: Record<string, NodeStatusInfo> = {};
    for (const [k, v] of Object.entries(props.statusByKey ?? {})) {
      const n = normaliseStatus(v);
      if (n) out[k] = n;
    }
    return out;
  }, [props.statusByKey]);
  useEffect(() => store.set({ status, selected: props.selectedId ?? null, errors: props.errorsByModule ?? {}, readOnly }), [store, status, props.selectedId, props.errorsByModule, readOnly]);

  const propsRef = useRef(props);
  propsRef.current = props;
  store.handlers = {
    onSelect: props.onSelect,
    onAddFailure: props.onAddFailure,
    onNodeAction: props.onNodeAction,
    onInsertClick: readOnly ? undefined : (point, anchor) => {
      const r = wrapRef.current?.getBoundingClientRect();
      setMenu({ point, x: anchor.x - (r?.left ?? 0) + 8, y: anchor.y - (r?.top ?? 0) + 8 });
    },
  };

  // initial viewport computed from the layout: small flows fit, big flows open top-anchored at a readable zoom
  // (so only the visible nodes render); recomputed when the graph goes from empty to non-empty
  const hasModules = (flow.value?.modules?.length ?? 0) > 0;
  const [size, setSize] = useState<{ w: number; h: number } | null>(null);
  const [narrow, setNarrow] = useState(false);
  useLayoutEffect(() => {
    const el = wrapRef.current;
    if (el) setSize({ w: el.clientWidth || 800, h: el.clientHeight || 600 });
  }, []);
  const viewportFor = useCallback(
    (w: number, h: number) => {
      const mainW = model.mainWidth;
      const fit = Math.min(1, (w - 80) / Math.max(model.width, 1), (h - 60) / Math.max(model.height, 1));
      const zoom = fit >= 0.55 ? fit : Math.min(0.9, Math.max(0.55, (w - 80) / Math.max(mainW, 1)));
      const x = w / 2 - (mainW / 2) * zoom;
      const y = fit >= 0.55 ? (h - model.height * zoom) / 2 : 24;
      return { x, y, zoom };
    },
    [model],
  );
  // keep the graph on screen when the canvas is resized (side panel opening/closing, window resize):
  // centre kept, a column that fits never ends off an edge, the selected node stays visible
  const modelRef = useRef(model);
  modelRef.current = model;
  const rectOf = useCallback((id: string | null): Rect | null => {
    if (!id) return null;
    const n = modelRef.current.nodes.find((x) => x.id === id);
    return n ? { x: n.x, y: n.y, w: n.w, h: n.h } : null;
  }, []);
  useEffect(() => {
    const el = wrapRef.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    let w = el.clientWidth;
    let h = el.clientHeight;
    const ro = new ResizeObserver(() => {
      const nw = el.clientWidth;
      const nh = el.clientHeight;
      if ((nw !== w || nh !== h) && w > 0 && nw > 0) {
        rf.setViewport(afterResize(rf.getViewport(), w, nw, nh, modelRef.current.mainWidth, rectOf(store.selected)));
      }
      w = nw;
      h = nh;
      setNarrow(nw < 760);
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, [rf, store, rectOf]);
  // a newly selected node (e.g. one just inserted) is scrolled into view; waits two frames so a
  // side panel opening in the same render has resized the canvas first
  const selRect = props.selectedId ? model.nodes.find((x) => x.id === props.selectedId) : undefined;
  const selRectKey = selRect ? `${selRect.x},${selRect.y},${selRect.w},${selRect.h}` : '';
  useEffect(() => {
    const id = props.selectedId;
    if (!id || !selRectKey) return;
    let f2 = 0;
    const f1 = requestAnimationFrame(() => {
      f2 = requestAnimationFrame(() => {
        const el = wrapRef.current;
        const r = rectOf(id);
        if (!el || !r) return;
        const next = revealRect(rf.getViewport(), r, el.clientWidth, el.clientHeight, 40);
        if (next) void rf.setViewport(next, { duration: 200 });
      });
    });
    return () => {
      cancelAnimationFrame(f1);
      cancelAnimationFrame(f2);
    };
  }, [props.selectedId, selRectKey, rf, rectOf]);
  const firstFit = useRef(true);
  useEffect(() => {
    if (firstFit.current) {
      firstFit.current = false;
      return;
    }
    const el = wrapRef.current;
    if (el) rf.setViewport(viewportFor(el.clientWidth, el.clientHeight));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [hasModules]);

  const onNodesChange = useCallback((changes: NodeChange<Node<GNodeData>>[]) => {
    const relevant = changes.filter((c) => c.type === 'position' || c.type === 'dimensions');
    if (relevant.length) setNodes((nds) => applyNodeChanges(relevant, nds));
  }, []);

  const onNodeClick = useCallback((_: unknown, node: Node<GNodeData>) => {
    const p = propsRef.current;
    if (node.type === 'empty' || node.type === 'addFailure') return;
    if (node.type === 'branchLabel') p.onSelect?.(node.data.moduleId ?? null, { slot: node.data.slot });
    else p.onSelect?.(node.id);
  }, []);

  const spotAt = useCallback(
    (clientX: number, clientY: number, exclude?: (s: InsertSpot) => boolean): InsertSpot | null => {
      const pos = rf.screenToFlowPosition({ x: clientX, y: clientY });
      const zoom = rf.getZoom();
      return nearestSpot(model.spots, pos.x, pos.y, Math.max(40, 70 / zoom), exclude);
    },
    [rf, model],
  );

  // ---- palette (HTML5) drag and drop
  const onDragOver = useCallback(
    (e: DragEvent) => {
      if (readOnly || !e.dataTransfer.types.includes(KIND_MIME)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
      const s = spotAt(e.clientX, e.clientY);
      store.set({ dragging: true, dropTarget: s?.key ?? null });
    },
    [readOnly, spotAt, store],
  );
  const onDragLeave = useCallback(
    (e: DragEvent) => {
      if (wrapRef.current && e.relatedTarget instanceof globalThis.Node && wrapRef.current.contains(e.relatedTarget)) return;
      store.set({ dragging: false, dropTarget: null });
    },
    [store],
  );
  const onDrop = useCallback(
    (e: DragEvent) => {
      const kind = e.dataTransfer.getData(KIND_MIME) as KindId;
      store.set({ dragging: false, dropTarget: null });
      if (readOnly || !kind) return;
      e.preventDefault();
      const s = spotAt(e.clientX, e.clientY);
      if (s) propsRef.current.onInsert?.(s.point, kind);
    },
    [readOnly, spotAt, store],
  );
  useEffect(() => {
    const end = () => store.set({ dragging: false, dropTarget: null });
    window.addEventListener('dragend', end);
    return () => window.removeEventListener('dragend', end);
  }, [store]);

  // ---- moving existing nodes
  const dragInfo = useRef<{ id: string; exclude: (s: InsertSpot) => boolean } | null>(null);
  const onNodeDragStart: OnNodeDrag<Node<GNodeData>> = useCallback(
    (_e, node) => {
      const loc = findModule(flow, node.id);
      if (!loc) return;
      const inside = subtreeIds(flow, node.id);
      const sameList = (s: InsertSpot) =>
        (s.point.list.parent ?? null) === (loc.list.parent ?? null) && (s.point.list as { slot?: unknown }).slot === (loc.list as { slot?: unknown }).slot;
      dragInfo.current = {
        id: node.id,
        exclude: (s) => (s.point.list.parent !== null && inside.has(s.point.list.parent)) || (sameList(s) && (s.point.index === loc.index || s.point.index === loc.index + 1)),
      };
      store.set({ dragging: true });
    },
    [flow, store],
  );
  const onNodeDrag: OnNodeDrag<Node<GNodeData>> = useCallback(
    (e) => {
      const d = dragInfo.current;
      if (!d) return;
      const ev = e as unknown as MouseEvent;
      const s = spotAt(ev.clientX, ev.clientY, d.exclude);
      store.set({ dropTarget: s?.key ?? null });
    },
    [spotAt, store],
  );
  const onNodeDragStop: OnNodeDrag<Node<GNodeData>> = useCallback(
    (e) => {
      const d = dragInfo.current;
      dragInfo.current = null;
      store.set({ dragging: false, dropTarget: null });
      if (!d) return;
      const ev = e as unknown as MouseEvent;
      const s = spotAt(ev.clientX, ev.clientY, d.exclude);
      setNodes(rfModel.nodes); // snap back; a real move re-lays out from the new flow
      if (s) propsRef.current.onMove?.(d.id, s.point);
    },
    [spotAt, store, rfModel],
  );

  const closeMenu = useCallback(() => setMenu(null), []);

  return (
    <GraphStoreContext.Provider value={store}>
      <div
        ref={wrapRef}
        className={`flow-graph${readOnly ? ' read-only' : ''} ${props.className ?? ''}`}
        onDragOver={onDragOver}
        onDragLeave={onDragLeave}
        onDrop={onDrop}
        data-testid="flow-graph"
      >
        {size && <ReactFlow
          defaultViewport={viewportFor(size.w, size.h)}
          nodes={nodes}
          edges={rfModel.edges}
          nodeTypes={nodeTypes}
          edgeTypes={edgeTypes}
          onNodesChange={onNodesChange}
          onNodeClick={onNodeClick}
          onPaneClick={() => propsRef.current.onSelect?.(null)}
          onNodeDragStart={readOnly ? undefined : onNodeDragStart}
          onNodeDrag={readOnly ? undefined : onNodeDrag}
          onNodeDragStop={readOnly ? undefined : onNodeDragStop}
          nodesDraggable={!readOnly}
          nodesConnectable={false}
          elementsSelectable={false}
          nodeDragThreshold={4}
          minZoom={0.08}
          maxZoom={2}
          colorMode={colorMode}
          onlyRenderVisibleElements={model.nodes.length > 120}
          proOptions={{ hideAttribution: true }}
          deleteKeyCode={null}
          selectionKeyCode={null}
          multiSelectionKeyCode={null}
          zoomOnDoubleClick={false}
        >
          <Background variant={BackgroundVariant.Dots} gap={18} size={1.2} color="var(--canvas-dot)" />
          <Controls showInteractive={false} position="bottom-left" />
          {showMinimap && !narrow && <MiniMap pannable zoomable position="bottom-right" nodeColor={minimapColor} nodeStrokeWidth={0} maskColor="var(--minimap-mask)" />}
        </ReactFlow>}
        {menu && (
          <InsertMenu
            x={menu.x}
            y={menu.y}
            onClose={closeMenu}
            onPick={(k) => {
              setMenu(null);
              propsRef.current.onInsert?.(menu.point, k);
            }}
            onPaste={props.onPaste ? () => {
              setMenu(null);
              propsRef.current.onPaste?.(menu.point);
            } : undefined}
          />
        )}
      </div>
    </GraphStoreContext.Provider>
  );
}

function minimapColor(n: Node): string {
  if (n.type === 'container') return 'var(--minimap-group)';
  if (n.type === 'step' || n.type === 'ioInput' || n.type === 'ioResult') return 'var(--minimap-node)';
  return 'transparent';
}

export function FlowGraph(props: FlowGraphProps) {
  return (
    <ReactFlowProvider>
      <Inner {...props} />
    </ReactFlowProvider>
  );
}

export { ADD_FAILURE_ID };

/** All module ids in display order (for keyboard navigation, tests). */
export function moduleIdsInOrder(flow: OpenFlow): string[] {
  const out: string[] = [];
  walkModules(flow, (m) => out.push(m.id));
  return out;
}
