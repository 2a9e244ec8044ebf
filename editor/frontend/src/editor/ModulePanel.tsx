/** Right side panel for the selected step: summary, id, code, inputs + prop picker, container settings, advanced. */
import { useEffect, useMemo, useRef, useState } from 'react';
import type { BranchAll, BranchOne, FlowModule, ForLoop, InputTransform, OpenFlow, RawScript } from '../lib/openflow';
import { parseSignature } from '../lib/signature';
import { kindLabel, visualKind, transformsFromSignature } from '../lib/kinds';
import { ID_RE } from '../lib/edits';
import { type RunLike, scopeFor } from '../lib/context';
import { insertIntoExpr, templateToExpr } from '../lib/exprPath';
import type { LocatedError } from '../lib/errorPaths';
import { KindIcon, Icon } from '../graph/icons';
import { CodeEditor } from './CodeEditor';
import { InputsEditor, type FocusTarget } from './InputsEditor';
import { PropPicker } from './PropPicker';
import { AdvancedForm } from './AdvancedForm';
import { ValueTree } from './ValueTree';

export interface ModulePanelProps {
  flow: OpenFlow;
  module: FlowModule;
  isFailure: boolean;
  patch: (fn: (m: FlowModule) => FlowModule, key?: string) => void;
  rename: (newId: string) => string | null;
  onClose: () => void;
  onDelete: () => void;
  onAddBranch: () => void;
  onRemoveBranch: (i: number) => void;
  lastRun: RunLike | null;
  testArgs?: Record<string, unknown>;
  errors: LocatedError[];
  onTestStep: () => void;
  onTestUpTo: () => void;
  toast: (msg: string, error?: boolean) => void;
  focusSlot?: number | 'default';
  scripts: Array<{ path: string; summary?: string }>;
}

type Tab = 'inputs' | 'code' | 'advanced' | 'result';

