/** The prop picker: flow_input and every earlier step's result as clickable trees. */
import { memo, useMemo, useState } from 'react';
import type { OpenFlow } from '../lib/openflow';
import { type RunLike, resultsByModule, scopeFor, stepsBefore } from '../lib/context';
import { buildPath, resultPath, type PathSeg } from '../lib/exprPath';
import { moduleTitle, visualKind } from '../lib/kinds';
import { KindIcon } from '../graph/icons';
import { ValueTree } from './ValueTree';

export interface PropPickerProps {
  flow: OpenFlow;
  moduleId: string;
  lastRun: RunLike | null;
  testArgs?: Record<string, unknown>;
  onPick: (path: string) => void;
}

function Section({ title, icon, badge, children, defaultOpen = true, testId }: { title: string; icon: React.ReactNode; badge?: string; children: React.ReactNode; defaultOpen?: boolean; testId?: string }) {
  const [open, setOpen] = useState(defaultOpen);
  return (
    <div className="pp-section" data-testid={testId}>
      <button type="button" className="pp-head" onClick={() => setOpen(!open)}>
        <span className="pp-caret">{open ? '▾' : '▸'}</span>
        {icon}
        <span className="pp-title">{title}</span>
        {badge && <span className="pp-badge">{badge}</span>}
      </button>
      {open && <div className="pp-body">{children}</div>}
    </div>
  );
}

export const PropPicker = memo(function PropPicker({ flow, moduleId, lastRun, testArgs, onPick }: PropPickerProps) {
  const [filter, setFilter] = useState('');
  const scope = useMemo(() => scopeFor(flow, moduleId, lastRun, testArgs), [flow, moduleId, lastRun, testArgs]);
  const before = useMemo(() => stepsBefore(flow, moduleId), [flow, moduleId]);
  const known = useMemo(() => resultsByModule(lastRun), [lastRun]);
  const f = filter.trim().toLowerCase();
  const visibleSteps = before.filter((m) => !f || m.id.toLowerCase().includes(f) || moduleTitle(m).toLowerCase().includes(f));
  return (
    <div className="prop-picker" data-testid="prop-picker">
      <div className="pp-top">
        <input className="input" placeholder="Filter steps…" value={filter} onChange={(e) => setFilter(e.target.value)} />
        <div className="hint">Click a field to insert its path into the focused input.</div>
      </div>
      <Section title="flow_input" icon={<KindIcon kind="input" size={18} />} testId="pp-flow_input">
        <button type="button" className="vt-key pick root" onClick={() => onPick('flow_input')}>flow_input</button>
        <ValueTree value={scope.flow_input} onPick={(p: PathSeg[]) => onPick(buildPath('flow_input', p))} />
      </Section>
      {scope.iter && (
        <Section title="iter" icon={<KindIcon kind="forloop" size={18} />}>
          <button type="button" className="vt-key pick" onClick={() => onPick('iter.value')}>iter.value</button>{' '}
          <button type="button" className="vt-key pick" onClick={() => onPick('iter.index')}>iter.index</button>
        </Section>
      )}
      {before.length > 0 && (
        <Section title="previous_result" icon={<KindIcon kind="identity" size={18} />} defaultOpen={false}>
          <button type="button" className="vt-key pick root" onClick={() => onPick('previous_result')}>previous_result</button>
        </Section>
      )}
      {visibleSteps.map((m) => {
        const has = m.id in known;
        return (
          <Section
            key={m.id}
            title={`${m.id} · ${moduleTitle(m)}`}
            icon={<KindIcon kind={visualKind(m)} size={18} />}
            badge={has ? 'last run' : 'no test data'}
            testId={`pp-step-${m.id}`}
          >
            <button type="button" className="vt-key pick root" onClick={() => onPick(resultPath(m.id))}>{resultPath(m.id)}</button>
            {has ? (
              <ValueTree value={known[m.id]} onPick={(p) => onPick(resultPath(m.id, p))} defaultOpen={2} />
            ) : (
              <div className="hint">Test the flow to browse this step's result.</div>
            )}
          </Section>
        );
      })}
      {!before.length && <div className="hint pp-none">No earlier steps: only the flow input is available here.</div>}
    </div>
  );
});
