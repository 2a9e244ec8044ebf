/** The flow editor page: canvas + palette + side panel + toolbar; all edits go through the undo history. */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import './editor.css';
import type { PageProps } from '../props';
import { api, ApiError, configureApi, encodePath, type ApiErrorItem } from '../api';
import { type FlowModule, type InsertPoint, type OpenFlow, type JSONSchema, emptyFlow, findModule, allModuleIds, ROOT, walkModules } from '../lib/openflow';
import { createHistory, push, undo as hUndo, redo as hRedo, canUndo, canRedo, type History } from '../lib/history';
import { addBranch, duplicateModule, EditError, insertModule, moveModule, pasteModule, removeBranch, removeModule, renameModule, setFailureModule, updateModule } from '../lib/edits';
import { KINDS, makeModule, type KindId } from '../lib/kinds';
import { nextId } from '../lib/ids';
import { errorsByModule } from '../lib/errorPaths';
import { type RunLike, type RunStepLike, evalExpr, scopeFor, statusByModule, truncateValue } from '../lib/context';
import { useLiveRun } from './useLiveRun';
import type { Connection } from '../run/liveClient';
import { resumeFormSchema, type Suspended } from '../run/types';
import { ApprovalActions } from '../run/ApprovalActions';
import { formatDuration } from '../graph';
import { moduleTitle } from '../lib/kinds';
import { FlowGraph, KIND_MIME, KindIcon, Icon, INPUT_ID, RESULT_ID } from '../graph';
import { ModulePanel } from './ModulePanel';
import { SchemaEditor } from './SchemaEditor';
import { ShortcutSheet, SourceModal, TestFlowModal, VersionsModal } from './Modals';
import { initialArgs } from './SchemaForm';
import { ValueTree } from './ValueTree';
import { ThemeToggle } from '../ui/ThemeToggle';
import { useToasts } from '../ui/toasts';

const CLIP_KEY = 'ofs-clipboard';
const FINAL = new Set(['success', 'failure', 'canceled']);

function isTyping(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  if (!el) return false;
  return el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable || !!el.closest?.('.cm-editor');
}

function stripPath(f: OpenFlow & { path?: string }): OpenFlow {
  const { path: _p, ...rest } = f;
  void _p;
  return rest as OpenFlow;
}

