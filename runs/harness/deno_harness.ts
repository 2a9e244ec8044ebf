// Deno script harness for runs.sandbox. The sandbox writes, in the job dir, `main.ts` (the user's
// script), `args.json`, and an entry module that does:
//     import * as script from "./main.ts";
//     import { run } from "<file URL of this file>";
//     await run(script);
// run() calls `main` with the arguments named by its parameters, awaits it, and writes
// {"success": bool, "result": ...} to .ofs_result.json. stdout / stderr are the user's logs.
//
// Parameter names come from `main.toString()`, i.e. deno's JavaScript output with the types
// already stripped. Limits (documented in runs/sandbox.py):
//   * plain names, with or without defaults: `(a, b = 2)`; a null/missing value for a parameter
//     that has a default passes `undefined`, so the default applies;
//   * a destructured object parameter `({a, b})` receives the whole args object; a destructured
//     array parameter and a rest parameter `...xs` receive undefined;
//   * `main` may be a function declaration, a function expression or an arrow function.

const RESULT_FILE = ".ofs_result.json";

type Param = { name: string | null; kind: "plain" | "object" | "other"; hasDefault: boolean };

// Split `text` on top-level commas, ignoring brackets, strings, template literals and comments.
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'" || c === "`") {
      i++;
      while (i < text.length && text[i] !== c) i += text[i] === "\\" ? 2 : 1;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? text.length : end + 1;
    } else if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    else if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

// The text between the parentheses of the parameter list (or the single bare arrow parameter).
function parameterText(source: string): string {
  const open = source.indexOf("(");
  const arrow = source.indexOf("=>");
  if (arrow >= 0 && (open < 0 || arrow < open)) {
    // `x => ...` or `async x => ...`
    return source.slice(0, arrow).replace(/^async\s+/, "").trim();
  }
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    const c = source[i];
    if (c === '"' || c === "'" || c === "`") {
      i++;
      while (i < source.length && source[i] !== c) i += source[i] === "\\" ? 2 : 1;
    } else if (c === "(") depth++;
    else if (c === ")") {
      depth--;
      if (depth === 0) return source.slice(open + 1, i);
    }
  }
  return "";
}

export function parseParams(fn: Function): Param[] {
  return splitTopLevel(parameterText(fn.toString())).map((p) => {
    if (p.startsWith("...")) return { name: null, kind: "other", hasDefault: false };
    if (p.startsWith("{")) return { name: null, kind: "object", hasDefault: /}\s*=/.test(p) };
    if (p.startsWith("[")) return { name: null, kind: "other", hasDefault: /]\s*=/.test(p) };
    const m = /^([A-Za-z_$][\w$]*)\s*(=)?/.exec(p);
    return { name: m ? m[1] : null, kind: "plain", hasDefault: !!(m && m[2]) };
  });
}

function errorObject(e: unknown): Record<string, unknown> {
  if (e instanceof Error) {
    const err: Record<string, unknown> = { name: e.name, message: e.message, stack: e.stack };
    // as in Windmill: the failing step's id, so an error handler can say which step broke
    const stepId = Deno.env.get("WM_FLOW_STEP_ID");
    if (stepId) err.step_id = stepId;
    return { error: err };
  }
  let message: string;
  try {
    message = typeof e === "string" ? e : JSON.stringify(e) ?? String(e);
  } catch {
    message = String(e);
  }
  return { error: { name: "Error", message } };
}

async function writeOutcome(outcome: unknown): Promise<void> {
  let text: string;
  try {
    text = JSON.stringify(outcome);
  } catch (e) {
    text = JSON.stringify({
      success: false,
      result: { error: { name: "SerializationError",
                         message: `main returned a value that is not JSON-serialisable: ${e}` } },
    });
  }
  await Deno.writeTextFile(RESULT_FILE + ".tmp", text);
  await Deno.rename(RESULT_FILE + ".tmp", RESULT_FILE);
}

// deno-lint-ignore no-explicit-any
export async function run(script: Record<string, any>): Promise<void> {
  let outcome: unknown;
  try {
    const args = JSON.parse(await Deno.readTextFile("args.json")) as Record<string, unknown>;
    const main = script.main;
    if (typeof main !== "function") throw new ReferenceError("the script exports no main function");
    const callArgs = parseParams(main).map((p) => {
      if (p.kind === "object") return args;
      if (p.name === null) return undefined;
      const v = args[p.name];
      return (v === null || v === undefined) && p.hasDefault ? undefined : v;
    });
    const result = await main(...callArgs);
    outcome = { success: true, result: result === undefined ? null : result };
  } catch (e) {
    outcome = { success: false, result: errorObject(e) };
  }
  await writeOutcome(outcome);
  // Pending timers or open handles must not keep a finished script alive.
  Deno.exit(0);
}
