/** Gantt chart of the run's steps (geometry in timing.ts). Click a row to select that step. */
import { memo, useEffect, useMemo, useRef, useState } from 'react';
import { ganttGeometry, formatDuration, type GanttRow } from './timing';
import { statusColor } from './status';
import type { Run, Step } from './types';
import { parseKey } from './keys';

const MAX_ROWS = 400;

const Row = memo(function Row({ r, selected, onPick }: { r: GanttRow; selected: boolean; onPick: (key: string) => void }) {
  return (
    <div className={`tl-row${selected ? ' selected' : ''}`} onClick={() => onPick(r.key)} data-testid={`tl-${r.key}`}>
      <div className="tl-label-col" style={{ paddingLeft: 8 + r.depth * 12 }} title={r.key}>
        <span className="tl-dot" style={{ background: statusColor(r.status) }} />
        <span className="tl-name">{r.label}</span>
      </div>
      <div className="tl-track">
        <span
          className={`tl-bar st-${r.status}${r.running ? ' running' : ''}`}
          style={{ left: `${r.left}%`, width: `${r.width}%`, background: statusColor(r.status) }}
          title={`${r.label}: ${formatDuration(r.durationMs)}`}
        />
      </div>
      <div className="tl-dur-col mono">{formatDuration(r.durationMs)}</div>
    </div>
  );
}, (a, b) => a.selected === b.selected && a.onPick === b.onPick && a.r.left === b.r.left && a.r.width === b.r.width
  && a.r.status === b.r.status && a.r.label === b.r.label && a.r.durationMs === b.r.durationMs && a.r.running === b.r.running);

function label(s: Step, titles: Map<string, string>): string {
  const { segments, moduleId } = parseKey(s.key);
  const iters = segments.filter(([, p]) => /^\d+$/.test(p)).map(([, p]) => `#${Number(p) + 1}`);
  const t = titles.get(moduleId) ?? moduleId;
  return iters.length ? `${t} ${iters.join(' ')}` : t;
}

/** `value`, updated at most every `ms` while `live` (the timeline need not follow every delta). */
function useThrottled<T>(value: T, ms: number, live: boolean): T {
  const [v, setV] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    const wait = live ? ms - (Date.now() - last.current) : 0;
    if (wait <= 0) {
      last.current = Date.now();
      setV(value);
      return;
    }
    const t = setTimeout(() => {
      last.current = Date.now();
      setV(value);
    }, wait);
    return () => clearTimeout(t);
  }, [value, ms, live]);
  return v;
}

export function Timeline({ run, now, titles, selectedKey, onPick }: { run: Run; now: number; titles: Map<string, string>; selectedKey: string | null; onPick: (key: string) => void }) {
  const live = !['success', 'failure', 'canceled'].includes(run.status);
  const input = useMemo(() => ({ run, now }), [run, now]);
  const t = useThrottled(input, 1000, live);
  const g = useMemo(() => ganttGeometry(t.run.steps, t.run, t.now, (s) => label(s, titles)), [t, titles]);
  if (!g.rows.length) return <div className="timeline-empty faint">No step has started yet.</div>;
  return (
    <div className="timeline" data-testid="timeline">
      <div className="tl-axis">
        <div className="tl-label-col" />
        <div className="tl-track">
          {g.ticks.map((t, i) => (
            <span key={i} className="tl-tick" style={{ left: `${t.pct}%` }}>{t.label}</span>
          ))}
        </div>
        <div className="tl-dur-col" />
      </div>
      <div className="tl-rows">
        <div className="tl-grid-layer" aria-hidden>
          <div className="tl-label-col" />
          <div className="tl-track">
            {g.ticks.map((tk, i) => <span key={i} className="tl-grid" style={{ left: `${tk.pct}%` }} />)}
          </div>
          <div className="tl-dur-col" />
        </div>
        {g.rows.slice(0, MAX_ROWS).map((r) => (
          <Row key={r.key} r={r} selected={selectedKey === r.key} onPick={onPick} />
        ))}
        {g.rows.length > MAX_ROWS && (
          <div className="tl-more faint">{(g.rows.length - MAX_ROWS).toLocaleString()} more steps not shown; pick an iteration on the graph to inspect it.</div>
        )}
      </div>
    </div>
  );
}
