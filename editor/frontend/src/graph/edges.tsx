import { memo, useContext, type MouseEvent } from 'react';
import { BaseEdge, EdgeLabelRenderer, type Edge, type EdgeProps } from '@xyflow/react';
import type { InsertPoint } from '../lib/openflow';
import { GraphStoreContext, useGraphStore } from './store';
import { GAP, type EdgeShape } from './layout';
import { Icon } from './icons';

export interface FlowEdgeData {
  shape: EdgeShape;
  insert?: InsertPoint;
  insertKey?: string;
  [k: string]: unknown;
}

const R = 8;

/** Orthogonal path with rounded corners; bends near the source (diverge) or the target (converge). */
export function edgePath(sx: number, sy: number, tx: number, ty: number, shape: EdgeShape): string {
  if (Math.abs(sx - tx) < 1) return `M ${sx} ${sy} L ${tx} ${ty}`;
  const bendY = shape === 'diverge' ? sy + Math.min(GAP / 2, (ty - sy) / 2) : ty - Math.min(18, (ty - sy) / 2);
  const dir = tx > sx ? 1 : -1;
  const r = Math.min(R, Math.abs(tx - sx) / 2, Math.abs(bendY - sy), Math.abs(ty - bendY));
  return [
    `M ${sx} ${sy}`,
    `L ${sx} ${bendY - r}`,
    `Q ${sx} ${bendY} ${sx + dir * r} ${bendY}`,
    `L ${tx - dir * r} ${bendY}`,
    `Q ${tx} ${bendY} ${tx} ${bendY + r}`,
    `L ${tx} ${ty}`,
  ].join(' ');
}

export const FlowEdge = memo(function FlowEdge({ id, sourceX, sourceY, targetX, targetY, data }: EdgeProps<Edge<FlowEdgeData>>) {
  const store = useContext(GraphStoreContext);
  const key = data?.insertKey;
  const active = useGraphStore((s) => !!key && s.dropTarget === key);
  const dragging = useGraphStore((s) => s.dragging);
  const readOnly = useGraphStore((s) => s.readOnly);
  const path = edgePath(sourceX, sourceY, targetX, targetY, data?.shape ?? 'straight');
  const lx = sourceX;
  const ly = sourceY + Math.min(GAP / 2, Math.max(0, (targetY - sourceY) / 2));
  const onClick = (e: MouseEvent) => {
    e.stopPropagation();
    if (data?.insert) store.handlers.onInsertClick?.(data.insert, { x: e.clientX, y: e.clientY });
  };
  return (
    <>
      <BaseEdge id={id} path={path} className={active ? 'edge-drop-active' : undefined} />
      {data?.insert && !readOnly && (
        <EdgeLabelRenderer>
          <button
            type="button"
            className={`edge-plus nodrag nopan${active ? ' drop-active' : ''}${dragging ? ' dragging' : ''}`}
            style={{ transform: `translate(-50%, -50%) translate(${lx}px, ${ly}px)` }}
            data-drop-key={key}
            title="Add a step here"
            onClick={onClick}
          >
            <Icon name="plus" size={12} />
          </button>
        </EdgeLabelRenderer>
      )}
    </>
  );
});

export const edgeTypes = { flow: FlowEdge };
