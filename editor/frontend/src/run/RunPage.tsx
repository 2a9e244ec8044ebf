/** /runs/<id>: the live run view (graph, side panel, timeline, approvals). */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import './run.css';
import type { PageProps } from '../props';
import { defaultUrls } from '../props';
import { configureApi } from '../api';
import type { OpenFlow } from '../lib/openflow';
import { moduleTitle } from '../lib/kinds';
import { LiveClient, wsUrl, type Connection } from './liveClient';
import type { LiveState } from './liveState';
import { indexFlow, nodeRuns, resolveSelection, selectionForKey, suspendedModuleId, parseKey, type IterationSelection } from './keys';
import { RunGraph } from './RunGraph';
import { StepPanel } from './StepPanel';
import { Timeline } from './Timeline';
import { AppBar } from './AppBar';
import { Modal } from '../Modal';
import { StatusBadge, Toasts, useToasts } from './ui';
import { ApprovalProgress } from './ApprovalActions';
import { cancelRun, fetchRun, rerun, restartFrom, runPageUrl } from './runActions';
import { postSigned } from './resume';
import { durationMs, formatDuration, formatRelative } from './timing';
import { countLabel } from '../lib/text';
import { useNow } from './useNow';
import type { Run } from './types';
import { isFinalRun, resumeFormSchema } from './types';
import { fieldsOf } from './schemaForm';

function useLiveRun(runId: string) {
  const [state, setState] = useState<{ live: LiveState | null; connection: Connection; error: string | null }>({ live: null, connection: 'connecting', error: null });
  const clientRef = useRef<LiveClient | null>(null);
  useEffect(() => {
    // coalesce bursts of deltas (a fast loop sends hundreds a second): at most ~10 renders a second
    let frame = 0;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let last = 0;
    let latest: { live: LiveState; connection: Connection } | null = null;
    const flush = () => {
      frame = 0;
      timer = null;
      last = performance.now();
      if (latest) setState({ ...latest, error: null });
    };
    const schedule = () => {
      if (frame || timer) return;
      const wait = Math.max(0, 100 - (performance.now() - last));
      timer = setTimeout(() => {
        timer = null;
        frame = requestAnimationFrame(flush);
      }, wait);
    };
    const c = new LiveClient({
      url: wsUrl(`/ws/runs/${runId}/`),
      fetchSnapshot: () => fetchRun(runId),
      onState: (live, connection) => {
        latest = { live, connection };
        schedule();
      },
      onError: (error) => setState((s) => ({ ...s, error })),
    });
    clientRef.current = c;
    c.start();
    // debug / tests: the current client (no reload needed to inspect it)
    (window as unknown as { __ofsLive?: LiveClient }).__ofsLive = c;
    const onVisible = () => document.visibilityState === 'visible' && void c.refresh();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      document.removeEventListener('visibilitychange', onVisible);
      if (frame) cancelAnimationFrame(frame);
      if (timer) clearTimeout(timer);
      c.stop();
    };
  }, [runId]);
  const refresh = useCallback(() => clientRef.current?.refresh() ?? Promise.resolve(), []);
  return { run: state.live?.run ?? null, connection: state.connection, error: state.error, refresh };
}

/** A flow object whose identity only changes when its content does (so the graph never re-lays out). */
function useStableFlow(flow: OpenFlow | null | undefined): OpenFlow | null {
  const json = useMemo(() => (flow ? JSON.stringify(flow) : ''), [flow]);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  return useMemo(() => (flow ? flow : null), [json]);
}

function ConnectionPill({ c, final }: { c: Connection; final: boolean }) {
  if (final || c === 'done') return null;
  const label = c === 'live' ? 'Live' : c === 'connecting' ? 'Connecting…' : 'Reconnecting…';
  return <span className={`conn-pill conn-${c}`} data-testid="connection" data-connection={c}><span className="conn-dot" />{label}</span>;
}

