import { describe, expect, it } from 'vitest';
import { afterResize, revealRect } from './viewport';

describe('revealRect', () => {
  const v = { x: 0, y: 0, zoom: 1 };
  it('returns null when the rect is already visible', () => {
    expect(revealRect(v, { x: 100, y: 100, w: 200, h: 50 }, 800, 600)).toBeNull();
  });
  it('pans down to a rect below the canvas', () => {
    const r = revealRect(v, { x: 100, y: 900, w: 200, h: 50 }, 800, 600, 32)!;
    expect(r.x).toBe(0);
    expect(900 + 50 + r.y).toBe(600 - 32);
  });
  it('pans right to a rect left of the canvas, respecting zoom', () => {
    const r = revealRect({ x: -500, y: 0, zoom: 0.5 }, { x: 100, y: 10, w: 200, h: 50 }, 800, 600, 20)!;
    expect(100 * 0.5 + r.x).toBe(20);
  });
  it('aligns an oversized rect on its top-left corner', () => {
    const r = revealRect(v, { x: 0, y: -400, w: 100, h: 2000 }, 800, 600, 10)!;
    expect(r.y).toBe(410);
  });
});

describe('afterResize', () => {
  it('keeps the centre when the canvas shrinks and the column still fits', () => {
    const r = afterResize({ x: 400, y: 0, zoom: 1 }, 1200, 600, 800, 260);
    expect(r.x).toBe(100);
  });
  it('never pushes a fitting column off the left edge', () => {
    const r = afterResize({ x: 100, y: 0, zoom: 1 }, 1200, 500, 800, 400, null, 24);
    expect(r.x).toBe(24 + 0); // would have been 100 - 350 = -250
    expect(r.x + 400).toBeLessThanOrEqual(500 - 24);
  });
  it('reveals the kept node when the column is wider than the canvas', () => {
    const r = afterResize({ x: 0, y: 0, zoom: 1 }, 1400, 700, 800, 1600, { x: 1200, y: 100, w: 260, h: 58 }, 24);
    expect(1200 + r.x).toBeGreaterThanOrEqual(24);
    expect(1200 + 260 + r.x).toBeLessThanOrEqual(700 - 24);
  });
});