export default function EditorPage({ props }: { props: PageProps }) {
  configureApi({ csrfToken: props.csrf_token, base: props.urls?.api });
  const initialPath = (props.path as string | null) ?? null;
  const [savedPath, setSavedPath] = useState<string | null>(initialPath);
  const [pathText, setPathText] = useState(initialPath ?? `u/${props.user?.username ?? 'me'}/untitled_flow`);
  const [hist, setHist] = useState<History<OpenFlow>>(() => createHistory(emptyFlow('')));
  const flow = hist.present;
  const [savedJson, setSavedJson] = useState<string>(() => JSON.stringify(emptyFlow('')));
  const [loading, setLoading] = useState(!!initialPath);
  const [loadError, setLoadError] = useState('');
  const [selected, setSelected] = useState<string | null>(null);
  const [focusSlot, setFocusSlot] = useState<number | 'default' | undefined>();
  const [modal, setModal] = useState<null | 'source' | 'versions' | 'shortcuts' | 'test'>(null);
  const [saving, setSaving] = useState(false);
  const [valErrors, setValErrors] = useState<ApiErrorItem[]>([]);
  const [runOpen, setRunOpen] = useState(false);
  const [testArgs, setTestArgs] = useState<Record<string, unknown>>({});
  const [scripts, setScripts] = useState<Array<{ path: string; summary?: string }>>([]);
  const { toast, toasts } = useToasts();

  const dirty = useMemo(() => JSON.stringify(flow) !== savedJson, [flow, savedJson]);

  // ---- load
  const load = useCallback(async (path: string) => {
    setLoading(true);
    try {
      const f = stripPath(await api.get<OpenFlow>(`flows/${encodePath(path)}`));
      setHist(createHistory(f));
      setSavedJson(JSON.stringify(f));
      setLoadError('');
    } catch (e) {
      setLoadError((e as Error).message);
    } finally {
      setLoading(false);
    }
  }, []);
  useEffect(() => {
    performance.mark('ofs-editor-mounted');
    if (initialPath) void load(initialPath);
    api.get<{ results?: Array<{ path: string; summary?: string }> }>('scripts/').then((r) => setScripts(r.results ?? []), () => undefined);
    try {
      const a = localStorage.getItem(`ofs-test-args:${initialPath ?? 'new'}`);
      if (a) setTestArgs(JSON.parse(a));
    } catch {
      /* ignore */
    }
  }, [initialPath, load]);

  // ---- edits
  const edit = useCallback((fn: (f: OpenFlow) => OpenFlow, key?: string) => {
    setHist((h) => {
      const next = fn(h.present);
      return next === h.present ? h : push(h, next, { key });
    });
  }, []);
  const undo = useCallback(() => setHist(hUndo), []);
  const redo = useCallback(() => setHist(hRedo), []);

  const insertKind = useCallback((point: InsertPoint, kind: KindId) => {
    let newId = '';
    edit((f) => {
      newId = nextId(allModuleIds(f));
      return insertModule(f, point, makeModule(kind, newId));
    });
    setTimeout(() => setSelected(newId), 0);
  }, [edit]);

  const appendKind = useCallback((kind: KindId) => insertKind({ list: ROOT, index: flow.value.modules.length }, kind), [insertKind, flow.value.modules.length]);

  const del = useCallback((id: string) => {
    edit((f) => removeModule(f, id));
    setSelected((s) => (s === id ? null : s));
  }, [edit]);

  const duplicate = useCallback((id: string) => {
    let nid: string | null = null;
    edit((f) => {
      const r = duplicateModule(f, id);
      nid = r.id;
      return r.flow;
    });
    setTimeout(() => nid && setSelected(nid), 0);
  }, [edit]);

  const copy = useCallback((id: string) => {
    const loc = findModule(flow, id);
    if (!loc) return;
    localStorage.setItem(CLIP_KEY, JSON.stringify(loc.module));
    toast(`Copied step ${id}`);
  }, [flow, toast]);

  const clipboard = (): FlowModule | null => {
    try {
      const t = localStorage.getItem(CLIP_KEY);
      return t ? (JSON.parse(t) as FlowModule) : null;
    } catch {
      return null;
    }
  };

  const pasteAt = useCallback((point: InsertPoint) => {
    const m = clipboard();
    if (!m) return toast('Nothing to paste: copy a step with Ctrl+C first');
    let nid = '';
    edit((f) => {
      const r = pasteModule(f, point, m);
      nid = r.id;
      return r.flow;
    });
    setTimeout(() => setSelected(nid), 0);
  }, [edit, toast]);

  const pasteAfterSelection = useCallback(() => {
    const loc = selected ? findModule(flow, selected) : null;
    if (loc && loc.list.parent !== '__failure__') pasteAt({ list: loc.list, index: loc.index + 1 });
    else pasteAt({ list: ROOT, index: flow.value.modules.length });
  }, [flow, selected, pasteAt]);

  const addFailure = useCallback(() => {
    edit((f) =>
      setFailureModule(f, {
        id: 'failure',
        summary: 'Error handler',
        value: {
          type: 'rawscript', language: 'python3',
          content: 'def main(message: str = "", name: str = ""):\n    # runs when a step fails; return {"recover": True} to mark the flow successful\n    return {"error": message, "name": name}\n',
          input_transforms: { message: { type: 'javascript', expr: 'error.message' }, name: { type: 'javascript', expr: 'error.name' } },
        },
      }),
    );
    setSelected('failure');
  }, [edit]);

  // ---- validation (debounced, server side)
  useEffect(() => {
    const t = setTimeout(() => {
      api.post<{ errors: ApiErrorItem[] }>('flows/validate', { flow }).then((r) => setValErrors(r.errors ?? []), () => undefined);
    }, 600);
    return () => clearTimeout(t);
  }, [flow]);
  const located = useMemo(() => errorsByModule(flow, valErrors), [flow, valErrors]);
  const errorsForGraph = useMemo(() => {
    const out: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(located.byModule)) out[k] = v.map((e) => (e.field ? `${e.field}: ` : '') + e.message);
    return out;
  }, [located]);

  // ---- save
  const save = useCallback(async () => {
    const path = pathText.trim();
    if (!path) return toast('Give the flow a path first, e.g. f/folder/name', true);
    setSaving(true);
    try {
      const body = { ...flow, path };
      if (savedPath) await api.put(`flows/${encodePath(savedPath)}`, body);
      else {
        await api.post('flows/', body);
        setSavedPath(path);
        window.history.replaceState(null, '', `/flows/${path}/edit`);
      }
      setSavedJson(JSON.stringify(flow));
      toast('Saved');
    } catch (e) {
      if (e instanceof ApiError) {
        setValErrors(e.errors);
        toast(e.errors.map((x) => x.message).slice(0, 2).join('; ') || e.message, true);
      } else toast((e as Error).message, true);
    } finally {
      setSaving(false);
    }
  }, [flow, pathText, savedPath, toast]);

  // ---- runs (live over the run WebSocket)
  const live = useLiveRun(useCallback((m: string) => toast(m, true), [toast]));
  const lastRun = live.run;

  const startRun = useCallback(async (f: OpenFlow, args: Record<string, unknown>, merge?: (r: RunLike) => RunLike) => {
    try {
      const run = await api.post<RunLike>('runs/', { flow: f, args });
      setRunOpen(true);
      live.start(run.id, merge);
      return true;
    } catch (e) {
      const msg = e instanceof ApiError && e.errors.length ? e.errors.map((x) => (x.path ? `${x.path}: ` : '') + x.message).slice(0, 3).join('; ') : (e as Error).message;
      toast(`Could not start the test run: ${msg}`, true);
      return false;
    }
  }, [live, toast]);

  const testFlow = useCallback(async (args: Record<string, unknown>) => {
    setTestArgs(args);
    localStorage.setItem(`ofs-test-args:${savedPath ?? 'new'}`, JSON.stringify(args));
    if (await startRun(flow, args)) setModal(null); // on a refusal (e.g. args failing the schema) the form stays open
  }, [flow, savedPath, startRun]);

  const testStep = useCallback((id: string) => {
    const loc = findModule(flow, id);
    if (!loc) return;
    const scope = scopeFor(flow, id, lastRun, testArgs);
    const m = structuredClone(loc.module);
    const v = m.value as { input_transforms?: Record<string, { type: string; expr?: string; value?: unknown }> };
    for (const [k, t] of Object.entries(v.input_transforms ?? {})) {
      if (t.type === 'javascript' && t.expr !== undefined) {
        try {
          v.input_transforms![k] = { type: 'static', value: evalExpr(t.expr, scope) };
        } catch {
          /* keep the expression; the server evaluates it */
        }
      }
    }
    delete m.suspend;
    delete m.stop_after_if;
    delete m.sleep;
    const one: OpenFlow = { summary: `Test step ${id}`, value: { modules: [m] }, schema: flow.schema };
    const prev = lastRun;
    void startRun(one, { ...scope.flow_input }, (r) => ({
      ...r,
      args: prev?.args ?? r.args,
      steps: [...(prev?.steps ?? []).filter((s) => s.module_id !== id), ...(r.steps ?? [])],
    }));
  }, [flow, lastRun, testArgs, startRun]);

  const testUpTo = useCallback((id: string) => {
    const loc = findModule(flow, id);
    if (!loc) return;
    const top = loc.ancestors[0] ?? id;
    const idx = flow.value.modules.findIndex((m) => m.id === top);
    const truncated: OpenFlow = { ...flow, value: { ...flow.value, modules: flow.value.modules.slice(0, idx + 1) } };
    void startRun(truncated, initialArgs(flow.schema, testArgs));
  }, [flow, testArgs, startRun]);

  const statusByKey = useMemo(() => {
    if (!lastRun || !runOpen) return undefined;
    const s: Record<string, string> = statusByModule(lastRun);
    if (FINAL.has(lastRun.status)) s[RESULT_ID] = lastRun.status;
    return s as Record<string, never>;
  }, [lastRun, runOpen]);

  // ---- keyboard
  const keyRef = useRef<(e: KeyboardEvent) => void>(() => undefined);
  keyRef.current = (e: KeyboardEvent) => {
    const mod = e.ctrlKey || e.metaKey;
    const k = e.key.toLowerCase();
    if (mod && k === 's') {
      e.preventDefault();
      void save();
      return;
    }
    if (modal) return;
    if (mod && k === 'enter') {
      e.preventDefault();
      setModal('test');
      return;
    }
    if (isTyping(e.target)) return;
    if (mod && k === 'z' && !e.shiftKey) {
      e.preventDefault();
      undo();
    } else if (mod && ((k === 'z' && e.shiftKey) || k === 'y')) {
      e.preventDefault();
      redo();
    } else if (mod && k === 'c' && selected && findModule(flow, selected)) {
      e.preventDefault();
      copy(selected);
    } else if (mod && k === 'v') {
      e.preventDefault();
      pasteAfterSelection();
    } else if (mod && k === 'd' && selected && findModule(flow, selected)) {
      e.preventDefault();
      duplicate(selected);
    } else if ((e.key === 'Delete' || e.key === 'Backspace') && selected && findModule(flow, selected)) {
      e.preventDefault();
      del(selected);
    } else if (e.key === 'Escape') setSelected(null);
    else if (e.key === '?') setModal('shortcuts');
  };
  useEffect(() => {
    const h = (e: KeyboardEvent) => keyRef.current(e);
    window.addEventListener('keydown', h);
    return () => window.removeEventListener('keydown', h);
  }, []);

  // ---- unsaved changes
  useEffect(() => {
    const h = (e: BeforeUnloadEvent) => {
      if (dirty) {
        e.preventDefault();
        e.returnValue = '';
      }
    };
    window.addEventListener('beforeunload', h);
    return () => window.removeEventListener('beforeunload', h);
  }, [dirty]);

  const onSelect = useCallback((id: string | null, info?: { slot?: number | 'default' }) => {
    setSelected(id);
    setFocusSlot(info?.slot);
  }, []);
  const onNodeAction = useCallback((id: string, a: 'delete' | 'duplicate') => (a === 'delete' ? del(id) : duplicate(id)), [del, duplicate]);
  const onMove = useCallback((id: string, point: InsertPoint) => edit((f) => moveModule(f, id, point)), [edit]);

  const selModule = selected && selected !== INPUT_ID && selected !== RESULT_ID ? findModule(flow, selected)?.module ?? (flow.value.failure_module?.id === selected ? flow.value.failure_module : null) : null;

  if (loading) return <div className="page-loading">Loading flow…</div>;
  if (loadError) return <div className="page-loading"><div><h2>Could not load the flow</h2><p className="error-text">{loadError}</p><a href={props.urls?.flows ?? '/flows/'}>Back to flows</a></div></div>;

  return (
    <div className="editor-page">
      <header className="editor-toolbar">
        <a className="btn ghost icon" href={props.urls?.flows ?? '/flows/'} title="All flows" data-testid="back" onClick={(e) => { if (dirty && !confirm('Leave without saving?')) e.preventDefault(); }}><Icon name="back" /></a>
        <div className="toolbar-title">
          <input className="title-input big" value={flow.summary ?? ''} placeholder="Untitled flow" onChange={(e) => edit((f) => ({ ...f, summary: e.target.value }), 'flow-summary')} aria-label="Flow summary" data-testid="flow-summary" />
          {savedPath ? (
            <span className="path-label mono" title="Path">{savedPath}</span>
          ) : (
            <input className="input mono path-input" value={pathText} onChange={(e) => setPathText(e.target.value)} aria-label="Flow path" data-testid="flow-path" placeholder="f/folder/name" />
          )}
        </div>
        {dirty ? <span className="badge suspended" data-testid="dirty">Unsaved</span> : savedPath ? <span className="badge success">Saved</span> : null}
        {valErrors.length > 0 && <span className="badge failure" title={valErrors.map((e) => `${e.path}: ${e.message}`).join('\n')} data-testid="error-count"><Icon name="alert" size={12} /> {valErrors.length}</span>}
        <span className="grow" />
        <button className="btn ghost icon" onClick={undo} disabled={!canUndo(hist)} title="Undo (Ctrl+Z)" data-testid="undo"><Icon name="undo" /></button>
        <button className="btn ghost icon" onClick={redo} disabled={!canRedo(hist)} title="Redo (Ctrl+Shift+Z)" data-testid="redo"><Icon name="redo" /></button>
        <button className="btn ghost" onClick={() => setModal('source')} title="JSON / YAML" data-testid="open-source"><Icon name="braces" /> Source</button>
        <button className="btn ghost" onClick={() => setModal('versions')} disabled={!savedPath} title="Version history" data-testid="open-history"><Icon name="history" /> History</button>
        <button className="btn ghost icon" onClick={() => setModal('shortcuts')} title="Keyboard shortcuts (?)"><Icon name="keyboard" /></button>
        <ThemeToggle />
        <button className="btn" onClick={() => setModal('test')} data-testid="test-flow"><Icon name="play" size={14} /> Test flow</button>
        <button className="btn primary" onClick={() => void save()} disabled={saving} data-testid="save"><Icon name="save" size={14} /> {saving ? 'Saving…' : 'Save'}</button>
      </header>
      <div className="editor-main">
        <Palette onAdd={appendKind} />
        <div className="canvas-wrap">
          <FlowGraph
            flow={flow}
            selectedId={selected}
            onSelect={onSelect}
            errorsByModule={errorsForGraph}
            statusByKey={statusByKey}
            onInsert={insertKind}
            onMove={onMove}
            onPaste={clipboard() ? pasteAt : undefined}
            onAddFailure={addFailure}
            onNodeAction={onNodeAction}
          />
          {flow.value.modules.length === 0 && (
            <div className="canvas-hint">
              <b>Start your flow</b>
              <span>Drag a step from the left onto the canvas, or click the <span className="plus-dot">+</span> between Input and Result.</span>
            </div>
          )}
          {runOpen && lastRun && <RunDrawer run={lastRun} flow={flow} connection={live.connection} onRefresh={live.refresh} onSelect={setSelected} onClose={() => setRunOpen(false)} />}
        </div>
        {selModule && (
          <ModulePanel
            key={selModule.id}
            flow={flow}
            module={selModule}
            isFailure={flow.value.failure_module?.id === selModule.id}
            patch={(fn, key) => edit((f) => updateModule(f, selModule.id, fn), key ? `${selModule.id}:${key}` : undefined)}
            rename={(n) => {
              try {
                edit((f) => renameModule(f, selModule.id, n));
                setSelected(n);
                return null;
              } catch (e) {
                return e instanceof EditError ? e.message : String(e);
              }
            }}
            onClose={() => setSelected(null)}
            onDelete={() => del(selModule.id)}
            onAddBranch={() => edit((f) => addBranch(f, selModule.id))}
            onRemoveBranch={(i) => edit((f) => removeBranch(f, selModule.id, i))}
            lastRun={lastRun}
            testArgs={testArgs}
            errors={located.byModule[selModule.id] ?? []}
            onTestStep={() => testStep(selModule.id)}
            onTestUpTo={() => testUpTo(selModule.id)}
            toast={toast}
            focusSlot={focusSlot}
            scripts={scripts}
          />
        )}
        {selected === INPUT_ID && (
          <aside className="side-panel" data-testid="input-panel">
            <div className="panel-head">
              <KindIcon kind="input" size={28} />
              <div className="grow"><div className="panel-title">Flow inputs</div><div className="hint">What the flow receives as <code>flow_input</code></div></div>
              <button type="button" className="btn ghost icon" onClick={() => setSelected(null)}><Icon name="close" /></button>
            </div>
            <div className="panel-body">
              <div className="field"><label>Description</label><textarea className="input" rows={2} style={{ fontFamily: 'var(--font)' }} value={flow.description ?? ''} onChange={(e) => edit((f) => ({ ...f, description: e.target.value }), 'flow-desc')} /></div>
              <h4 className="sub-head">Input fields</h4>
              <SchemaEditor schema={flow.schema ?? { type: 'object', properties: {}, required: [] }} onChange={(schema: JSONSchema) => edit((f) => ({ ...f, schema }), 'schema')} />
              {located.flowLevel.length > 0 && (
                <div className="panel-errors">{located.flowLevel.map((e, i) => <div key={i} className="error-text"><code>{e.path}</code> {e.message}</div>)}</div>
              )}
            </div>
          </aside>
        )}
      </div>
      {modal === 'source' && <SourceModal flow={flow} onApply={(f) => edit(() => f)} onClose={() => setModal(null)} />}
      {modal === 'versions' && savedPath && <VersionsModal path={savedPath} current={flow} onClose={() => setModal(null)} onRestored={() => { void load(savedPath); toast('Version restored'); }} />}
      {modal === 'shortcuts' && <ShortcutSheet onClose={() => setModal(null)} />}
      {modal === 'test' && <TestFlowModal schema={flow.schema} args={initialArgs(flow.schema, testArgs)} onRun={(a) => void testFlow(a)} onClose={() => setModal(null)} />}
      {toasts}
    </div>
  );
}

