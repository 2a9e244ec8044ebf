/** Parse a script's main() signature into its inputs (python3, deno/bun/typescript, bash). */

export type ArgType = 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object' | 'any';

export interface SigArg {
  name: string;
  type: ArgType;
  /** raw type annotation as written */
  typeText?: string;
  default?: unknown;
  hasDefault: boolean;
  required: boolean;
}

/** Split on top-level commas (ignores commas in brackets and strings). */
export function splitTopLevel(s: string, sep = ','): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  let quote: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      cur += c;
      if (c === '\\') {
        cur += s[++i] ?? '';
      } else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if ('([{<'.includes(c)) depth++;
    else if (')]}>'.includes(c)) depth--;
    if (c === sep && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur.trim()) out.push(cur);
  return out.map((x) => x.trim()).filter(Boolean);
}

/** Text between the "(" at `open` and its matching ")". */
function balanced(src: string, open: number): string | null {
  let depth = 0;
  let quote: string | null = null;
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth === 0) return src.slice(open + 1, i);
    }
  }
  return null;
}

/** Split "a: T = d" at the first top-level separator char. */
function splitOnce(s: string, ch: string): [string, string | undefined] {
  const parts = splitTopLevel(s, ch);
  if (parts.length <= 1 && !s.includes(ch)) return [s.trim(), undefined];
  // re-join the rest, preserving occurrences of ch inside the default
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if ('([{<'.includes(c)) depth++;
    else if (')]}>'.includes(c)) depth--;
    else if (c === ch && depth === 0 && !(ch === '=' && (s[i + 1] === '=' || s[i - 1] === '=' || s[i - 1] === '!' || s[i - 1] === '>'))) {
      return [s.slice(0, i).trim(), s.slice(i + 1).trim()];
    }
  }
  return [s.trim(), undefined];
}

const PY_TYPES: Record<string, ArgType> = {
  str: 'string', int: 'integer', float: 'number', bool: 'boolean', list: 'array', List: 'array', tuple: 'array',
  Tuple: 'array', set: 'array', dict: 'object', Dict: 'object', bytes: 'string', datetime: 'string', date: 'string',
};

