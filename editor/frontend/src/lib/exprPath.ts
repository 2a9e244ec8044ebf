/** Build JavaScript property paths for the prop picker: results.c.items[0].email, flow_input["odd key"]. */
export type PathSeg = string | number;

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const RESERVED = new Set(['break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do', 'else', 'export', 'extends', 'finally', 'for', 'function', 'if', 'import', 'in', 'instanceof', 'new', 'return', 'super', 'switch', 'this', 'throw', 'try', 'typeof', 'var', 'void', 'while', 'with', 'yield']);

export function appendSeg(base: string, seg: PathSeg): string {
  if (typeof seg === 'number') return `${base}[${seg}]`;
  if (IDENT.test(seg) && !RESERVED.has(seg)) return `${base}.${seg}`;
  return `${base}[${JSON.stringify(seg)}]`;
}

export function buildPath(root: string, segs: PathSeg[]): string {
  return segs.reduce<string>((acc, s) => appendSeg(acc, s), root);
}

/** Expression for a step's result: results.a or results["my-step"]. */
export function resultPath(stepId: string, segs: PathSeg[] = []): string {
  return buildPath(appendSeg('results', stepId), segs);
}

/** Insert `path` into an expression at [from, to); inside a template string wrap it as ${path}. */
export function insertIntoExpr(expr: string, from: number, to: number, path: string): { expr: string; cursor: number } {
  const before = expr.slice(0, from);
  const inTemplate = (before.match(/`/g)?.length ?? 0) % 2 === 1 && !/\$\{[^}]*$/.test(before);
  const text = inTemplate ? '${' + path + '}' : path;
  return { expr: before + text + expr.slice(to), cursor: from + text.length };
}

/** A static string containing ${...} placeholders becomes a JS template literal expression. */
export function templateToExpr(s: string): string {
  return '`' + s.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`';
}