function Palette({ onAdd }: { onAdd: (k: KindId) => void }) {
  const groups = ['Scripts', 'Flow control', 'Other'] as const;
  return (
    <nav className="palette" aria-label="Steps" data-testid="palette">
      {groups.map((g) => (
        <div key={g} className="palette-group">
          <div className="palette-title">{g}</div>
          {KINDS.filter((k) => k.group === g).map((k) => (
            <div
              key={k.id}
              className="palette-item"
              draggable
              data-kind={k.id}
              data-testid={`palette-${k.id}`}
              title={`${k.description} — drag onto the graph, or click to append`}
              onDragStart={(e) => {
                e.dataTransfer.setData(KIND_MIME, k.id);
                e.dataTransfer.effectAllowed = 'copy';
              }}
              onClick={() => onAdd(k.id)}
              role="button"
              tabIndex={0}
              onKeyDown={(e) => e.key === 'Enter' && onAdd(k.id)}
            >
              <KindIcon kind={k.id} size={24} />
              <span>{k.label}</span>
            </div>
          ))}
        </div>
      ))}
      <div className="palette-foot hint">Drag onto an edge or an empty body. <kbd>?</kbd> for shortcuts.</div>
    </nav>
  );
}

function stepDuration(s: RunStepLike & { started_at?: string | null; finished_at?: string | null }): string {
  if (!s.started_at) return '';
  const end = s.finished_at ? Date.parse(s.finished_at) : Date.now();
  return formatDuration(end - Date.parse(s.started_at));
}

