/** A tiny external store so status / selection / errors / drop highlight never re-create graph nodes. */
import { createContext, useContext, useSyncExternalStore } from 'react';
import type { InsertPoint } from '../lib/openflow';
import type { KindId } from '../lib/kinds';

export type StepStatus = 'waiting' | 'queued' | 'running' | 'suspended' | 'success' | 'failure' | 'skipped' | 'canceled';

export interface NodeStatusInfo {
  status: StepStatus;
  /** shown on the node, e.g. "1.2 s" */
  duration_ms?: number | null;
  /** short text on the node, e.g. "37/40" for a loop or "branch 2" */
  badge?: string;
  /** tooltip */
  title?: string;
}

export interface GraphHandlers {
  onSelect?: (id: string | null, info?: { slot?: number | 'default' }) => void;
  onInsertClick?: (point: InsertPoint, anchor: { x: number; y: number }) => void;
  onAddFailure?: () => void;
  onNodeAction?: (id: string, action: 'delete' | 'duplicate') => void;
  onInsert?: (point: InsertPoint, kind: KindId) => void;
}

export class GraphStore {
  status: Record<string, NodeStatusInfo> = {};
  selected: string | null = null;
  errors: Record<string, string[]> = {};
  dropTarget: string | null = null;
  dragging = false;
  readOnly = false;
  handlers: GraphHandlers = {};
  private listeners = new Set<() => void>();

  subscribe = (fn: () => void) => {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  };

  emit() {
    for (const l of this.listeners) l();
  }

  set(patch: Partial<Pick<GraphStore, 'status' | 'selected' | 'errors' | 'dropTarget' | 'dragging' | 'readOnly'>>) {
    let changed = false;
    for (const [k, v] of Object.entries(patch)) {
      if ((this as unknown as Record<string, unknown>)[k] !== v) {
        (this as unknown as Record<string, unknown>)[k] = v;
        changed = true;
      }
    }
    if (changed) this.emit();
  }
}

export const GraphStoreContext = createContext<GraphStore>(new GraphStore());

export function useGraphStore<T>(sel: (s: GraphStore) => T): T {
  const s = useContext(GraphStoreContext);
  return useSyncExternalStore(s.subscribe, () => sel(s));
}

export function useGraphHandlers(): GraphHandlers {
  return useContext(GraphStoreContext).handlers;
}

export function normaliseStatus(v: StepStatus | NodeStatusInfo | undefined | null): NodeStatusInfo | undefined {
  if (!v) return undefined;
  return typeof v === 'string' ? { status: v } : v;
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m ${Math.round((ms % 60_000) / 1000)}s`;
}
