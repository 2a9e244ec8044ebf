/** Side panel for the selected node: status, approval, args, result, error, streamed logs. */
import { useState, type ReactNode } from 'react';
import { KindIcon } from '../graph';
import { kindLabel, moduleTitle, visualKind } from '../lib/kinds';
import type { ModuleInfo, NodeRun } from './keys';
import { chosenBranch, iterationsPresent, keyFor } from './keys';
import { JsonView } from './JsonView';
import { LogView } from './LogView';
import { ApprovalActions } from './ApprovalActions';
import { STATUS_LABEL } from './status';
import { durationMs, formatDuration } from './timing';
import type { Run, Step, StepError } from './types';
import { approverName, isFinalRun, resumeFormSchema } from './types';

function Section({ title, children, defaultOpen = true, right, testId }: { title: string; children: ReactNode; defaultOpen?: boolean; right?: ReactNode; testId?: string }) {
  const [open, setOpen] = useState(defaultOpen);
  return (
    <section className={`sp-section${open ? ' open' : ''}`} data-testid={testId}>
      <header className="sp-section-head" onClick={() => setOpen(!open)}>
        <span className="sp-caret">▸</span>
        <span className="sp-section-title">{title}</span>
        {right && <span className="sp-section-right" onClick={(e) => e.stopPropagation()}>{right}</span>}
      </header>
      {open && <div className="sp-section-body">{children}</div>}
    </section>
  );
}

export function ErrorBox({ error }: { error: StepError | string }) {
  const e: StepError = typeof error === 'string' ? { message: error } : error;
  const [showStack, setShowStack] = useState(false);
  const extra = Object.fromEntries(Object.entries(e).filter(([k]) => !['name', 'message', 'stack'].includes(k)));
  return (
    <div className="error-box" data-testid="step-error">
      <div className="eb-head">
        <span className="eb-name">{e.name || 'Error'}</span>
      </div>
      <div className="eb-message">{e.message || JSON.stringify(e)}</div>
      {e.stack && (
        <>
          <button type="button" className="btn ghost sm" onClick={() => setShowStack(!showStack)}>{showStack ? 'Hide stack' : 'Show stack'}</button>
          {showStack && <pre className="eb-stack">{e.stack}</pre>}
        </>
      )}
      {Object.keys(extra).length > 0 && <JsonView value={extra} openDepth={1} copy={false} />}
    </div>
  );
}

function iterationState(run: Run, loopKey: string, i: number, failed: Set<number>): string {
  if (failed.has(i)) return 'failure';
  const prefix = `${loopKey}/${i}/`;
  let st = 'success';
  for (const s of run.steps) {
    if (!s.key.startsWith(prefix)) continue;
    if (s.status === 'failure') return 'failure';
    if (s.status === 'running') st = 'running';
    else if (s.status === 'suspended' && st !== 'running') st = 'suspended';
    else if (s.status === 'waiting' && st === 'success') st = 'waiting';
  }
  return st;
}

function IterationStrip({ run, loopKey, step, selected, onPick }: { run: Run; loopKey: string; step: Step | null; selected?: number; onPick: (i: number) => void }) {
  const present = iterationsPresent(run.steps, loopKey);
  const failed = new Set(step?.iterations?.failed ?? []);
  const total = step?.iterations?.total ?? null;
  const done = step?.iterations?.done ?? 0;
  return (
    <div className="iter-strip-wrap">
      <div className="iter-summary">
        <span><strong>{done}</strong>{total != null && <> / {total}</>} iterations done</span>
        {failed.size > 0 && <span className="iter-failed-count">{failed.size} failed</span>}
      </div>
      <div className="iter-strip" data-testid="iter-strip">
        {present.slice(0, 400).map((i) => (
          <button
            key={i}
            type="button"
            className={`iter-cell st-${iterationState(run, loopKey, i, failed)}${selected === i ? ' selected' : ''}`}
            title={`Iteration ${i + 1}${failed.has(i) ? ' (failed)' : ''}`}
            onClick={() => onPick(i)}
          >
            {present.length <= 60 ? i + 1 : ''}
          </button>
        ))}
        {total != null && present.length < total && Array.from({ length: Math.min(total - present.length, 400 - Math.min(present.length, 400)) }, (_, j) => (
          <span key={`p${j}`} className="iter-cell st-waiting" />
        ))}
      </div>
    </div>
  );
}