export function ModulePanel(p: ModulePanelProps) {
  const { module: m, flow } = p;
  const kind = visualKind(m);
  const v = m.value;
  const hasTransforms = v.type === 'rawscript' || v.type === 'script' || v.type === 'flow';
  const [tab, setTab] = useState<Tab>(hasTransforms ? 'inputs' : 'inputs');
  const [idText, setIdText] = useState(m.id);
  const [idErr, setIdErr] = useState<string | null>(null);
  const focus = useRef<FocusTarget | null>(null);
  useEffect(() => {
    setIdText(m.id);
    setIdErr(null);
    focus.current = null;
  }, [m.id]);

  const lang = v.type === 'rawscript' ? (v as RawScript).language : '';
  const code = v.type === 'rawscript' ? (v as RawScript).content : '';
  const signature = useMemo(() => (v.type === 'rawscript' ? parseSignature(lang, code) : null), [v.type, lang, code]);
  const scopeRef = useRef(() => scopeFor(flow, m.id, p.lastRun, p.testArgs) as Record<string, unknown>);
  scopeRef.current = () => scopeFor(flow, m.id, p.lastRun, p.testArgs) as Record<string, unknown>;
  const completions = useMemo(() => () => scopeRef.current(), []);

  const inputErrors = useMemo(() => {
    const out: Record<string, string> = {};
    for (const e of p.errors) {
      const mm = e.field.match(/^value\/input_transforms\/([^/]+)/);
      if (mm) out[mm[1]] = e.message;
    }
    return out;
  }, [p.errors]);

  const setTransform = (name: string, t: InputTransform | undefined, key?: string) =>
    p.patch((mm) => {
      const val = mm.value as RawScript;
      const it = { ...(val.input_transforms ?? {}) };
      if (t === undefined) delete it[name];
      else it[name] = t;
      return { ...mm, value: { ...val, input_transforms: it } };
    }, key);

  const onPick = (path: string) => {
    const f = focus.current;
    if (!f) {
      p.toast('Click an input (or its JS editor) first, then pick a field.');
      return;
    }
    if (f.mode === 'js' && f.view.dom.isConnected) {
      const view = f.view;
      const sel = view.state.selection.main;
      const doc = view.state.doc.toString();
      const r = insertIntoExpr(doc, sel.from, sel.to, path);
      view.dispatch({ changes: { from: 0, to: doc.length, insert: r.expr }, selection: { anchor: r.cursor } });
      view.focus();
      return;
    }
    if (f.mode === 'static') {
      const cur = (m.value as RawScript).input_transforms?.[f.name];
      const el = f.el;
      const text = cur?.type === 'static' && typeof cur.value === 'string' ? cur.value : '';
      if (text && el && 'selectionStart' in el && el.selectionStart !== null) {
        // insert into the text as a template placeholder
        const s = el.selectionStart;
        const e = el.selectionEnd ?? s;
        setTransform(f.name, { type: 'javascript', expr: templateToExpr(text.slice(0, s) + '${' + path + '}' + text.slice(e)) });
      } else {
        setTransform(f.name, { type: 'javascript', expr: path });
      }
      focus.current = null;
    }
  };

  const commitId = () => {
    const n = idText.trim();
    if (n === m.id) return;
    if (!ID_RE.test(n)) {
      setIdErr('Letters, digits and _ only; must not start with a digit');
      return;
    }
    const err = p.rename(n);
    setIdErr(err);
  };

  const tabs: Array<[Tab, string]> = [];
  tabs.push(['inputs', hasTransforms ? 'Inputs' : 'Settings']);
  if (v.type === 'rawscript') tabs.push(['code', 'Code']);
  tabs.push(['advanced', 'Advanced']);
  const lastResult = p.lastRun?.steps?.filter((s) => s.module_id === m.id).at(-1);
  if (lastResult) tabs.push(['result', 'Test result']);

  return (
    <aside className="side-panel module-panel" data-testid="module-panel">
      <div className="panel-head">
        <KindIcon kind={p.isFailure ? 'failure' : kind} size={28} />
        <div className="grow">
          <input
            className="title-input"
            value={m.summary ?? ''}
            placeholder={kindLabel(kind)}
            onChange={(e) => p.patch((mm) => ({ ...mm, summary: e.target.value }), `summary:${m.id}`)}
            aria-label="Summary"
            data-testid="summary-input"
          />
          <div className="row id-row">
            <span className="label">id</span>
            <input
              className={`input mono id-input${idErr ? ' invalid' : ''}`}
              value={idText}
              onChange={(e) => setIdText(e.target.value)}
              onBlur={commitId}
              onKeyDown={(e) => e.key === 'Enter' && (e.currentTarget as HTMLInputElement).blur()}
              aria-label="Step id"
              data-testid="id-input"
              disabled={p.isFailure}
            />
            <span className="hint">{p.isFailure ? 'Error handler' : kindLabel(kind)}</span>
          </div>
          {idErr && <div className="error-text">{idErr}</div>}
        </div>
        <button type="button" className="btn ghost icon" onClick={p.onDelete} title="Delete step (Del)"><Icon name="trash" /></button>
        <button type="button" className="btn ghost icon" onClick={p.onClose} title="Close (Esc)"><Icon name="close" /></button>
      </div>
      {p.errors.length > 0 && (
        <div className="panel-errors">
          {p.errors.map((e, i) => (
            <div key={i} className="error-text"><Icon name="alert" size={12} /> {e.field ? <code>{e.field}</code> : null} {e.message}</div>
          ))}
        </div>
      )}
      <div className="tabs">
        {tabs.map(([t, label]) => (
          <button key={t} type="button" className={`tab${tab === t ? ' on' : ''}`} onClick={() => setTab(t)} data-testid={`tab-${t}`}>{label}</button>
        ))}
        <span className="grow" />
        {!p.isFailure && (
          <>
            <button type="button" className="btn sm" onClick={p.onTestStep} title="Run just this step with its inputs evaluated from the last test" data-testid="test-step"><Icon name="play" size={12} /> Test step</button>
            <button type="button" className="btn sm ghost" onClick={p.onTestUpTo} title="Run the flow up to this step" data-testid="test-up-to">Up to here</button>
          </>
        )}
      </div>
      <div className="panel-body">
        {tab === 'inputs' && (
          <div className={hasTransforms ? 'inputs-split' : ''}>
            <div className="inputs-col">
              {v.type === 'script' && (
                <div className="field">
                  <label>Script path</label>
                  <input className="input mono" list="ofs-scripts" value={(v as { path: string }).path} placeholder="f/folder/script" onChange={(e) => p.patch((mm) => ({ ...mm, value: { ...(mm.value as RawScript), path: e.target.value } }), 'path')} />
                  <datalist id="ofs-scripts">{p.scripts.map((s) => <option key={s.path} value={s.path}>{s.summary}</option>)}</datalist>
                </div>
              )}
              {v.type === 'flow' && (
                <div className="field">
                  <label>Flow path</label>
                  <input className="input mono" value={(v as { path: string }).path} placeholder="f/folder/flow" onChange={(e) => p.patch((mm) => ({ ...mm, value: { ...(mm.value as RawScript), path: e.target.value } }), 'path')} />
                </div>
              )}
              {hasTransforms && (
                <InputsEditor
                  transforms={(v as RawScript).input_transforms ?? {}}
                  signature={signature}
                  onChange={setTransform}
                  completions={completions}
                  onFocusTarget={(t) => (focus.current = t)}
                  errors={inputErrors}
                  allowAdd={v.type !== 'rawscript'}
                />
              )}
              {!hasTransforms && <ContainerSettings {...p} completions={completions} />}
            </div>
            {hasTransforms && (
              <div className="picker-col">
                <PropPicker flow={flow} moduleId={m.id} lastRun={p.lastRun} testArgs={p.testArgs} onPick={onPick} />
              </div>
            )}
          </div>
        )}
        {tab === 'code' && v.type === 'rawscript' && (
          <div className="code-tab">
            <div className="row code-toolbar">
              <span className="badge">{lang}</span>
              <span className="hint">Inputs come from <code>main()</code>'s parameters: {signature?.map((a) => a.name).join(', ') || 'none'}</span>
            </div>
            <CodeEditor
              lang={lang}
              value={code}
              minHeight={320}
              testId="code-editor"
              onChange={(content) =>
                p.patch((mm) => {
                  const val = mm.value as RawScript;
                  return { ...mm, value: { ...val, content, input_transforms: transformsFromSignature(val.language, content, val.input_transforms) } };
                }, `code:${m.id}`)
              }
            />
          </div>
        )}
        {tab === 'advanced' && <AdvancedForm module={m} patch={p.patch} completions={completions} isLoop={v.type === 'forloopflow' || v.type === 'whileloopflow'} />}
        {tab === 'result' && lastResult && (
          <div className="result-tab">
            <div className="row"><span className={`badge ${lastResult.status}`}>{lastResult.status}</span><span className="hint">key {lastResult.key}</span></div>
            <h4 className="sub-head">Result</h4>
            <ValueTree value={lastResult.result ?? null} defaultOpen={2} />
            {lastResult.args !== undefined && (<><h4 className="sub-head">Args</h4><ValueTree value={lastResult.args} /></>)}
          </div>
        )}
      </div>
    </aside>
  );
}