function pyType(t: string | undefined): ArgType {
  if (!t) return 'any';
  let s = t.trim();
  const opt = s.match(/^Optional\[(.*)\]$/);
  if (opt) s = opt[1];
  s = s.split('|').map((x) => x.trim()).filter((x) => x !== 'None')[0] ?? s;
  const base = s.replace(/\[.*$/, '').trim();
  return PY_TYPES[base] ?? (base === 'Literal' ? 'string' : 'any');
}

/** Python literal → JSON value (best effort: numbers, strings, True/False/None, lists/dicts of those). */
export function parsePyLiteral(src: string): unknown {
  const s = src.trim();
  if (s === 'None') return null;
  if (s === 'True') return true;
  if (s === 'False') return false;
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(s)) return Number(s);
  const str = s.match(/^[rbfu]?(['"])([\s\S]*)\1$/i);
  if (str && !s.startsWith('"""') && !s.startsWith("'''")) return str[2].replace(/\\(['"\\])/g, '$1').replace(/\\n/g, '\n');
  if ((s.startsWith('[') && s.endsWith(']')) || (s.startsWith('(') && s.endsWith(')'))) {
    return splitTopLevel(s.slice(1, -1)).map(parsePyLiteral);
  }
  if (s.startsWith('{') && s.endsWith('}')) {
    const o: Record<string, unknown> = {};
    for (const kv of splitTopLevel(s.slice(1, -1))) {
      const [k, v] = splitOnce(kv, ':');
      o[String(parsePyLiteral(k))] = v === undefined ? null : parsePyLiteral(v);
    }
    return o;
  }
  return undefined;
}

function typeFromValue(v: unknown): ArgType {
  if (v === null || v === undefined) return 'any';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'boolean';
  return 'object';
}

export function parsePython(code: string): SigArg[] | null {
  const m = /(^|\n)\s*(?:async\s+)?def\s+main\s*\(/.exec(code);
  if (!m) return null;
  const open = code.indexOf('(', m.index + m[0].length - 1);
  const inner = balanced(code, open);
  if (inner === null) return null;
  const out: SigArg[] = [];
  for (const p of splitTopLevel(inner.replace(/#.*$/gm, ''))) {
    if (p === '*' || p === '/' || p.startsWith('*')) continue;
    const [left, def] = splitOnce(p, '=');
    const [name, ann] = splitOnce(left, ':');
    const hasDefault = def !== undefined;
    const dv = hasDefault ? parsePyLiteral(def) : undefined;
    let type = pyType(ann);
    if (type === 'any' && hasDefault) type = typeFromValue(dv);
    out.push({ name, type, typeText: ann, default: dv, hasDefault, required: !hasDefault && !/Optional\[|\|\s*None|None\s*\|/.test(ann ?? '') });
  }
  return out;
}

function tsType(t: string | undefined): ArgType {
  if (!t) return 'any';
  const s = t.trim().replace(/\s*\|\s*(undefined|null)\b/g, '');
  if (/\[\]$/.test(s) || /^(Array|ReadonlyArray)</.test(s)) return 'array';
  if (s === 'string' || /^("[^"]*"|'[^']*')(\s*\|\s*("[^"]*"|'[^']*'))*$/.test(s)) return 'string';
  if (s === 'number' || s === 'bigint') return 'number';
  if (s === 'boolean') return 'boolean';
  if (s === 'object' || s.startsWith('{') || s.startsWith('Record<')) return 'object';
  if (s === 'Date') return 'string';
  return 'any';
}

function parseJsLiteral(src: string): unknown {
  const s = src.trim();
  if (s === 'undefined') return undefined;
  try {
    return JSON.parse(s);
  } catch {
    /* fall through */
  }
  const str = s.match(/^(['`])([\s\S]*)\1$/);
  if (str) return str[2];
  try {
    return JSON.parse(s.replace(/'/g, '"').replace(/([{,]\s*)([A-Za-z_$][\w$]*)\s*:/g, '$1"$2":').replace(/,\s*([}\]])/g, '$1'));
  } catch {
    return undefined;
  }
}

export function parseTypeScript(code: string): SigArg[] | null {
  const m = /export\s+(?:default\s+)?(?:async\s+)?function\s+main\s*(?:<[^>]*>)?\s*\(/.exec(code);
  if (!m) return null;
  const open = m.index + m[0].length - 1;
  const inner = balanced(code, open);
  if (inner === null) return null;
  const out: SigArg[] = [];
  for (const p of splitTopLevel(inner.replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, ''))) {
    if (p.startsWith('{') || p.startsWith('[') || p.startsWith('...')) continue;
    const [left, def] = splitOnce(p, '=');
    const [rawName, ann] = splitOnce(left, ':');
    const optional = rawName.endsWith('?');
    const name = rawName.replace(/\?$/, '').trim();
    const hasDefault = def !== undefined;
    const dv = hasDefault ? parseJsLiteral(def) : undefined;
    let type = tsType(ann);
    if (type === 'any' && hasDefault) type = typeFromValue(dv);
    out.push({ name, type, typeText: ann, default: dv, hasDefault, required: !hasDefault && !optional });
  }
  return out;
}

/** Bash: variables assigned from positional args: name="$1", name="${2:-default}". */
export function parseBash(code: string): SigArg[] {
  const out: Array<SigArg & { pos: number }> = [];
  const re = /^\s*(?:(?:local|declare|readonly)\s+)?([A-Za-z_][A-Za-z0-9_]*)=["']?\$\{?(\d+)(?::-([^}"']*))?\}?["']?\s*(?:#.*)?$/gm;
  let m: RegExpExecArray | null;
  const seen = new Set<string>();
  while ((m = re.exec(code))) {
    const [, name, pos, def] = m;
    if (seen.has(name) || pos === '0') continue;
    seen.add(name);
    out.push({ name, type: 'string', pos: Number(pos), default: def, hasDefault: def !== undefined, required: def === undefined });
  }
  return out.sort((a, b) => a.pos - b.pos).map(({ pos: _pos, ...a }) => a);
}

export function parseSignature(language: string, code: string): SigArg[] | null {
  switch (language) {
    case 'python3':
    case 'python':
      return parsePython(code);
    case 'deno':
    case 'bun':
    case 'nativets':
    case 'typescript':
      return parseTypeScript(code);
    case 'bash':
      return parseBash(code);
    default:
      return null;
  }
}
