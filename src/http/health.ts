/** Liveness (no I/O: the process answers) and readiness (store reachable, schema current). */
import { Elysia } from 'elysia';
import type { Store } from '../store/store.ts';

export const healthRoutes = (store: Store) =>
  new Elysia({ name: 'health', seed: store })
    .get('/health', () => ({ status: 'ok' }))
    .get('/ready', async ({ set }) => {
      const r = await store.readiness();
      set.status = r.ok ? 200 : 503;
      return { status: r.ok ? 'ready' : 'not_ready', detail: r.detail };
    });
