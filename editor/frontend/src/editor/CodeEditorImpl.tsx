/** CodeMirror 6 wrapper: scripts (python / typescript / bash) and one-line JavaScript expressions with completion. */
import { useEffect, useRef } from 'react';
import { EditorState, Compartment, type Extension } from '@codemirror/state';
import { EditorView, keymap, placeholder as cmPlaceholder, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection } from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap, type CompletionContext, type CompletionResult } from '@codemirror/autocomplete';
import { bracketMatching, indentOnInput, syntaxHighlighting, defaultHighlightStyle, StreamLanguage, HighlightStyle } from '@codemirror/language';
import { tags as t } from '@lezer/highlight';
import { python } from '@codemirror/lang-python';
import { javascript } from '@codemirror/lang-javascript';
import { shell } from '@codemirror/legacy-modes/mode/shell';

export type CodeLang = 'python3' | 'deno' | 'bash' | 'javascript' | 'json' | 'yaml' | string;

/** Completion tree for expressions: {flow_input: {...}, results: {a: {...}}, previous_result: ..., iter: ...}. */
export type CompletionTree = Record<string, unknown>;

const darkish = HighlightStyle.define([
  { tag: t.keyword, color: 'var(--cm-keyword)' },
  { tag: [t.string, t.special(t.string)], color: 'var(--cm-string)' },
  { tag: [t.number, t.bool, t.null], color: 'var(--cm-number)' },
  { tag: t.comment, color: 'var(--cm-comment)', fontStyle: 'italic' },
  { tag: [t.function(t.variableName), t.function(t.propertyName)], color: 'var(--cm-fn)' },
  { tag: [t.definition(t.variableName)], color: 'var(--cm-def)' },
  { tag: t.propertyName, color: 'var(--cm-prop)' },
  { tag: [t.typeName, t.className], color: 'var(--cm-type)' },
  { tag: t.operator, color: 'var(--cm-op)' },
]);

function langExt(lang: CodeLang): Extension {
  if (lang.startsWith('python')) return python();
  if (lang === 'bash' || lang === 'shell') return StreamLanguage.define(shell);
  if (lang === 'json') return javascript();
  if (lang === 'javascript' || lang === 'expr') return javascript();
  if (lang === 'deno' || lang === 'bun' || lang === 'typescript' || lang === 'nativets') return javascript({ typescript: true });
  return [];
}

function pathCompletions(tree: () => CompletionTree) {
  return (ctx: CompletionContext): CompletionResult | null => {
    const m = ctx.matchBefore(/[A-Za-z_$][\w$]*(?:(?:\?\.|\.)[A-Za-z_$][\w$]*|\[\d+\])*(?:\?\.|\.)?[\w$]*$/);
    if (!m && !ctx.explicit) return null;
    const text = m?.text ?? '';
    const dot = Math.max(text.lastIndexOf('.'), -1);
    const base = dot >= 0 ? text.slice(0, dot).replace(/\?$/, '') : '';
    const from = (m?.from ?? ctx.pos) + dot + 1;
    let node: unknown = tree();
    if (base) {
      for (const seg of base.split(/\??\.|\[|\]/).filter(Boolean)) {
        if (node && typeof node === 'object') node = (node as Record<string, unknown>)[seg];
        else {
          node = undefined;
          break;
        }
      }
    }
    if (!node || typeof node !== 'object') return null;
    const entries = Array.isArray(node) ? (node.length ? Object.keys(node[0] ?? {}) : []) : Object.keys(node);
    return {
      from,
      options: entries.slice(0, 200).map((k) => {
        const v = Array.isArray(node) ? undefined : (node as Record<string, unknown>)[k];
        return { label: k, type: base ? 'property' : 'variable', detail: v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v };
      }),
      validFor: /^[\w$]*$/,
    };
  };
}

export interface CodeEditorProps {
  value: string;
  onChange: (v: string) => void;
  lang: CodeLang;
  /** single-line-ish expression editor (no gutter, compact) */
  compact?: boolean;
  placeholder?: string;
  completions?: () => CompletionTree;
  onFocus?: (view: EditorView) => void;
  minHeight?: number;
  maxHeight?: number;
  readOnly?: boolean;
  testId?: string;
}

export default function CodeEditor(props: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const cb = useRef(props);
  cb.current = props;
  const ro = useRef(new Compartment());

  useEffect(() => {
    if (!host.current) return;
    const exts: Extension[] = [
      history(),
      drawSelection(),
      indentOnInput(),
      bracketMatching(),
      closeBrackets(),
      syntaxHighlighting(darkish),
      syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
      keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap, indentWithTab]),
      langExt(props.lang),
      EditorView.lineWrapping,
      ro.current.of(EditorState.readOnly.of(!!props.readOnly)),
      EditorView.updateListener.of((u) => {
        if (u.docChanged) cb.current.onChange(u.state.doc.toString());
        if (u.focusChanged && u.view.hasFocus) cb.current.onFocus?.(u.view);
      }),
    ];
    if (!props.compact) exts.push(lineNumbers(), highlightActiveLine(), highlightActiveLineGutter());
    if (props.placeholder) exts.push(cmPlaceholder(props.placeholder));
    if (props.completions) {
      const tree = () => cb.current.completions?.() ?? {};
      exts.push(autocompletion({ override: [pathCompletions(tree)], activateOnTyping: true }));
    }
    const v = new EditorView({ state: EditorState.create({ doc: props.value, extensions: exts }), parent: host.current });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
    // the editor is created once per mount; value updates are synced below
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.lang, props.compact]);

  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== props.value) {
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: props.value } });
    }
  }, [props.value]);

  return (
    <div
      ref={host}
      className={`code-editor${props.compact ? ' compact' : ''}`}
      style={{ minHeight: props.minHeight, maxHeight: props.maxHeight }}
      data-testid={props.testId}
    />
  );
}


