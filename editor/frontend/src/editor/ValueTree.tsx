/** Collapsible JSON tree; in picker mode every key is clickable and yields its path segments. */
import { memo, useState } from 'react';
import type { PathSeg } from '../lib/exprPath';

const MAX_CHILDREN = 100;

function preview(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return '—';
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? v.slice(0, 80) + '…' : v);
  if (Array.isArray(v)) return v.length ? `Array(${v.length})` : '[]';
  if (typeof v === 'object' && !Object.keys(v as object).length) return '{}';
  if (typeof v === 'object') return `{${Object.keys(v as object).slice(0, 4).join(', ')}${Object.keys(v as object).length > 4 ? ', …' : ''}}`;
  return String(v);
}

function typeClass(v: unknown): string {
  if (v === null || v === undefined) return 'v-null';
  if (Array.isArray(v)) return 'v-array';
  return `v-${typeof v}`;
}

interface NodeProps {
  name: string | number;
  value: unknown;
  path: PathSeg[];
  depth: number;
  onPick?: (path: PathSeg[]) => void;
  defaultOpen: number;
}

const TreeNode = memo(function TreeNode({ name, value, path, depth, onPick, defaultOpen }: NodeProps) {
  const composite = value !== null && typeof value === 'object' && Object.keys(value as object).length > 0;
  const [open, setOpen] = useState(depth < defaultOpen);
  const [limit, setLimit] = useState(MAX_CHILDREN);
  const entries: Array<[string | number, unknown]> = composite
    ? Array.isArray(value)
      ? value.map((x, i) => [i, x] as [number, unknown])
      : Object.entries(value as Record<string, unknown>)
    : [];
  return (
    <div className="vt-node">
      <div className="vt-row" style={{ paddingLeft: depth * 14 }}>
        {composite ? (
          <button type="button" className="vt-toggle" onClick={() => setOpen(!open)} aria-label={open ? 'Collapse' : 'Expand'}>
            {open ? '▾' : '▸'}
          </button>
        ) : (
          <span className="vt-toggle-space" />
        )}
        {onPick ? (
          <button type="button" className="vt-key pick" onClick={() => onPick(path)} title="Insert this path" data-path={path.join('.')}>
            {typeof name === 'number' ? `[${name}]` : name}
          </button>
        ) : (
          <span className="vt-key">{typeof name === 'number' ? `[${name}]` : name}</span>
        )}
        <span className={`vt-val ${typeClass(value)}`}>{composite && open ? (Array.isArray(value) ? `Array(${value.length})` : '') : preview(value)}</span>
      </div>
      {composite && open && (
        <div>
          {entries.slice(0, limit).map(([k, v]) => (
            <TreeNode key={String(k)} name={k} value={v} path={[...path, k]} depth={depth + 1} onPick={onPick} defaultOpen={defaultOpen} />
          ))}
          {entries.length > limit && (
            <button type="button" className="vt-more" style={{ marginLeft: (depth + 1) * 14 + 16 }} onClick={() => setLimit(limit + MAX_CHILDREN)}>
              Show {Math.min(MAX_CHILDREN, entries.length - limit)} more of {entries.length - limit}…
            </button>
          )}
        </div>
      )}
    </div>
  );
});

export function ValueTree({ value, rootName, onPick, defaultOpen = 1 }: { value: unknown; rootName?: string; onPick?: (path: PathSeg[]) => void; defaultOpen?: number }) {
  if (value === null || typeof value !== 'object') {
    return <div className={`vt-scalar ${typeClass(value)}`}>{rootName ? <span className="vt-key">{rootName}: </span> : null}{preview(value)}</div>;
  }
  const entries: Array<[string | number, unknown]> = Array.isArray(value) ? value.map((x, i) => [i, x]) : Object.entries(value as Record<string, unknown>);
  if (!entries.length) return <div className="vt-scalar v-null">{Array.isArray(value) ? '[] (empty)' : '{} (empty)'}</div>;
  return (
    <div className="value-tree">
      {entries.slice(0, 500).map(([k, v]) => (
        <TreeNode key={String(k)} name={k} value={v} path={[k]} depth={0} onPick={onPick} defaultOpen={defaultOpen} />
      ))}
    </div>
  );
}
