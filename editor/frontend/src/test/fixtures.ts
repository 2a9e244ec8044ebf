import type { FlowModule, OpenFlow } from '../lib/openflow';

export const py = (id: string, expr = 'flow_input.x'): FlowModule => ({
  id,
  value: { type: 'rawscript', language: 'python3', content: 'def main(x):\n    return x', input_transforms: { x: { type: 'javascript', expr } } },
});

export function sampleFlow(): OpenFlow {
  return {
    summary: 'sample',
    value: {
      modules: [
        py('a'),
        {
          id: 'loop',
          value: { type: 'forloopflow', iterator: { type: 'javascript', expr: 'results.a' }, skip_failures: false, modules: [py('b', 'iter.value'), py('c', 'results.b')] },
        },
        {
          id: 'br',
          value: {
            type: 'branchone',
            branches: [{ summary: 'big', expr: 'results.a > 1', modules: [py('d', 'results["a"]')] }, { expr: 'true', modules: [] }],
            default: [py('e', 'results?.loop')],
          },
        },
        py('f', '`Hello ${results.a.name}`'),
      ],
      failure_module: { id: 'failure', value: { type: 'rawscript', language: 'python3', content: 'def main(): pass', input_transforms: {} } },
    },
    schema: { type: 'object', properties: { x: { type: 'number' } }, required: [] },
  };
}

/** A big flow: n modules mixing plain steps, loops and branches. */
export function bigFlow(n: number): OpenFlow {
  const mods: FlowModule[] = [];
  let k = 0;
  const id = () => `s${k++}`;
  while (k < n) {
    const r = k % 10;
    if (r === 3 && k + 3 < n) {
      const lid = id();
      mods.push({ id: lid, value: { type: 'forloopflow', iterator: { type: 'javascript', expr: '[1,2]' }, skip_failures: false, modules: [py(id()), py(id())] } });
    } else if (r === 7 && k + 4 < n) {
      const bid = id();
      mods.push({ id: bid, value: { type: 'branchall', parallel: true, branches: [{ modules: [py(id())] }, { modules: [py(id()), py(id())] }] } });
    } else mods.push(py(id()));
  }
  return { summary: 'big', value: { modules: mods } };
}
