import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RestPages } from '../rest/rest-server.js';
import { DASHBOARD_HTML } from './dashboard-page.js';
import type { ClusterObserver } from './cluster-snapshot.js';

/** Where the dashboard and its JSON live on the scheduler's REST port. */
export const DASHBOARD_PATH = '/dashboard/';
export const DASHBOARD_STATE_PATH = '/dashboard/state';

function send(response: ServerResponse, type: string, body: string): void {
  response.writeHead(200, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' }).end(body);
}

/** GET /dashboard/ (the page; /dashboard redirects so the page's relative `state` URL resolves) and GET /dashboard/state (JSON). */
export function dashboardPages(observer: ClusterObserver): RestPages {
  return new Map([
    ['/dashboard', (_request: IncomingMessage, response: ServerResponse) => void response.writeHead(302, { Location: DASHBOARD_PATH }).end()],
    [DASHBOARD_PATH, (_request: IncomingMessage, response: ServerResponse) => send(response, 'text/html; charset=utf-8', DASHBOARD_HTML)],
    [DASHBOARD_STATE_PATH, async (_request: IncomingMessage, response: ServerResponse) => send(response, 'application/json', JSON.stringify(await observer.snapshot()))],
  ]);
}
