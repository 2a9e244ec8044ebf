/**
 * The editor's FlowGraph, read-only, with run status overlaid, plus a layer of run controls that
 * follows the graph's viewport (approve / cancel on the suspended node, the iteration picker on
 * loops, the "taken" mark on branchone). Layout comes from the same pure buildGraph the graph uses,
 * so a status change never re-lays anything out.
 */
import { memo, useEffect, useMemo, useRef, useState } from 'react';
import { FlowGraph, buildGraph, type NodeStatusInfo } from '../graph';
import type { OpenFlow } from '../lib/openflow';
import { HEADER_H, PAD_X } from '../graph/layout';
import type { IterationSelection, ModuleInfo, NodeRun } from './keys';
import { chosenBranch, iterationsPresent, keyFor } from './keys';
import type { Run, Step } from './types';
import { isFinalRun } from './types';
import { durationMs } from './timing';
import { CheckIcon, CrossIcon } from './ApprovalActions';

export interface RunGraphProps {
  flow: OpenFlow;
  run: Run;
  index: Map<string, ModuleInfo>;
  nodes: Map<string, NodeRun>;
  selection: IterationSelection;
  now: number;
  selectedId: string | null;
  onSelect: (id: string | null) => void;
  onSelectIteration: (loopId: string, i: number) => void;
  /** module id of the suspended step shown with approve / cancel (null if none visible) */
  suspendedId: string | null;
  onApprove: () => void;
  onCancelApproval: () => void;
  approvalBusy?: boolean;
  picking?: boolean;
}

function loopBadge(step: Step | null): string | undefined {
  const it = step?.iterations;
  if (!it) return undefined;
  const total = it.total ?? '?';
  return `${it.done}/${total}`;
}

function branchBadge(step: Step | null): string | undefined {
  const b = chosenBranch(step?.branch_chosen);
  if (b === null) return undefined;
  return b === 'default' ? 'default' : `branch ${b + 1}`;
}

export function statusMap(run: Run, index: Map<string, ModuleInfo>, nodes: Map<string, NodeRun>, now: number): Record<string, NodeStatusInfo> {
  const out: Record<string, NodeStatusInfo> = {};
  for (const [id, n] of nodes) {
    const info = index.get(id);
    const s = n.step;
    const d = s ? durationMs(s.started_at, s.finished_at, now) : null;
    let badge: string | undefined;
    if (info?.isLoop) badge = loopBadge(s);
    else if (info?.module.value?.type === 'branchone') badge = branchBadge(s);
    else if (info?.module.value?.type === 'branchall' && s?.branches) badge = `${s.branches.done}/${s.branches.total ?? '?'} branches`;
    if (n.status === 'suspended') badge = 'approval';
    const failed = s?.iterations?.failed?.length;
    out[id] = {
      status: n.status,
      duration_ms: d,
      badge: badge ?? (n.notRun ? 'not run' : undefined),
      title: failed ? `${failed} failed iteration${failed === 1 ? '' : 's'}` : undefined,
    };
  }
  out['__input'] = { status: run.started_at || run.status !== 'queued' ? 'success' : 'waiting', badge: 'input' };
  if (isFinalRun(run.status)) {
    out['__result'] = { status: run.status === 'success' ? 'success' : run.status === 'canceled' ? 'canceled' : 'failure', badge: run.status === 'success' ? 'done' : run.status === 'canceled' ? 'canceled' : 'failed' };
  } else out['__result'] = { status: 'waiting' };
  return out;
}

/** Mirrors the React Flow viewport transform onto our overlay layer (no React re-render per frame). */
function useViewportMirror(wrap: React.RefObject<HTMLDivElement | null>, layer: React.RefObject<HTMLDivElement | null>) {
  useEffect(() => {
    let obs: MutationObserver | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const attach = () => {
      const vp = wrap.current?.querySelector<HTMLElement>('.react-flow__viewport');
      if (!vp || !layer.current) {
        timer = setTimeout(attach, 50);
        return;
      }
      const copy = () => {
        if (layer.current) layer.current.style.transform = vp.style.transform;
      };
      copy();
      obs = new MutationObserver(copy);
      obs.observe(vp, { attributes: true, attributeFilter: ['style'] });
    };
    attach();
    return () => {
      obs?.disconnect();
      if (timer) clearTimeout(timer);
    };
  }, [wrap, layer]);
}