export interface StepPanelProps {
  run: Run;
  id: string;
  index: Map<string, ModuleInfo>;
  node: NodeRun | undefined;
  selection: Record<string, number>;
  now: number;
  suspendedHere: boolean;
  onClose: () => void;
  onPickIteration: (loopId: string, i: number) => void;
  onApprovalDone: () => void;
}

function Meta({ step, now }: { step: Step | null; now: number }) {
  if (!step) return null;
  const d = durationMs(step.started_at, step.finished_at, now);
  return (
    <div className="sp-meta">
      {step.started_at && <span title={step.started_at}>Started {new Date(step.started_at).toLocaleTimeString()}</span>}
      {d !== null && <span>Duration <strong>{formatDuration(d)}</strong></span>}
      {(step.attempts ?? 0) > 1 && <span className="sp-attempts">Attempt {step.attempts}</span>}
      {step.approvers && step.approvers.length > 0 && (
        <span className="ap-approvers" data-testid="step-approvers">Approved by {step.approvers.map((a, i) => <span key={i} className="ap-approver">{approverName(a)}</span>)}</span>
      )}
    </div>
  );
}

export function StepPanel(p: StepPanelProps) {
  const { run, id } = p;
  if (id === '__input') {
    return (
      <aside className="step-panel" data-testid="step-panel">
        <PanelHead title="Flow input" sub="Arguments of this run" onClose={p.onClose} kind="input" />
        <div className="sp-body">
          <Section title="Arguments"><JsonView value={run.args ?? {}} testId="run-args" /></Section>
        </div>
      </aside>
    );
  }
  if (id === '__result') {
    const err = run.status === 'failure' && run.result && typeof run.result === 'object' && 'error' in (run.result as object) ? (run.result as { error: StepError }).error : null;
    return (
      <aside className="step-panel" data-testid="step-panel">
        <PanelHead title="Result" sub={isFinalRun(run.status) ? STATUS_LABEL[run.status] : 'Not finished yet'} onClose={p.onClose} kind="result" status={isFinalRun(run.status) ? run.status : undefined} />
        <div className="sp-body">
          {err && <Section title="Error"><ErrorBox error={err} /></Section>}
          <Section title="Flow result">
            {isFinalRun(run.status) ? <JsonView value={run.result ?? null} testId="run-result" /> : <div className="faint sp-empty">The flow is still {run.status}.</div>}
          </Section>
        </div>
      </aside>
    );
  }
  const info = p.index.get(id);
  if (!info) return null;
  const m = info.module;
  const step = p.node?.step ?? null;
  const status = p.node?.status ?? 'waiting';
  const live = status === 'running';
  const loopKey = info.isLoop ? keyFor(info, p.selection) : null;
  const schema = resumeFormSchema(run.suspended?.resume_form ?? null);
  const iterLabel = info.path.filter((s) => s.kind === 'loop').map((s) => `${s.id} #${(p.selection[s.id] ?? 0) + 1}`).join(' · ');
  return (
    <aside className="step-panel" data-testid="step-panel" data-step-key={p.node?.key ?? ''}>
      <PanelHead
        title={moduleTitle(m)}
        sub={<><span className="node-id">{m.id}</span> {info.isFailure ? 'Error handler' : kindLabel(visualKind(m))}{iterLabel && <span className="sp-iter"> · {iterLabel}</span>}</>}
        onClose={p.onClose}
        kind={info.isFailure ? 'failure' : visualKind(m)}
        status={p.node?.notRun ? undefined : status}
        notRun={p.node?.notRun}
      />
      <div className="sp-body">
        <Meta step={step} now={p.now} />
        {p.suspendedHere && run.suspended && (
          <Section title="Waiting for approval" testId="panel-approval">
            <ApprovalActions
              key={run.suspended.resume_url}
              resumeUrl={run.suspended.resume_url}
              cancelUrl={run.suspended.cancel_url}
              schema={schema}
              hideCancel={run.suspended.hide_cancel}
              requiredEvents={run.suspended.required_events}
              receivedEvents={run.suspended.received_events}
              approvers={run.suspended.approvers}
              timeoutAt={run.suspended.timeout_at}
              onDone={p.onApprovalDone}
            />
            {run.suspended.approval_page_url && (
              <div className="sp-share">
                <span className="label">Approval link for someone else</span>
                <CopyField value={new URL(run.suspended.approval_page_url, location.href).href} />
              </div>
            )}
          </Section>
        )}
        {loopKey && (
          <Section title="Iterations">
            <IterationStrip run={run} loopKey={loopKey} step={step} selected={p.selection[m.id]} onPick={(i) => p.onPickIteration(m.id, i)} />
          </Section>
        )}
        {m.value?.type === 'branchone' && chosenBranch(step?.branch_chosen) !== null && (
          <div className="sp-branch">Branch taken: <strong>{chosenBranch(step?.branch_chosen) === 'default' ? 'default' : `branch ${(chosenBranch(step?.branch_chosen) as number) + 1}`}</strong></div>
        )}
        {!step && (
          <div className="sp-empty faint">
            {p.node?.notRun ? 'This step did not run.' : p.node?.key === null ? 'No iteration of the enclosing loop has run yet.' : 'This step has not started yet.'}
          </div>
        )}
        {step?.error && <Section title="Error"><ErrorBox error={step.error} /></Section>}
        {step && step.args != null && (
          <Section title="Arguments" testId="panel-args"><JsonView value={step.args ?? {}} openDepth={2} testId="step-args" /></Section>
        )}
        {step && (isFinalStep(step) || (step.result !== undefined && step.result !== null)) && step.status !== 'failure' && (
          <Section title="Result" testId="panel-result"><JsonView value={step.result ?? null} openDepth={2} testId="step-result" /></Section>
        )}
        {step && !(info.isLoop || m.value?.type === 'branchone' || m.value?.type === 'branchall') && (
          <Section title="Logs" testId="panel-logs" right={live ? <span className="live-dot">live</span> : undefined}>
            <LogView text={step.logs ?? ''} live={live} />
          </Section>
        )}
      </div>
    </aside>
  );
}

