/**
 * A local stand-in for the Braintrust API on 127.0.0.1, answering the endpoints the SDK calls
 * (../shared/notes/toolchain.md): login, experiment registration, version, logs3 (the rows). It
 * records what arrived. `mode`: answer normally; with HTTP 500 to everything; never; with a body
 * that is not JSON (HTTP 200) to everything; or normally until `failAfter` rows (dataset records
 * and experiment rows) are stored, then HTTP 500 to every further request that sends rows.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Registered {
  project_name: string;
  experiment_name: string;
  base_exp_id?: string;
  metadata?: Record<string, unknown>;
}

export interface FakeBraintrust {
  url: string;
  requests: string[];
  experiments: Registered[];
  /** Rows logged, with their experiment id (merge rows that only update timing are left out). */
  rows: Array<Record<string, unknown>>;
  /** Dataset records inserted, by dataset id (`ds-<name>`); served back by /btql. */
  datasets: Map<string, Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

export type FakeMode = 'ok' | '500' | 'hang' | 'garbage' | { failAfter: number };

export async function fakeBraintrust(mode: FakeMode = 'ok'): Promise<FakeBraintrust> {
  const state = { requests: [] as string[], experiments: [] as Registered[], rows: [] as Array<Record<string, unknown>>, datasets: new Map<string, Array<Record<string, unknown>>>() };
  const server: Server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const path = (req.url ?? '').split('?')[0]!;
    state.requests.push(`${req.method} ${path}`);
    if (mode === 'hang') return; // never answer
    const stored = [...state.datasets.values()].reduce((n, rows) => n + rows.length, state.rows.length);
    if (mode === '500' || (typeof mode === 'object' && path === '/logs3' && stored >= mode.failAfter)) {
      res.statusCode = 500;
      res.end('internal error');
      return;
    }
    if (mode === 'garbage') {
      res.setHeader('content-type', 'text/html');
      res.end('<html>garbage</html>');
      return;
    }
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    res.setHeader('content-type', 'application/json');
    if (path === '/api/apikey/login') return void res.end(JSON.stringify({ org_info: [{ id: 'org-1', name: 'acme', api_url: url, proxy_url: url }] }));
    if (path === '/api/experiment/register') {
      const b = JSON.parse(body) as Registered;
      state.experiments.push(b);
      const experiment = { id: `exp-${b.experiment_name}`, name: b.experiment_name, project_id: 'proj-1', created: new Date().toISOString(), public: false };
      return void res.end(JSON.stringify({ project: { id: 'proj-1', name: b.project_name }, experiment }));
    }
    if (path === '/api/dataset/register') {
      const b = JSON.parse(body) as { project_name: string; dataset_name: string };
      const dataset = { id: `ds-${b.dataset_name}`, name: b.dataset_name, project_id: 'proj-1', created: new Date().toISOString() };
      return void res.end(JSON.stringify({ project: { id: 'proj-1', name: b.project_name }, dataset }));
    }
    if (path === '/logs3') {
      const b = JSON.parse(body) as { rows: Array<Record<string, unknown>> };
      for (const r of b.rows) {
        if (typeof r.dataset_id === 'string') {
          const list = state.datasets.get(r.dataset_id) ?? [];
          list.push({ ...r, _xact_id: String(list.length + 1) });
          state.datasets.set(r.dataset_id, list);
        } else if (r.input !== undefined) state.rows.push(r);
      }
    }
    if (path === '/btql') {
      const q = JSON.parse(body) as { query: { from: { args: Array<{ value: string }> } } };
      return void res.end(JSON.stringify({ data: state.datasets.get(q.query.from.args[0]!.value) ?? [], cursor: null }));
    }
    res.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ...state,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
