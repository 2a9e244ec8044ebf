/** Lazy CodeMirror: the editor bundle loads the first time a code/expression editor is shown. */
import { lazy, Suspense } from 'react';
import type { CodeEditorProps } from './CodeEditorImpl';
export type { CodeEditorProps, CompletionTree, CodeLang } from './CodeEditorImpl';
export type { EditorView } from '@codemirror/view';

const Impl = lazy(() => import('./CodeEditorImpl'));

export function CodeEditor(props: CodeEditorProps) {
  return (
    <Suspense fallback={<div className={`code-editor code-loading${props.compact ? ' compact' : ''}`} style={{ minHeight: props.minHeight ?? 30 }}><pre>{props.value}</pre></div>}>
      <Impl {...props} />
    </Suspense>
  );
}
