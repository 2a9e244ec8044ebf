/** Pure viewport arithmetic for the canvas: keep things on screen when the canvas resizes or a node is added. */

export interface Viewport {
  x: number;
  y: number;
  zoom: number;
}

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * The smallest pan that brings `rect` (flow coordinates) fully inside a `w`×`h` canvas with `margin`
 * pixels around it; null when it is already visible. A rect larger than the canvas is aligned on its
 * top-left corner (the node's title stays readable).
 */
export function revealRect(v: Viewport, rect: Rect, w: number, h: number, margin = 32): Viewport | null {
  const pan = (pos: number, size: number, view: number, cur: number): number => {
    const lo = pos * v.zoom + cur;
    const hi = lo + size * v.zoom;
    if (size * v.zoom > view - 2 * margin) return lo < margin || lo > view - margin ? cur + (margin - lo) : cur;
    if (lo < margin) return cur + (margin - lo);
    if (hi > view - margin) return cur - (hi - (view - margin));
    return cur;
  };
  const x = pan(rect.x, rect.w, w, v.x);
  const y = pan(rect.y, rect.h, h, v.y);
  return x === v.x && y === v.y ? null : { x, y, zoom: v.zoom };
}

/**
 * The viewport after the canvas changed width from `oldW` to `newW` (a side panel opened or closed):
 * keep the centre where it was; when the main column (flow x 0..mainW) fits, keep all of it on screen;
 * then make sure `keep` (the selected node) is visible.
 */
export function afterResize(v: Viewport, oldW: number, newW: number, h: number, mainW: number, keep?: Rect | null, margin = 24): Viewport {
  let x = v.x + (newW - oldW) / 2;
  const colW = mainW * v.zoom;
  if (colW <= newW - 2 * margin) {
    if (x < margin) x = margin;
    if (x + colW > newW - margin) x = newW - margin - colW;
  }
  let out: Viewport = { x, y: v.y, zoom: v.zoom };
  if (keep) out = revealRect(out, keep, newW, h, margin) ?? out;
  return out;
}