const IterationPicker = memo(function IterationPicker({ loopId, step, present, selected, onPick }: {
  loopId: string; step: Step | null; present: number[]; selected: number | undefined; onPick: (i: number) => void;
}) {
  const failed = new Set(step?.iterations?.failed ?? []);
  const total = step?.iterations?.total;
  if (!present.length) {
    return <div className="rg-iter empty">{total != null ? `${total} iteration${total === 1 ? '' : 's'}` : 'no iteration yet'}</div>;
  }
  const pos = selected === undefined ? -1 : present.indexOf(selected);
  const go = (d: number) => {
    const p = Math.min(present.length - 1, Math.max(0, pos + d));
    onPick(present[p]);
  };
  return (
    <div className="rg-iter" data-testid={`iter-picker-${loopId}`} onClick={(e) => e.stopPropagation()}>
      <button type="button" className="rg-iter-btn" disabled={pos <= 0} onClick={() => go(-1)} title="Previous iteration" aria-label="Previous iteration">‹</button>
      <select
        className={`rg-iter-select${selected !== undefined && failed.has(selected) ? ' failed' : ''}`}
        value={selected ?? ''}
        onChange={(e) => onPick(Number(e.target.value))}
        aria-label="Iteration"
        data-testid={`iter-select-${loopId}`}
      >
        {present.map((i) => (
          <option key={i} value={i}>
            {failed.has(i) ? '✕ ' : ''}iteration {i + 1}
          </option>
        ))}
      </select>
      <button type="button" className="rg-iter-btn" disabled={pos >= present.length - 1} onClick={() => go(1)} title="Next iteration" aria-label="Next iteration">›</button>
      {total != null && <span className="rg-iter-total">of {total}</span>}
      {failed.size > 0 && <span className="rg-iter-failed" title={`failed: ${[...failed].map((i) => i + 1).join(', ')}`}>{failed.size} failed</span>}
    </div>
  );
});

export function RunGraph(p: RunGraphProps) {
  const wrapRef = useRef<HTMLDivElement>(null);
  const layerRef = useRef<HTMLDivElement>(null);
  useViewportMirror(wrapRef, layerRef);
  const model = useMemo(() => buildGraph(p.flow, { editable: false }), [p.flow]);
  const boxes = useMemo(() => new Map(model.nodes.map((n) => [n.id, n])), [model]);
  const status = useMemo(() => statusMap(p.run, p.index, p.nodes, p.now), [p.run, p.index, p.nodes, p.now]);
  const [confirm, setConfirm] = useState(false);
  useEffect(() => setConfirm(false), [p.suspendedId]);

  const loops = [...p.index.values()].filter((i) => i.isLoop);
  const branchOnes = [...p.index.values()].filter((i) => i.module.value?.type === 'branchone');
  const susp = p.suspendedId ? boxes.get(p.suspendedId) : undefined;

  return (
    <div className={`run-graph${p.picking ? ' picking' : ''}`} ref={wrapRef}>
      <FlowGraph flow={p.flow} readOnly statusByKey={status} selectedId={p.selectedId} onSelect={(id) => p.onSelect(id)} showMinimap />
      <div className="rg-overlay" aria-hidden={false}>
        <div className="rg-layer" ref={layerRef}>
          {loops.map((info) => {
            const box = boxes.get(info.module.id);
            const n = p.nodes.get(info.module.id);
            if (!box || !n) return null;
            const loopKey = keyFor(info, p.selection);
            const present = loopKey ? iterationsPresent(p.run.steps, loopKey) : [];
            return (
              <div key={info.module.id} className="rg-anchor" style={{ left: box.x + PAD_X - 8, top: box.y + HEADER_H + 12 }}>
                <IterationPicker loopId={info.module.id} step={n.step} present={present} selected={p.selection[info.module.id]} onPick={(i) => p.onSelectIteration(info.module.id, i)} />
              </div>
            );
          })}
          {branchOnes.map((info) => {
            const slot = chosenBranch(p.nodes.get(info.module.id)?.step?.branch_chosen);
            if (slot === null) return null;
            const box = boxes.get(`__label:${info.module.id}:${slot}`);
            if (!box) return null;
            return (
              <div key={info.module.id} className="rg-anchor" style={{ left: box.x + box.w - 14, top: box.y - 9 }}>
                <span className="rg-taken" data-testid={`branch-taken-${info.module.id}`}>✓ taken</span>
              </div>
            );
          })}
          {susp && (
            <div className="rg-anchor" style={{ left: susp.x, top: susp.y + susp.h + 8, width: susp.w }}>
              <div className="rg-approve" data-testid="node-approval" onClick={(e) => e.stopPropagation()}>
                {!confirm ? (
                  <>
                    <button type="button" className="btn primary sm" data-testid="node-approve" disabled={p.approvalBusy} onClick={p.onApprove}>
                      <CheckIcon size={12} /> Approve
                    </button>
                    {!p.run.suspended?.hide_cancel && (
                      <button type="button" className="btn danger sm" data-testid="node-cancel" disabled={p.approvalBusy} onClick={() => setConfirm(true)}>
                        <CrossIcon size={12} /> Cancel
                      </button>
                    )}
                  </>
                ) : (
                  <>
                    <span className="rg-confirm-text">Reject?</span>
                    <button type="button" className="btn danger solid sm" data-testid="node-confirm-cancel" onClick={() => { setConfirm(false); p.onCancelApproval(); }}>Yes, cancel</button>
                    <button type="button" className="btn ghost sm" onClick={() => setConfirm(false)}>No</button>
                  </>
                )}
              </div>
            </div>
          )}
        </div>
      </div>
    </div>
  );
}