function RunDrawer({ run, flow, connection, onRefresh, onSelect, onClose }: {
  run: RunLike; flow: OpenFlow; connection: Connection | null; onRefresh: () => void; onSelect: (id: string) => void; onClose: () => void;
}) {
  const r = run as RunLike & { suspended?: Suspended | null; error?: unknown };
  const result = useMemo(() => truncateValue(run.result), [run.result]);
  const steps = (run.steps ?? []) as Array<RunStepLike & { error?: unknown; started_at?: string | null; finished_at?: string | null }>;
  const failed = steps.filter((s) => s.status === 'failure');
  const final = FINAL.has(run.status);
  const sus = run.status === 'suspended' ? r.suspended : null;
  const titles = useMemo(() => {
    const m = new Map<string, string>();
    walkModules(flow, (x) => m.set(x.id, moduleTitle(x)));
    return m;
  }, [flow]);
  return (
    <div className={`run-drawer ${run.status}`} data-testid="run-drawer">
      <div className="row run-drawer-head">
        <span className={`run-dot ${run.status}`} />
        <b>Test run</b>
        <span className={`badge ${run.status}`} data-testid="run-status">{run.status}</span>
        <span className="hint">#{String(run.id).slice(0, 8)} · {steps.length} step{steps.length === 1 ? '' : 's'}</span>
        {!final && connection && <span className={`conn ${connection}`} title="Live updates">{connection === 'live' ? 'live' : connection}</span>}
        <span className="grow" />
        <a className="btn ghost sm" href={`/runs/${run.id}`} target="_blank" rel="noreferrer">Open run page</a>
        <button className="btn ghost sm icon" onClick={onClose} aria-label="Close test run" data-testid="run-drawer-close"><Icon name="close" size={14} /></button>
      </div>
      <div className="run-drawer-body">
        <div className="rd-steps" data-testid="run-steps">
          {steps.length === 0 && <div className="hint"><span className="spinner" /> Queued…</div>}
          {steps.map((s) => (
            <button type="button" key={s.key} className={`rd-step ${s.status}`} onClick={() => onSelect(s.module_id)} data-testid={`run-step-${s.key}`} title={s.key}>
              <span className={`run-dot ${s.status}`} />
              <span className="mono rd-key">{s.key}</span>
              <span className="rd-title">{titles.get(s.module_id) ?? ''}</span>
              <span className="grow" />
              <span className="hint">{stepDuration(s)}</span>
            </button>
          ))}
        </div>
        <div className="rd-main">
          {sus && (
            <div className="rd-approval" data-testid="test-approval">
              <div className="rd-label">Waiting for approval at <b className="mono">{sus.step}</b></div>
              <ApprovalActions
                requiredEvents={sus.required_events}
                receivedEvents={sus.received_events}
                approvers={sus.approvers}
                timeoutAt={sus.timeout_at}
                resumeUrl={sus.resume_url}
                cancelUrl={sus.cancel_url}
                schema={resumeFormSchema(sus.resume_form)}
                hideCancel={sus.hide_cancel}
                onDone={onRefresh}
                onGone={onRefresh}
              />
            </div>
          )}
          {failed.map((s) => (
            <div key={s.key} className="rd-error" data-testid="run-error">
              <b>Step {s.key} failed</b>
              <pre>{typeof s.error === 'object' && s.error && 'message' in (s.error as object) ? String((s.error as { name?: string; message?: string }).name ?? 'Error') + ': ' + String((s.error as { message?: string }).message) : JSON.stringify(truncateValue(s.error ?? s.result), null, 1)}</pre>
            </div>
          ))}
          {final ? (
            <div data-testid="run-result">
              <div className="rd-label">Result</div>
              <ValueTree value={result ?? null} defaultOpen={2} />
            </div>
          ) : !sus ? (
            <div className="hint"><span className="spinner" /> Running… step colours update live on the graph.</div>
          ) : null}
        </div>
      </div>
    </div>
  );
}