function isFinalStep(s: Step): boolean {
  return s.status === 'success' || s.status === 'failure' || s.status === 'skipped' || s.status === 'canceled' || s.status === 'suspended';
}

function PanelHead({ title, sub, onClose, kind, status, notRun }: { title: string; sub: ReactNode; onClose: () => void; kind: Parameters<typeof KindIcon>[0]['kind']; status?: string; notRun?: boolean }) {
  return (
    <header className="sp-head">
      <KindIcon kind={kind} size={32} />
      <div className="sp-titles">
        <div className="sp-title" title={title}>{title}</div>
        <div className="sp-sub">{sub}</div>
      </div>
      {status && <span className={`badge ${status}`} data-testid="panel-status">{status === 'running' && <span className="spinner" />}{STATUS_LABEL[status as keyof typeof STATUS_LABEL] ?? status}</span>}
      {notRun && <span className="badge">Not run</span>}
      <button type="button" className="btn ghost icon sm" onClick={onClose} aria-label="Close panel" title="Close">✕</button>
    </header>
  );
}

export function CopyField({ value }: { value: string }) {
  const [done, setDone] = useState(false);
  return (
    <div className="copy-field">
      <input className="input mono" readOnly value={value} onFocus={(e) => e.target.select()} />
      <button type="button" className="btn sm" onClick={() => void navigator.clipboard?.writeText(value).then(() => { setDone(true); setTimeout(() => setDone(false), 1200); })}>
        {done ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
}