function ContainerSettings(p: ModulePanelProps & { completions: () => Record<string, unknown> }) {
  const m = p.module;
  const v = m.value;
  const setVal = (patch: Record<string, unknown>, key?: string) => p.patch((mm) => ({ ...mm, value: { ...mm.value, ...patch } as FlowModule['value'] }), key);
  if (v.type === 'forloopflow') {
    const f = v as ForLoop;
    const it = f.iterator ?? { type: 'javascript', expr: '' };
    return (
      <div className="container-settings">
        <div className="field">
          <label>Iterate over (JS expression returning an array)</label>
          <CodeEditor lang="javascript" compact value={it.type === 'javascript' ? it.expr : JSON.stringify((it as { value?: unknown }).value ?? [])} completions={p.completions}
            onChange={(expr) => setVal({ iterator: { type: 'javascript', expr } }, 'iterator')} testId="iterator-editor" />
        </div>
        <label className="checkbox block"><input type="checkbox" checked={!!f.parallel} onChange={(e) => setVal({ parallel: e.target.checked })} /> Run iterations in parallel</label>
        {f.parallel && (
          <div className="field"><label>Parallelism (max at once, empty = all)</label>
            <input className="input" type="number" min={1} value={typeof f.parallelism === 'number' ? f.parallelism : (f.parallelism as { value?: number } | undefined)?.value ?? ''}
              onChange={(e) => setVal({ parallelism: e.target.value ? { type: 'static', value: Number(e.target.value) } : undefined })} />
          </div>
        )}
        <label className="checkbox block"><input type="checkbox" checked={!!f.skip_failures} onChange={(e) => setVal({ skip_failures: e.target.checked })} /> Skip failed iterations</label>
        <p className="hint">Inside the body, <code>flow_input.iter.value</code> / <code>iter.value</code> is the current item and <code>iter.index</code> its position.</p>
      </div>
    );
  }
  if (v.type === 'whileloopflow') {
    return (
      <div className="container-settings">
        <label className="checkbox block"><input type="checkbox" checked={!!(v as { skip_failures?: boolean }).skip_failures} onChange={(e) => setVal({ skip_failures: e.target.checked })} /> Skip failed iterations</label>
        <p className="hint">A while loop repeats its body until a step's <b>Early stop</b> condition (Advanced tab of a body step) is true.</p>
      </div>
    );
  }
  if (v.type === 'branchone' || v.type === 'branchall') {
    const one = v.type === 'branchone';
    const branches = (v as BranchOne | BranchAll).branches;
    const setBranch = (i: number, patch: Record<string, unknown>, key?: string) =>
      setVal({ branches: branches.map((b, j) => (j === i ? { ...b, ...patch } : b)) }, key);
    return (
      <div className="container-settings">
        {one && <p className="hint">The first branch whose predicate is true runs; otherwise the default branch.</p>}
        {!one && <label className="checkbox block"><input type="checkbox" checked={(v as BranchAll).parallel !== false} onChange={(e) => setVal({ parallel: e.target.checked })} /> Run branches in parallel</label>}
        {branches.map((b, i) => (
          <div key={i} className={`branch-card${p.focusSlot === i ? ' focused' : ''}`} data-testid={`branch-${i}`}>
            <div className="row">
              <span className="branch-num">Branch {i + 1}</span>
              <input className="input grow" placeholder="Summary" value={b.summary ?? ''} onChange={(e) => setBranch(i, { summary: e.target.value }, `bsum${i}`)} />
              <button type="button" className="btn ghost sm icon danger" onClick={() => p.onRemoveBranch(i)} title="Remove branch"><Icon name="trash" size={14} /></button>
            </div>
            {one ? (
              <div className="field"><label>Predicate (JS)</label>
                <CodeEditor lang="javascript" compact value={(b as { expr: string }).expr ?? ''} completions={p.completions} onChange={(expr) => setBranch(i, { expr }, `bexpr${i}`)} testId={`branch-expr-${i}`} />
              </div>
            ) : (
              <label className="checkbox block"><input type="checkbox" checked={!!(b as { skip_failure?: boolean }).skip_failure} onChange={(e) => setBranch(i, { skip_failure: e.target.checked })} /> Continue if this branch fails</label>
            )}
          </div>
        ))}
        <button type="button" className="btn sm" onClick={p.onAddBranch} data-testid="add-branch"><Icon name="plus" size={14} /> Add branch</button>
      </div>
    );
  }
  if (v.type === 'identity') {
    return <p className="hint">{m.suspend ? 'Approval step: the flow waits here until approved. Configure approvers, timeout and the form under Advanced → Suspend.' : 'Passes the previous result through unchanged.'}</p>;
  }
  return <p className="hint">No settings.</p>;
}
