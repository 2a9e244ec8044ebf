/** Module kinds offered by the palette, their factories and how an existing module is classified. */
import type { FlowModule, InputTransform, OpenFlow } from './openflow';
import { parseSignature } from './signature';

export type KindId =
  | 'python' | 'deno' | 'bash' | 'script' | 'flow' | 'forloop' | 'whileloop' | 'branchone' | 'branchall' | 'identity' | 'approval';

export type VisualKind = KindId | 'rawscript' | 'input' | 'result' | 'failure' | 'unknown';

export interface KindInfo {
  id: KindId;
  label: string;
  group: 'Scripts' | 'Flow control' | 'Other';
  description: string;
}

export const KINDS: KindInfo[] = [
  { id: 'python', label: 'Python', group: 'Scripts', description: 'Inline Python 3 script' },
  { id: 'deno', label: 'TypeScript', group: 'Scripts', description: 'Inline TypeScript (Deno)' },
  { id: 'bash', label: 'Bash', group: 'Scripts', description: 'Inline shell script' },
  { id: 'script', label: 'Saved script', group: 'Scripts', description: 'Run a saved script by path' },
  { id: 'flow', label: 'Sub-flow', group: 'Scripts', description: 'Run another flow' },
  { id: 'forloop', label: 'For loop', group: 'Flow control', description: 'Run steps for each item' },
  { id: 'whileloop', label: 'While loop', group: 'Flow control', description: 'Repeat until stopped' },
  { id: 'branchone', label: 'Branch to one', group: 'Flow control', description: 'First matching branch' },
  { id: 'branchall', label: 'Branch to all', group: 'Flow control', description: 'Run every branch' },
  { id: 'approval', label: 'Approval', group: 'Other', description: 'Wait for approval' },
  { id: 'identity', label: 'Identity', group: 'Other', description: 'Pass the previous result' },
];

export const KIND_BY_ID: Record<KindId, KindInfo> = Object.fromEntries(KINDS.map((k) => [k.id, k])) as Record<KindId, KindInfo>;

export const DEFAULT_CODE: Record<'python' | 'deno' | 'bash', string> = {
  python: 'def main(name: str = "world"):\n    return {"message": f"Hello {name}"}\n',
  deno: 'export async function main(name: string = "world") {\n  return { message: `Hello ${name}` };\n}\n',
  bash: 'name="${1:-world}"\n\necho "Hello $name"\n',
};

export const LANGUAGE_OF: Record<'python' | 'deno' | 'bash', string> = { python: 'python3', deno: 'deno', bash: 'bash' };

/** Input transforms for a script's parameters, keeping existing ones (by name). */
export function transformsFromSignature(language: string, code: string, existing: Record<string, InputTransform> = {}): Record<string, InputTransform> {
  const sig = parseSignature(language, code);
  if (!sig) return existing;
  const out: Record<string, InputTransform> = {};
  for (const a of sig) {
    out[a.name] = existing[a.name] ?? { type: 'static', value: a.hasDefault ? a.default : undefined };
  }
  return out;
}

export function makeModule(kind: KindId, id: string): FlowModule {
  switch (kind) {
    case 'python':
    case 'deno':
    case 'bash': {
      const language = LANGUAGE_OF[kind];
      const content = DEFAULT_CODE[kind];
      return { id, summary: '', value: { type: 'rawscript', language, content, input_transforms: transformsFromSignature(language, content) } };
    }
    case 'script':
      return { id, summary: '', value: { type: 'script', path: '', input_transforms: {} } };
    case 'flow':
      return { id, summary: '', value: { type: 'flow', path: '', input_transforms: {} } };
    case 'forloop':
      return {
        id, summary: '',
        value: { type: 'forloopflow', iterator: { type: 'javascript', expr: 'flow_input.items' }, modules: [], skip_failures: false, parallel: false },
      };
    case 'whileloop':
      return { id, summary: '', value: { type: 'whileloopflow', modules: [], skip_failures: false } };
    case 'branchone':
      return { id, summary: '', value: { type: 'branchone', branches: [{ summary: '', expr: 'false', modules: [] }], default: [] } };
    case 'branchall':
      return {
        id, summary: '',
        value: { type: 'branchall', parallel: true, branches: [{ summary: '', skip_failure: false, modules: [] }, { summary: '', skip_failure: false, modules: [] }] },
      };
    case 'identity':
      return { id, summary: '', value: { type: 'identity' } };
    case 'approval':
      return { id, summary: 'Approval', value: { type: 'identity' }, suspend: { required_events: 1, timeout: 1800 } };
  }
}

export function visualKind(m: FlowModule): VisualKind {
  const v = m.value;
  switch (v.type) {
    case 'rawscript': {
      const lang = String((v as { language?: string }).language ?? '');
      if (lang.startsWith('python')) return 'python';
      if (lang === 'bash' || lang === 'powershell') return 'bash';
      if (lang === 'deno' || lang === 'bun' || lang === 'nativets' || lang === 'typescript') return 'deno';
      return 'rawscript';
    }
    case 'script':
      return 'script';
    case 'flow':
      return 'flow';
    case 'forloopflow':
      return 'forloop';
    case 'whileloopflow':
      return 'whileloop';
    case 'branchone':
      return 'branchone';
    case 'branchall':
      return 'branchall';
    case 'identity':
      return m.suspend ? 'approval' : 'identity';
    default:
      return 'unknown';
  }
}

const KIND_LABEL: Record<VisualKind, string> = {
  python: 'Python', deno: 'TypeScript', bash: 'Bash', script: 'Script', flow: 'Sub-flow', forloop: 'For loop',
  whileloop: 'While loop', branchone: 'Branch to one', branchall: 'Branch to all', identity: 'Identity', approval: 'Approval',
  rawscript: 'Script', input: 'Input', result: 'Result', failure: 'Error handler', unknown: 'Step',
};

export function kindLabel(k: VisualKind): string {
  return KIND_LABEL[k];
}

/** A one-line title for a module: its summary, else a description derived from its kind. */
export function moduleTitle(m: FlowModule): string {
  if (m.summary && m.summary.trim()) return m.summary.trim();
  const v = m.value as { type: string; path?: string };
  if ((v.type === 'script' || v.type === 'flow') && v.path) return v.path;
  return KIND_LABEL[visualKind(m)];
}

export function isScriptLike(m: FlowModule): boolean {
  return m.value.type === 'rawscript' || m.value.type === 'script' || m.value.type === 'flow';
}

export function flowHasModules(flow: OpenFlow): boolean {
  return (flow.value?.modules?.length ?? 0) > 0;
}