export default function RunPage({ props }: { props: PageProps }) {
  const runId = String(props.run_id ?? '');
  const urls = { ...defaultUrls, ...(props.urls ?? {}) };
  useMemo(() => configureApi({ csrfToken: props.csrf_token, base: urls.api }), [props.csrf_token, urls.api]);
  const { run, connection, error, refresh } = useLiveRun(runId);
  const [toasts, toast] = useToasts();
  const [userSel, setUserSel] = useState<IterationSelection>({});
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [picking, setPicking] = useState(false);
  const [restartCandidate, setRestartCandidate] = useState<string | null>(null);
  const [confirmCancelRun, setConfirmCancelRun] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);
  const [timelineOpen, setTimelineOpen] = useState(true);

  const flow = useStableFlow(run?.flow);
  const index = useMemo(() => indexFlow(flow), [flow]);
  const final = isFinalRun(run?.status);
  const now = useNow(!!run && (!final || !!run.suspended));
  const steps = run?.steps ?? [];
  const selection = useMemo(() => resolveSelection(index, steps, userSel), [index, steps, userSel]);
  const nodes = useMemo(() => nodeRuns(index, steps, selection, final), [index, steps, selection, final]);
  const titles = useMemo(() => new Map([...index].map(([id, i]) => [id, moduleTitle(i.module)])), [index]);

  const susp = run?.suspended ?? null;
  const suspId = suspendedModuleId(susp);
  const suspNode = suspId ? nodes.get(suspId) : undefined;
  const suspVisible = !!susp && !!suspNode && (suspNode.key === susp.step || suspNode.key === suspId || suspNode.status === 'suspended');
  const schema = resumeFormSchema(susp?.resume_form ?? null);
  const formHasFields = fieldsOf(schema).length > 0;

  useEffect(() => {
    if (run) document.title = `${run.status === 'running' ? '▶ ' : run.status === 'suspended' ? '⏸ ' : ''}${run.flow?.summary || run.flow_path || 'Run'} · OpenFlow Studio`;
  }, [run?.status, run?.flow?.summary, run?.flow_path]); // eslint-disable-line react-hooks/exhaustive-deps

  const onSelect = useCallback(
    (id: string | null) => {
      if (picking) {
        const info = id ? index.get(id) : undefined;
        if (info && info.path.length === 0 && !info.isFailure) setRestartCandidate(id);
        else if (id) toast('Pick a top-level step (not one inside a loop or branch)', true);
        return;
      }
      setSelectedId(id);
    },
    [picking, index, toast],
  );

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || document.querySelector('.modal-backdrop')) return;
      if (picking) setPicking(false);
      else setSelectedId(null);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [picking]);

  const pickIteration = useCallback((loopId: string, i: number) => setUserSel((s) => ({ ...s, [loopId]: i })), []);

  const pickKey = useCallback((key: string) => {
    setUserSel((s) => ({ ...s, ...selectionForKey(key) }));
    setSelectedId(parseKey(key).moduleId);
  }, []);

  const approveFromNode = async () => {
    if (!susp || !suspId) return;
    if (formHasFields) {
      setSelectedId(suspId);
      setTimeout(() => document.querySelector('[data-testid="panel-approval"] input, [data-testid="panel-approval"] select, [data-testid="panel-approval"] textarea')?.scrollIntoView({ block: 'center' }), 50);
      return;
    }
    setBusy('approve');
    const r = await postSigned(susp.resume_url, null);
    setBusy(null);
    if (r.ok) toast('Approved');
    else toast(r.message, true);
    void refresh();
  };
  const cancelFromNode = async () => {
    if (!susp) return;
    setBusy('approve');
    const r = await postSigned(susp.cancel_url, null);
    setBusy(null);
    if (r.ok) toast('Approval canceled');
    else toast(r.message, true);
    void refresh();
  };

  const doCancelRun = async () => {
    setBusy('cancel');
    try {
      await cancelRun(runId);
      toast('Run canceled');
    } catch (e) {
      toast((e as Error).message, true);
    }
    setBusy(null);
    setConfirmCancelRun(false);
    void refresh();
  };
  const doRerun = async () => {
    if (!run) return;
    setBusy('rerun');
    try {
      const r = await rerun(run);
      location.href = runPageUrl(urls.runs, r.id);
    } catch (e) {
      toast((e as Error).message, true);
      setBusy(null);
    }
  };
  const doRestart = async () => {
    if (!restartCandidate) return;
    setBusy('restart');
    try {
      const r = await restartFrom(runId, restartCandidate);
      location.href = runPageUrl(urls.runs, r.id);
    } catch (e) {
      toast((e as Error).message, true);
      setBusy(null);
      setRestartCandidate(null);
      setPicking(false);
    }
  };

  if (!run) {
    return (
      <div className="run-page">
        <AppBar props={props} active="runs" />
        <div className="run-loading">{error ? <span className="error-text">{error}</span> : <><span className="spinner" /> Loading run…</>}</div>
      </div>
    );
  }

  const total = durationMs(run.started_at ?? run.created_at, run.finished_at, now);
  const title = run.flow?.summary?.trim() || run.flow_path || 'Preview run';

  return (
    <div className={`run-page status-${run.status}`} data-testid="run-page" data-run-status={run.status}>
      <AppBar props={props} active="runs" />
      <div className="run-header">
        <div className="rh-main">
          <div className="rh-title-row">
            <h1 className="rh-title" title={title}>{title}</h1>
            <StatusBadge status={run.status} large testId="run-status" />
            {run.skipped && <span className="badge">skipped</span>}
            <ConnectionPill c={connection} final={final} />
          </div>
          <div className="rh-sub">
            {run.flow_path ? <a href={`${urls.flows.endsWith('/') ? urls.flows : urls.flows + '/'}${run.flow_path}/edit`} className="mono" title="Open in the editor">{run.flow_path}</a> : <span className="muted">preview (unsaved flow)</span>}
            <span className="rh-sep">·</span>
            <span className="mono faint" title={run.id}>#{run.id.slice(0, 8)}</span>
            <span className="rh-sep">·</span>
            <span title={run.created_at ?? ''}>created {formatRelative(run.created_at, now)}{run.created_by ? <> by {String(run.created_by)}</> : null}</span>
            {run.restarted_from ? (<><span className="rh-sep">·</span><span>restarted from <a className="mono" href={runPageUrl(urls.runs, String(run.restarted_from))}>#{String(run.restarted_from).slice(0, 8)}</a></span></>) : null}
            {total !== null && (<><span className="rh-sep">·</span><span data-testid="run-duration">{final ? 'took' : 'running for'} <strong>{formatDuration(total)}</strong></span></>)}
          </div>
        </div>
        <div className="rh-actions">
          {!final && (
            <button type="button" className="btn danger" data-testid="cancel-run" disabled={!!busy} onClick={() => setConfirmCancelRun(true)}>Cancel run</button>
          )}
          {final && (
            <button type="button" className={`btn${picking ? ' primary' : ''}`} data-testid="restart-from" disabled={!!busy} onClick={() => { setPicking(!picking); setRestartCandidate(null); }}>
              {picking ? 'Pick a step…' : 'Restart from step'}
            </button>
          )}
          <button type="button" className="btn primary" data-testid="rerun" disabled={!!busy} onClick={() => void doRerun()}>
            {busy === 'rerun' ? <span className="spinner" /> : '↻'} Re-run
          </button>
        </div>
      </div>

      {picking && (
        <div className="run-banner pick" data-testid="pick-banner">
          Click the top-level step to restart from. The steps before it keep this run's results.
          <button type="button" className="btn sm" onClick={() => setPicking(false)}>Done</button>
        </div>
      )}
      {susp && !picking && (
        <div className="run-banner suspended" data-testid="suspended-banner">
          <span className="rb-icon"><svg width="10" height="10" viewBox="0 0 10 10" fill="currentColor" aria-hidden><rect x="1.5" y="1" width="2.4" height="8" rx="0.6" /><rect x="6.1" y="1" width="2.4" height="8" rx="0.6" /></svg></span>
          <span>Waiting for approval on <strong>{suspId && titles.get(suspId)}</strong> <span className="node-id">{suspId}</span></span>
          <ApprovalProgress requiredEvents={susp.required_events} receivedEvents={susp.received_events} approvers={susp.approvers} timeoutAt={susp.timeout_at} />
          <button type="button" className="btn sm" onClick={() => suspId && (setUserSel((s) => ({ ...s, ...selectionForKey(susp.step) })), setSelectedId(suspId))}>Review</button>
        </div>
      )}
      {run.status === 'failure' && !picking && (
        <div className="run-banner failure" data-testid="failure-banner">
          <span className="rb-icon"><svg width="10" height="10" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="3.2" strokeLinecap="round" aria-hidden><path d="M6 6l12 12M18 6 6 18" /></svg></span>
          <FailureSummary run={run} titles={titles} onPick={pickKey} />
        </div>
      )}

      <div className="run-main">
        <div className="run-graph-col">
          {flow ? (
            <RunGraph
              flow={flow}
              run={run}
              index={index}
              nodes={nodes}
              selection={selection}
              now={now}
              selectedId={picking ? restartCandidate : selectedId}
              onSelect={onSelect}
              onSelectIteration={pickIteration}
              suspendedId={suspVisible ? suspId : null}
              onApprove={() => void approveFromNode()}
              onCancelApproval={() => void cancelFromNode()}
              approvalBusy={busy === 'approve'}
              picking={picking}
            />
          ) : (
            <div className="run-loading faint">This run has no flow to draw.</div>
          )}
        </div>
        {selectedId && !picking && (
          <StepPanel
            key={selectedId}
            run={run}
            id={selectedId}
            index={index}
            node={nodes.get(selectedId)}
            selection={selection}
            now={now}
            suspendedHere={!!susp && selectedId === suspId}
            onClose={() => setSelectedId(null)}
            onPickIteration={pickIteration}
            onApprovalDone={() => {
              toast('Done');
              void refresh();
            }}
          />
        )}
      </div>

      <div className={`run-timeline${timelineOpen ? ' open' : ''}`}>
        <button type="button" className="rt-head" onClick={() => setTimelineOpen(!timelineOpen)}>
          <span className="sp-caret">{timelineOpen ? '▾' : '▸'}</span> Timeline
          <span className="faint">{countLabel(run.steps.filter((s) => s.started_at).length, 'step')}</span>
        </button>
        {timelineOpen && (
          <Timeline run={run} now={now} titles={titles} selectedKey={selectedId ? nodes.get(selectedId)?.key ?? null : null} onPick={pickKey} />
        )}
      </div>

      {confirmCancelRun && (
        <Modal title="Cancel this run?" onClose={() => setConfirmCancelRun(false)} testId="cancel-run-modal"
          footer={<><button type="button" className="btn" onClick={() => setConfirmCancelRun(false)}>Keep running</button>
            <button type="button" className="btn danger solid" data-testid="confirm-cancel-run" disabled={busy === 'cancel'} onClick={() => void doCancelRun()}>Cancel run</button></>}>
          Running steps are stopped and nothing else starts. The run ends as <strong>canceled</strong>.
        </Modal>
      )}
      {restartCandidate && picking && (
        <Modal title="Restart from this step?" onClose={() => setRestartCandidate(null)} testId="restart-modal"
          footer={<><button type="button" className="btn" onClick={() => setRestartCandidate(null)}>Back</button>
            <button type="button" className="btn primary" data-testid="confirm-restart" disabled={busy === 'restart'} onClick={() => void doRestart()}>Restart</button></>}>
          A new run starts at <strong>{titles.get(restartCandidate)}</strong> <span className="node-id">{restartCandidate}</span> with the same inputs;
          the steps before it reuse this run's results.
        </Modal>
      )}
      <Toasts toasts={toasts} />
    </div>
  );
}

function FailureSummary({ run, titles, onPick }: { run: Run; titles: Map<string, string>; onPick: (key: string) => void }) {
  // the cause: the last step that failed (a failed iteration of a loop that skips failures is not it)
  const failed = run.steps
    .filter((s) => s.status === 'failure' && s.key !== 'failure')
    .sort((a, b) => (a.finished_at ?? '').localeCompare(b.finished_at ?? ''));
  const first = failed[failed.length - 1] ?? run.steps.find((s) => s.status === 'failure');
  const err = first?.error ?? (run.result as { error?: unknown } | null)?.error;
  const msg = typeof err === 'string' ? err : (err as { message?: string } | undefined)?.message;
  const name = typeof err === 'object' && err ? (err as { name?: string }).name : undefined;
  return (
    <span className="fs-text">
      {first ? <>Failed at <button type="button" className="link-btn" onClick={() => onPick(first.key)}>{titles.get(first.module_id) ?? first.module_id}</button></> : 'The run failed'}
      {msg && <>: <span className="mono">{name ? `${name}: ` : ''}{msg.length > 160 ? msg.slice(0, 160) + '…' : msg}</span></>}
    </span>
  );
}
