/**
 * A browser-like global environment (jsdom) for the console's component tests under
 * node:test, and a loader for .tsx (esbuild's automatic JSX runtime, as in the Vite build).
 * Only test/ui-components.test.ts loads this, so no other test file sees a DOM.
 */
import { readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';
import { JSDOM } from 'jsdom';

export function installDom(): JSDOM {
  const dom = new JSDOM('<!doctype html><html><body></body></html>', {
    url: 'http://ingot.test/',
    pretendToBeVisual: true,
  });
  const win = dom.window as unknown as Record<string, unknown>;
  for (const key of Object.getOwnPropertyNames(win)) {
    if (key in globalThis) continue;
    Object.defineProperty(globalThis, key, { configurable: true, get: () => win[key] });
  }
  for (const key of [
    'window',
    'document',
    'navigator',
    'location',
    'history',
    'localStorage',
    'sessionStorage',
  ]) {
    Object.defineProperty(globalThis, key, { configurable: true, get: () => win[key] });
  }
  // jsdom has no layout: give every element a laptop-sized box so the virtualised grid renders rows.
  const proto = dom.window.HTMLElement.prototype;
  Object.defineProperty(proto, 'clientWidth', { configurable: true, get: () => 1200 });
  Object.defineProperty(proto, 'clientHeight', { configurable: true, get: () => 600 });
  (proto as HTMLElement).getBoundingClientRect = () =>
    ({
      x: 0,
      y: 0,
      top: 0,
      left: 0,
      width: 1200,
      height: 600,
      right: 1200,
      bottom: 600,
      toJSON: () => ({}),
    }) as DOMRect;
  (globalThis as Record<string, unknown>).IS_REACT_ACT_ENVIRONMENT = true;
  return dom;
}

export function registerTsx(): void {
  registerHooks({
    load(url, context, nextLoad) {
      if (url.endsWith('.tsx')) {
        const path = fileURLToPath(url);
        const { code } = transformSync(readFileSync(path, 'utf8'), {
          loader: 'tsx',
          jsx: 'automatic',
          format: 'esm',
          sourcefile: path,
          sourcemap: 'inline',
        });
        return { format: 'module', source: code, shortCircuit: true };
      }
      if (url.endsWith('.css')) return { format: 'module', source: '', shortCircuit: true };
      return nextLoad(url, context);
    },
  });
}
