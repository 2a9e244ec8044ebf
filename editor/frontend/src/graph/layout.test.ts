import { describe, expect, it } from 'vitest';
import { ADD_FAILURE_ID, buildGraph, GAP, INPUT_ID, nearestSpot, NODE_W, RESULT_ID } from './layout';
import { bigFlow, py, sampleFlow } from '../test/fixtures';
import { emptyFlow } from '../lib/openflow';

describe('buildGraph', () => {
  it('draws an empty flow as input → result with one insertion point', () => {
    const g = buildGraph(emptyFlow());
    expect(g.nodes.map((n) => n.id)).toEqual([INPUT_ID, RESULT_ID, ADD_FAILURE_ID]);
    expect(g.edges).toHaveLength(1);
    expect(g.edges[0].insert).toEqual({ list: { parent: null }, index: 0 });
    expect(g.spots).toHaveLength(1);
  });
  it('stacks a sequence vertically, centred', () => {
    const g = buildGraph({ summary: '', value: { modules: [py('a'), py('b')] } });
    const a = g.nodes.find((n) => n.id === 'a')!;
    const b = g.nodes.find((n) => n.id === 'b')!;
    expect(a.x).toBe(b.x);
    expect(b.y - (a.y + a.h)).toBe(GAP);
    expect(g.edges.filter((e) => e.insert).map((e) => e.insertKey)).toEqual(['root@0', 'root@1', 'root@2']);
  });
  it('nests loop bodies and puts branches side by side with labels', () => {
    const g = buildGraph(sampleFlow());
    const byId = Object.fromEntries(g.nodes.map((n) => [n.id, n]));
    expect(byId.loop.type).toBe('container');
    expect(byId.b.parent).toBe('loop');
    // body inside the frame
    expect(byId.b.x).toBeGreaterThan(byId.loop.x);
    expect(byId.c.y + byId.c.h).toBeLessThan(byId.loop.y + byId.loop.h);
    // branch columns side by side, labels present
    const labels = g.nodes.filter((n) => n.type === 'branchLabel' && n.parent === 'br');
    expect(labels.map((l) => l.data.title)).toEqual(['Default', 'big', 'true']);
    expect(labels[0].x).toBeLessThan(labels[1].x);
    expect(labels[1].x).toBeLessThan(labels[2].x);
    // empty branch gets a placeholder that is a drop target
    expect(byId['__empty:br:1'].type).toBe('empty');
    expect(g.spots.some((s) => s.key === 'br:1@0')).toBe(true);
    // failure module apart on the right
    expect(byId.failure.x).toBeGreaterThan(byId.br.x + byId.br.w);
    expect(byId.failure.data.isFailure).toBe(true);
    // parents come before children (React Flow requirement)
    const seen = new Set<string>();
    for (const n of g.nodes) {
      if (n.parent) expect(seen.has(n.parent)).toBe(true);
      seen.add(n.id);
    }
    // every edge endpoint exists
    for (const e of g.edges) {
      expect(byId[e.source]).toBeTruthy();
      expect(byId[e.target]).toBeTruthy();
    }
  });
  it('every list position has exactly one insertion spot', () => {
    const g = buildGraph(sampleFlow());
    const keys = g.spots.map((s) => s.key).sort();
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toEqual(['br:0@0', 'br:0@1', 'br:1@0', 'br:default@0', 'br:default@1', 'loop:body@0', 'loop:body@1', 'loop:body@2', 'root@0', 'root@1', 'root@2', 'root@3', 'root@4'].sort());
  });
  it('read-only graphs have no spots or ghost nodes', () => {
    const g = buildGraph(sampleFlow(), { editable: false });
    expect(g.spots).toHaveLength(0);
    expect(g.edges.every((e) => !e.insert)).toBe(true);
    expect(g.nodes.some((n) => n.id === ADD_FAILURE_ID)).toBe(false);
  });
  it('is deterministic and has no overlapping siblings', () => {
    const f = bigFlow(300);
    const a = buildGraph(f);
    expect(JSON.stringify(buildGraph(f))).toBe(JSON.stringify(a));
    const top = a.nodes.filter((n) => !n.parent && (n.type === 'step' || n.type === 'container') && !n.data.isFailure).sort((p, q) => p.y - q.y);
    for (let i = 1; i < top.length; i++) expect(top[i].y).toBeGreaterThanOrEqual(top[i - 1].y + top[i - 1].h);
    expect(a.nodes.filter((n) => n.type === 'step').every((n) => n.w === NODE_W)).toBe(true);
  });
  it('lays out 300 modules fast', () => {
    const f = bigFlow(3000);
    const t0 = performance.now();
    buildGraph(f);
    expect(performance.now() - t0).toBeLessThan(200);
  });
  it('finds the nearest spot within a radius', () => {
    const g = buildGraph({ summary: '', value: { modules: [py('a')] } });
    const s0 = g.spots[0];
    expect(nearestSpot(g.spots, s0.x + 5, s0.y + 5, 40)?.key).toBe(s0.key);
    expect(nearestSpot(g.spots, s0.x + 500, s0.y, 40)).toBeNull();
    expect(nearestSpot(g.spots, s0.x, s0.y, 40, (s) => s.key === s0.key)).toBeNull();
  });
});
