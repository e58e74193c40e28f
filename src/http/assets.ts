/**
 * What the app serves without a session: liveness and readiness, and the browser assets.
 *
 * /health answers with no I/O (the process is up); /ready checks the store (reachable, schema current).
 *
 * Browser assets are embedded in the binary (never a CDN): htmx and Alpine from their npm packages,
 * our stylesheet and island script from public/ (the island is frame.js then island.js, one request). Alpine is its CSP build (no eval), so the pages'
 * Content-Security-Policy needs no 'unsafe-eval'. Each is served under a content-hashed name with
 * an immutable, year-long cache; a page asks `assetUrl(name)` for the current URL.
 */
import { Elysia } from 'elysia';
import type { Store } from '../store/store.ts';
import htmx from 'htmx.org/dist/htmx.min.js' with { type: 'text' };
import alpine from '@alpinejs/csp/dist/cdn.min.js' with { type: 'text' };
import appCss from '../../public/app.css' with { type: 'text' };
import frameScript from '../../public/frame.js' with { type: 'text' };
import islandScript from '../../public/island.js' with { type: 'text' };

/** frame.js defines window.b24appFrame, which island.js uses: one script, in that order. */
const island = `${frameScript}\n${islandScript}`;

export type AssetName = 'htmx.js' | 'alpine.js' | 'app.css' | 'island.js';

interface Asset {
  body: string;
  type: string;
  file: string;
}

export interface Assets {
  /** Absolute path (with BASE_PATH) of the asset's current, hashed URL. */
  url(name: AssetName): string;
  find(file: string): Asset | undefined;
}

const sources: Record<AssetName, { body: string; type: string }> = {
  'htmx.js': { body: htmx, type: 'text/javascript; charset=utf-8' },
  'alpine.js': { body: alpine, type: 'text/javascript; charset=utf-8' },
  'app.css': { body: appCss, type: 'text/css; charset=utf-8' },
  'island.js': { body: island, type: 'text/javascript; charset=utf-8' },
};

export function createAssets(basePath: string): Assets {
  const byName = new Map<AssetName, Asset>();
  const byFile = new Map<string, Asset>();
  for (const [name, src] of Object.entries(sources) as [AssetName, (typeof sources)[AssetName]][]) {
    const hash = Bun.hash(src.body).toString(36).slice(0, 10);
    const dot = name.lastIndexOf('.');
    const asset = { ...src, file: `${name.slice(0, dot)}.${hash}${name.slice(dot)}` };
    byName.set(name, asset);
    byFile.set(asset.file, asset);
  }
  return {
    url: (name) => `${basePath}/public/${byName.get(name)!.file}`,
    find: (file) => byFile.get(file),
  };
}

export const healthAndAssetRoutes = (readiness: Store['readiness'], assets: Assets) =>
  new Elysia({ name: 'health-and-assets' })
    .get('/health', () => ({ status: 'ok' }))
    .get('/ready', async ({ set }) => {
      const r = await readiness();
      set.status = r.ok ? 200 : 503;
      return { status: r.ok ? 'ready' : 'not_ready', detail: r.detail };
    })
    .get('/public/:file', ({ params, set }) => {
      const asset = assets.find(params.file);
      if (!asset) {
        set.status = 404;
        return 'Not found';
      }
      return new Response(asset.body, {
        headers: { 'content-type': asset.type, 'cache-control': 'public, max-age=31536000, immutable' },
      });
    });
